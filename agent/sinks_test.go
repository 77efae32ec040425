package agent

import (
	"strings"
	"testing"

	"github.com/tally-inventory/tally/sync/export"
	"github.com/tally-inventory/tally/sync/sinks"
	"github.com/tally-inventory/tally/sync/webhook"
)

// An unknown key under sync: names the line and lists what is registered.
func TestUnknownSinkListsRegistered(t *testing.T) {
	_, err := ParseConfig("t.yaml", []byte("sync:\n  interval: 5s\n  kohaa:\n    url: https://k.example\n"))
	want := `t.yaml:3: unknown key "sync.kohaa": sync takes interval and the sinks ` + strings.Join(sinks.Names(), ", ")
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v\nwant %s…", err, want)
	}
	// A key inside a sink's section is checked against its own struct.
	_, err = ParseConfig("t.yaml", []byte("sync:\n  webhook:\n    url: https://h.example\n    secret: x\n"))
	if err == nil || !strings.HasPrefix(err.Error(), `t.yaml:4: unknown key "sync.webhook.secret"`) {
		t.Errorf("unknown webhook key: %v", err)
	}
}

func TestSinksBuildsByName(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TALLY_WEBHOOK_SECRET", "s")
	sc := SyncConfig{Sinks: map[string]sinks.Config{
		"webhook": &webhook.Config{URL: "https://h.example/t"},
		"export":  &export.Config{Dir: dir},
	}}
	got, err := Sinks(sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.Name())
	}
	if strings.Join(names, " ") != "export webhook" {
		t.Errorf("sinks %v, want export webhook", names)
	}
	sc.Sinks["nosuch"] = &export.Config{Dir: dir}
	if _, err := Sinks(sc, nil); err == nil || !strings.Contains(err.Error(), `no sink "nosuch": the sinks are export, koha,`) {
		t.Errorf("unregistered sink: %v", err)
	}
}
