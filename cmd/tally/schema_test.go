package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/webhook/webhooktest"
)

// schemas compiles the repository's JSON Schemas (schema/).
func schemas(t *testing.T) *jsonschema.Compiler {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, name := range []string{"webhook-event.schema.json", "sync.schema.json"} {
		f, err := os.Open(filepath.Join("..", "..", "schema", name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.AddResource("https://github.com/tally-inventory/tally/schema/"+name, doc); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func validate(t *testing.T, c *jsonschema.Compiler, ref, what string, doc []byte) {
	t.Helper()
	sch, err := c.Compile("https://github.com/tally-inventory/tally/schema/" + ref)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("%s does not fit %s:\n%s\n%v", what, ref, doc, err)
	}
}

// TestJSONSchemas: every request body the webhook sink sends for a real
// inventory (scanned and finalized through the CLI) fits
// schema/webhook-event.schema.json, and the sync --json outputs fit
// schema/sync.schema.json — with dead letters, back-off and a pending
// backlog in them.
func TestJSONSchemas(t *testing.T) {
	c := schemas(t)
	dir, rows := syncFixture(t)
	secret := []byte("s")
	os.WriteFile(filepath.Join(dir, "secret"), secret, 0o600)
	rc := webhooktest.New(secret)
	defer rc.Close()
	rc.SetFault(func(m outbox.Event, _ int) webhooktest.Fault {
		if m.Kind == outbox.Unknown {
			return webhooktest.Reject // a dead letter for the status output
		}
		return webhooktest.OK
	})
	args := []string{"--webhook-url", rc.URL(), "--webhook-secret-file", filepath.Join(dir, "secret")}
	validate(t, c, "sync.schema.json#/$defs/once", "sync once --json", []byte(tally(t, "", append([]string{"sync", "once", "--json"}, args...)...)))

	kinds := map[string]bool{}
	for key, body := range rc.Bodies() {
		validate(t, c, "webhook-event.schema.json", "webhook body of "+key, body)
		kinds[key[strings.LastIndex(key, "/")+1:]] = true
	}
	for k := range rows {
		if k != "unknown" && !kinds[k] {
			t.Errorf("no %s event reached the receiver: the schema check did not see that kind", k)
		}
	}
	validate(t, c, "sync.schema.json#/$defs/status", "sync status --json", []byte(tally(t, "", "sync", "status", "--json")))

	// With the receiver down: pending rows, a back-off, times to come.
	rc.Down()
	out := tally(t, "", append([]string{"sync", "once", "--json", "--max-time", "1s"}, args...)...)
	validate(t, c, "sync.schema.json#/$defs/once", "sync once --json (receiver down)", []byte(out))
}

// TestSchemaRejects: the schemas can fail: a Go field name, a year-1 time
// and a body without its key are refused.
func TestSchemaRejects(t *testing.T) {
	c := schemas(t)
	for _, tc := range []struct{ ref, doc string }{
		{"sync.schema.json#/$defs/status", `{"outbox":{"Pending":1,"Done":0,"Dead":0},"sinks":[],"dead_letters":[]}`},
		{"sync.schema.json#/$defs/status", `{"outbox":{"pending":1,"done":0,"dead":0,"last_done":"0001-01-01T00:00:00Z"},"sinks":[],"dead_letters":[]}`},
		{"webhook-event.schema.json", `{"id":1,"kind":"seen","inventory_id":1,"barcode":"3","created_at":"2027-03-01T10:00:00Z","attempt":1,"data":{}}`},
	} {
		sch, err := c.Compile("https://github.com/tally-inventory/tally/schema/" + tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := jsonschema.UnmarshalJSON(strings.NewReader(tc.doc))
		if sch.Validate(v) == nil {
			t.Errorf("%s accepted %s", tc.ref, tc.doc)
		}
	}
}
