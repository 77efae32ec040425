// Package systemd_test checks the shipped systemd unit and sysusers file:
// the keys the agent's safety depends on, their agreement with the udev
// rules, and — when systemd-analyze is installed — systemd's own verdict.
package systemd_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// unit is a parsed unit file: section → key → values in file order (keys
// such as DeviceAllow= repeat; an empty assignment resets the list, as in
// systemd).
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	n := 0
	var cont string
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if cont != "" {
			line = cont + " " + line
			cont = ""
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cont = strings.TrimSuffix(line, `\`)
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				t.Fatalf("%s:%d: bad section header %q", path, n, line)
			}
			section = line[1 : len(line)-1]
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section == "" {
			t.Fatalf("%s:%d: not key=value inside a section: %q", path, n, line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if v == "" {
			u[section][k] = []string{""}
			continue
		}
		if l := u[section][k]; len(l) == 1 && l[0] == "" {
			u[section][k] = nil
		}
		u[section][k] = append(u[section][k], v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// one returns the single (last) value of a key, failing when it is absent.
func (u unit) one(t *testing.T, section, key string) string {
	t.Helper()
	vs, ok := u[section][key]
	if !ok || len(vs) == 0 {
		t.Errorf("[%s] %s= is missing", section, key)
		return ""
	}
	return vs[len(vs)-1]
}

// words returns every space-separated word of every value of a key.
func (u unit) words(section, key string) []string {
	var w []string
	for _, v := range u[section][key] {
		w = append(w, strings.Fields(v)...)
	}
	return w
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestServiceUnit(t *testing.T) {
	u := parseUnit(t, "tally.service")
	svc := "Service"

	exec := strings.Fields(u.one(t, svc, "ExecStart"))
	if len(exec) < 4 || !filepath.IsAbs(exec[0]) || filepath.Base(exec[0]) != "tally" ||
		strings.Join(exec[1:], " ") != "run --config /etc/tally/tally.yaml" {
		t.Errorf("ExecStart=%s: want an absolute path to tally, then run --config /etc/tally/tally.yaml", strings.Join(exec, " "))
	}

	want := map[string]string{
		"User":             "tally",
		"Group":            "tally",
		"Restart":          "on-failure",
		"NoNewPrivileges":  "yes",
		"ProtectSystem":    "strict",
		"ProtectHome":      "yes",
		"PrivateTmp":       "yes",
		"StateDirectory":   "tally",
		"WorkingDirectory": "/var/lib/tally",
		"DevicePolicy":     "closed",
		// An empty bounding set: no capabilities at all.
		"CapabilityBoundingSet":   "",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectControlGroups":    "yes",
		"RestrictSUIDSGID":        "yes",
		"MemoryDenyWriteExecute":  "yes",
		"LockPersonality":         "yes",
		"SystemCallArchitectures": "native",
	}
	for k, v := range want {
		if _, ok := u[svc][k]; !ok {
			t.Errorf("[%s] %s=%s is missing", svc, k, v)
		} else if got := u.one(t, svc, k); got != v {
			t.Errorf("%s=%q, want %q", k, got, v)
		}
	}
	if u.one(t, "Install", "WantedBy") != "multi-user.target" {
		t.Errorf("WantedBy=%q, want multi-user.target", u.one(t, "Install", "WantedBy"))
	}

	// tally drains in flight reads within 5 s of SIGTERM: the stop timeout
	// must leave it that long, and not wait forever.
	if sig, ok := u[svc]["KillSignal"]; ok && sig[len(sig)-1] != "SIGTERM" {
		t.Errorf("KillSignal=%s: tally drains on SIGTERM", sig[len(sig)-1])
	}
	stop, err := seconds(u.one(t, svc, "TimeoutStopSec"))
	if err != nil || stop < 6*time.Second || stop > 30*time.Second {
		t.Errorf("TimeoutStopSec=%s: want between 6 and 30 seconds (the agent drains within 5 s)", u.one(t, svc, "TimeoutStopSec"))
	}

	// The database must be in the state directory, the only writable place.
	if env := u.words(svc, "Environment"); !has(env, "TALLY_DB=/var/lib/tally/tally.db") {
		t.Errorf("Environment=%v: want TALLY_DB=/var/lib/tally/tally.db", env)
	}

	if f := u.words(svc, "SystemCallFilter"); !has(f, "@system-service") {
		t.Errorf("SystemCallFilter=%v: want @system-service", f)
	}
	fam := u.words(svc, "RestrictAddressFamilies")
	for _, af := range []string{"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"} {
		if !has(fam, af) {
			t.Errorf("RestrictAddressFamilies=%v lacks %s", fam, af)
		}
	}
	if has(fam, "AF_PACKET") || (len(fam) > 0 && strings.HasPrefix(fam[0], "~")) {
		t.Errorf("RestrictAddressFamilies=%v: want an allow list without AF_PACKET", fam)
	}

	// Every device class the drivers open, and nothing else by wildcard.
	var classes []string
	for _, v := range u[svc]["DeviceAllow"] {
		f := strings.Fields(v)
		if len(f) != 2 || !strings.Contains(f[1], "r") || !strings.Contains(f[1], "w") {
			t.Errorf("DeviceAllow=%s: want DEVICE rw", v)
			continue
		}
		classes = append(classes, f[0])
		if f[0] == "char-*" || f[0] == "block-*" || strings.HasPrefix(f[0], "block-") {
			t.Errorf("DeviceAllow=%s is too broad", v)
		}
	}
	for _, c := range []string{"char-usb_device", "char-hidraw", "char-ttyUSB", "char-ttyACM", "char-gpiochip"} {
		if !has(classes, c) {
			t.Errorf("DeviceAllow lacks %s (have %v)", c, classes)
		}
	}
}

// seconds parses a systemd time span as the unit uses it: "10" (seconds),
// "10s", "10sec", "1min 30s".
func seconds(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	r := strings.NewReplacer("sec", "s", "min", "m", " ", "")
	return time.ParseDuration(r.Replace(s))
}

// The groups the udev rules hand devices to must be groups the service
// runs with: its Group=, SupplementaryGroups=, or memberships the sysusers
// file creates.
func TestUnitGroupsCoverUdevRules(t *testing.T) {
	u := parseUnit(t, "tally.service")
	groups := map[string]bool{}
	for _, g := range append(u.words("Service", "Group"), u.words("Service", "SupplementaryGroups")...) {
		groups[g] = true
	}
	user := u.one(t, "Service", "User")
	sysusers, err := os.ReadFile("tally.sysusers")
	if err != nil {
		t.Fatal(err)
	}
	var created bool
	for _, line := range strings.Split(string(sysusers), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch {
		case f[0] == "u" && f[1] == user:
			created = true
			if len(f) < 3 || f[2] != "-" {
				t.Errorf("sysusers: %q: let systemd pick a system uid", line)
			}
			if !strings.Contains(line, "/var/lib/tally") {
				t.Errorf("sysusers: %q: home should be the state directory /var/lib/tally", line)
			}
		case f[0] == "m" && f[1] == user && len(f) >= 3:
			groups[f[2]] = true
		}
	}
	if !created {
		t.Errorf("tally.sysusers does not create user %s", user)
	}

	rules, err := os.ReadFile(filepath.Join("..", "udev", "70-tally.rules"))
	if err != nil {
		t.Fatal(err)
	}
	ruleGroups := regexp.MustCompile(`GROUP="([^"]+)"`).FindAllStringSubmatch(string(rules), -1)
	if len(ruleGroups) == 0 {
		t.Fatal("70-tally.rules sets no GROUP: nothing would let the service open devices")
	}
	reported := map[string]bool{}
	for _, m := range ruleGroups {
		if !groups[m[1]] && !reported[m[1]] {
			reported[m[1]] = true
			t.Errorf("udev rules give devices to group %q, but the service (groups %v) is not in it", m[1], groups)
		}
	}
	for _, g := range []string{"dialout", "gpio"} {
		if !groups[g] {
			t.Errorf("the service user is not in group %s (the Pi's UART / GPIO)", g)
		}
	}
}

// systemd's own checks: the unit parses, every directive is known, and the
// sandbox scores as "OK" or better. The ExecStart binary is replaced by one
// that exists, because verify insists on it.
func TestSystemdAnalyze(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	data, err := os.ReadFile("tally.service")
	if err != nil {
		t.Fatal(err)
	}
	stub, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) to stand in for the tally binary")
	}
	dir := t.TempDir()
	unitPath := filepath.Join(dir, "tally.service")
	text := strings.Replace(string(data), "ExecStart=/usr/local/bin/tally ", "ExecStart="+stub+" ", 1)
	if text == string(data) {
		t.Fatal("ExecStart is not /usr/local/bin/tally: update this test with the unit")
	}
	if err := os.WriteFile(unitPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", unitPath).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	out, err = exec.Command(sa, "security", "--offline=true", "--no-pager", unitPath).CombinedOutput()
	if err != nil && strings.Contains(string(out), "offline") {
		t.Skipf("this systemd-analyze has no offline security check: %s", out)
	}
	m := regexp.MustCompile(`Overall exposure level for tally\.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: no exposure level in\n%s", out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	// systemd: < 2 is "OK", < 5 "MEDIUM"; a device service needs some access.
	if score >= 2.0 {
		t.Errorf("exposure level %.1f, want < 2.0 (OK)\n%s", score, out)
	}
}
