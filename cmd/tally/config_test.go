package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `tally config check` refuses exactly what `tally run` refuses, each
// problem located at its line, and run refuses it the same way, before it
// starts anything.
func TestConfigCheckIsRunsValidation(t *testing.T) {
	dir := t.TempDir()
	d := func(name string) string { return filepath.Join(dir, name) }
	os.WriteFile(d("short"), []byte("1234\n"), 0o600)
	os.WriteFile(d("pin3"), []byte("123\n"), 0o600)
	os.WriteFile(d("token"), []byte("correct-horse-battery\n"), 0o600)
	os.WriteFile(d("afile"), []byte("x"), 0o644)
	// Keys a case does not set are appended, so the lines of a case are
	// its own: the agent would listen on free loopback ports.
	withDefaults := func(y string) string {
		for _, kv := range []string{"database: " + d("tally.db"), "listen: 127.0.0.1:0", "metrics:\n  listen: \"\""} {
			key, _, _ := strings.Cut(kv, ":")
			if !strings.HasPrefix(y, key+":") && !strings.Contains(y, "\n"+key+":") {
				y += kv + "\n"
			}
		}
		return y
	}
	for _, tc := range []struct {
		name, yaml string
		want       []string
		notWant    string
	}{
		{name: "missing token file", yaml: "listen: 0.0.0.0:0\ntoken_file: " + d("nope") + "\n",
			want: []string{":2: token_file: read secret: open " + d("nope")}},
		{name: "token too short", yaml: "listen: 0.0.0.0:0\ntoken_file: " + d("short") + "\n",
			want: []string{":2: token_file: listening on 0.0.0.0:0 (not loopback): the login token has 4 characters, want at least 12"}},
		{name: "PIN too short on loopback", yaml: "listen: 127.0.0.1:0\ntoken_file: " + d("pin3") + "\n",
			want: []string{":2: token_file: the login PIN has 3 characters"}, notWant: "not loopback"},
		{name: "network without token", yaml: "listen: 0.0.0.0:0\n",
			want: []string{":1: listen: 0.0.0.0:0 is reachable from the network (not loopback), so token_file is required"}},
		{name: "koha url not a URL", yaml: "sync:\n  koha:\n    url: koha.example.org\n    user: tally\n    password_file: " + d("token") + "\n",
			want: []string{`:3: sync.koha.url: "koha.example.org" is not an http(s) URL`}},
		{name: "koha in_flight", yaml: "sync:\n  koha:\n    url: https://koha.example.org\n    user: tally\n    password_file: " + d("token") + "\n    in_flight: 100\n",
			want: []string{":6: sync.koha.in_flight: 100"}},
		{name: "koha password file missing", yaml: "sync:\n  koha:\n    url: https://koha.example.org\n    user: tally\n    password_file: " + d("nope") + "\n",
			want: []string{":5: sync.koha.password_file: read secret"}},
		{name: "missing metrics web config", yaml: "metrics:\n  listen: 127.0.0.1:0\n  web_config: " + d("web.yml") + "\n",
			want: []string{":3: metrics.web_config: " + d("web.yml")}},
		{name: "UI certificate missing", yaml: "tls_cert_file: " + d("nope.crt") + "\ntls_key_file: " + d("nope.key") + "\n",
			want: []string{":1: tls_cert_file: TLS certificate: open " + d("nope.crt")}},
		{name: "UI certificate without key", yaml: "tls_cert_file: " + d("afile") + "\n",
			want: []string{":1: tls_cert_file: give both tls_cert_file and tls_key_file"}},
		{name: "UI web config missing", yaml: "web_config: " + d("ui-web.yml") + "\n",
			want: []string{":1: web_config: web config: open " + d("ui-web.yml")}},
		{name: "GPIO pin that does not exist", yaml: "feedback:\n  buzzer: GPIO999\n  red: NOPE\n",
			want: []string{`:2: feedback.buzzer: no GPIO pin named "GPIO999"`, `:3: feedback.red: no GPIO pin named "NOPE"`}},
		{name: "negative dedupe window", yaml: "dedupe_window: -2s\n", want: []string{":1: dedupe_window: -2s is negative"}},
		{name: "sync interval 0s", yaml: "sync:\n  interval: 0s\n", want: []string{":2: sync.interval: 0s"}},
		{name: "negative rate_per_minute", yaml: "sync:\n  snipeit:\n    url: https://assets.example.org\n    token_file: " + d("token") + "\n    rate_per_minute: -5\n",
			want: []string{":5: sync.snipeit.rate_per_minute: -5 is negative"}},
		{name: "snipeit token file missing", yaml: "sync:\n  snipeit:\n    url: https://assets.example.org\n    token_file: " + d("nope") + "\n",
			want: []string{":2: sync.snipeit:", d("nope")}},
		{name: "webhook secret missing", yaml: "sync:\n  webhook:\n    url: https://hooks.example.org/tally\n    secret_file: " + d("nope") + "\n",
			want: []string{":4: sync.webhook.secret_file: read secret"}},
		{name: "sip2 address without port", yaml: "sync:\n  sip2:\n    addr: ils.example.org\n    user: tally\n",
			want: []string{`:3: sync.sip2.addr: "ils.example.org" is not host:port`}},
		{name: "export folder under a file", yaml: "sync:\n  export:\n    dir: " + d("afile") + "/export\n",
			want: []string{":3: sync.export.dir: " + d("afile") + " is not a folder"}},
		{name: "database folder missing", yaml: "database: " + d("no/such/tally.db") + "\n",
			want: []string{":1: database: folder " + d("no/such") + " does not exist"}},
		{name: "unknown profile", yaml: "devices:\n  - name: desk\n    profile: no-such-scanner\n",
			want: []string{":3: devices[0].profile: device desk:", "no-such-scanner"}},
		{name: "reader without port", yaml: "devices:\n  - name: ok\n    profile: generic-keyboard-wedge\n  - name: wand\n    profile: chafon-uhfreader288\n",
			want: []string{":4: devices[1]: device wand:", "serial port"}},
		{name: "unknown key", yaml: "metrics:\n  listen: \"\"\n  tls_config: x\n",
			want: []string{`:3: unknown key "metrics.tls_config"`}, notWant: "agent."},
		{name: "negative baud", yaml: "devices:\n  - name: w\n    profile: chafon-uhfreader288\n    port: /dev/null\n    baud: -1\n",
			want: []string{":5: devices[0].baud: -1 is negative"}},
		{name: "two problems at once", yaml: "dedupe_window: -1s\nsync:\n  interval: 0s\n",
			want: []string{":1: dedupe_window", ":3: sync.interval"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tally.yaml")
			os.WriteFile(path, []byte(withDefaults(tc.yaml)), 0o644)
			var outs []string
			for _, args := range [][]string{{"config", "check", path}, {"run", "--config", path}} {
				var out, errb bytes.Buffer
				// A run that passed the check would serve until this ends.
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				code := runMain(ctx, args, &out, &errb)
				cancel()
				msg := errb.String()
				if code == 0 {
					t.Errorf("tally %s accepted it:\n%s%s", strings.Join(args, " "), out.String(), msg)
					continue
				}
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("tally %s: %q lacks %q", args[0], msg, w)
					}
				}
				if !strings.Contains(msg, path+":") {
					t.Errorf("tally %s: %q does not name the file", args[0], msg)
				}
				if tc.notWant != "" && strings.Contains(msg, tc.notWant) {
					t.Errorf("tally %s: %q says %q", args[0], msg, tc.notWant)
				}
				_, after, _ := strings.Cut(msg, ": ") // "tally run: " vs "tally config: "
				outs = append(outs, after)
			}
			if len(outs) == 2 && outs[0] != outs[1] {
				t.Errorf("check and run say different things:\ncheck: %s\nrun:   %s", outs[0], outs[1])
			}
		})
	}
	// A good config passes both ways (run is stopped at once).
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(withDefaults("listen: 0.0.0.0:0\ntoken_file: "+d("token")+"\ndevices:\n  - name: desk\n    profile: generic-keyboard-wedge\n")), 0o644)
	if out := tally(t, "", "config", "check", good); !strings.Contains(out, "ok (1 devices") {
		t.Errorf("good config: %s", out)
	}
}
