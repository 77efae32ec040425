package outbox_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tally-inventory/tally/sync/outbox"
)

// webhookSchema compiles schema/webhook-event.schema.json, the documented
// form of an Event.
func webhookSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	const id = "https://github.com/tally-inventory/tally/schema/webhook-event.schema.json"
	f, err := os.Open(filepath.Join("..", "..", "schema", "webhook-event.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// events is one event of each kind, with the fields the engine and
// finalize write for it.
func events() []outbox.Event {
	sighting := outbox.Data{InventoryID: 3, Inventory: "Spring 2027", Barcode: "31000001", Date: "2027-03-01",
		At: "2027-03-01T09:30:00Z", SessionID: 7, Device: "wand-1"}
	with := func(f func(d *outbox.Data)) outbox.Data { d := sighting; f(&d); return d }
	missing := outbox.Data{InventoryID: 3, Inventory: "Spring 2027", Barcode: "31000001", Date: "2027-03-20",
		LostValue: new(0), Since: "2027-03-01T08:00:00Z", Title: "Gone", CallNumber: "FIC GON", PriceCents: 1599}
	data := map[outbox.Kind]outbox.Data{
		outbox.Seen:  sighting,
		outbox.Found: with(func(d *outbox.Data) { d.Was, d.ClearLost = "lost", new(false) }),
		outbox.Misplaced: with(func(d *outbox.Data) {
			d.Home, d.Library, d.Location = "MAIN / FIC", "MAIN", "FIC"
		}),
		outbox.CheckedOutOnShelf: with(func(d *outbox.Data) { d.CheckIn, d.DueDate = new(false), "2027-03-10" }),
		outbox.Unknown:           with(func(d *outbox.Data) { d.Barcode, d.Code = "", "39999999" }),
		outbox.CartMissing:       missing,
		outbox.CartForeign: with(func(d *outbox.Data) {
			d.Cart, d.HomeCart, d.AssetTag, d.Serial = "CART-A", "CART-B", "CB-0031", "SN1"
		}),
		outbox.Missing: missing,
	}
	var out []outbox.Event
	for i, k := range outbox.Kinds {
		bc := data[k].Barcode
		if k == outbox.Unknown {
			bc = data[k].Code
		}
		out = append(out, outbox.Event{ID: int64(i + 1), Key: outbox.Key(3, bc, k), Kind: k, InventoryID: 3, Barcode: bc,
			CreatedAt: time.Date(2027, 3, 1, 9, 30, 0, 0, time.UTC), Attempt: 1, Data: data[k]})
	}
	return out
}

// TestEventFitsWebhookSchema: an Event of every kind, as JSON, fits the
// documented webhook body, and passes Check; the same events with a field
// their kind requires taken away do not fit, and Check names the field.
func TestEventFitsWebhookSchema(t *testing.T) {
	sch := webhookSchema(t)
	valid := func(ev outbox.Event) error {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("%s: %v", ev.Kind, err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return sch.Validate(v)
	}
	for _, ev := range events() {
		if err := valid(ev); err != nil {
			t.Errorf("%s does not fit the webhook schema: %v", ev.Kind, err)
		}
		if err := ev.Data.Check(ev.Kind); err != nil {
			t.Errorf("%s: Check: %v", ev.Kind, err)
		}
	}
	// The pointer fields: a false or zero the kind requires is written, and
	// the field is absent where it was not set.
	strip := map[outbox.Kind]func(d *outbox.Data) string{
		outbox.Seen:              func(d *outbox.Data) string { d.At = ""; return "at" },
		outbox.Found:             func(d *outbox.Data) string { d.ClearLost = nil; return "clear_lost" },
		outbox.Misplaced:         func(d *outbox.Data) string { d.Home = ""; return "home" },
		outbox.CheckedOutOnShelf: func(d *outbox.Data) string { d.CheckIn = nil; return "check_in" },
		outbox.Unknown:           func(d *outbox.Data) string { d.Code = ""; return "code" },
		outbox.CartMissing:       func(d *outbox.Data) string { d.LostValue = nil; return "lost_value" },
		outbox.CartForeign:       func(d *outbox.Data) string { d.Cart = ""; return "cart" },
		outbox.Missing:           func(d *outbox.Data) string { d.Since = ""; return "since" },
	}
	for _, ev := range events() {
		field := strip[ev.Kind](&ev.Data)
		if valid(ev) == nil {
			t.Errorf("%s without %s fits the schema", ev.Kind, field)
		}
		if err := ev.Data.Check(ev.Kind); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s without %s: Check = %v", ev.Kind, field, err)
		}
	}
}

// TestFalseIsWritten: the flags and the lost value a kind requires are
// written when false or zero, so a receiver can tell "no" from "not said".
func TestFalseIsWritten(t *testing.T) {
	b, _ := json.Marshal(outbox.Data{InventoryID: 1, Date: "2027-03-01", ClearLost: new(false), LostValue: new(0)})
	if s := string(b); !strings.Contains(s, `"clear_lost":false`) || !strings.Contains(s, `"lost_value":0`) || strings.Contains(s, "check_in") {
		t.Errorf("data %s", s)
	}
}

// TestUnknownKind: a kind tally does not know is refused on the way out
// (marshal) and when a row is read, with the kind and the known kinds in
// the error; a receiver decoding a body of a newer kind keeps the kind
// (the schema asks receivers to ignore what they do not know), and only a
// malformed kind fails to decode.
func TestUnknownKind(t *testing.T) {
	ev := events()[0]
	ev.Kind = "stolen"
	_, err := json.Marshal(ev)
	checkErr := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), `unknown event kind "stolen"`) || !strings.Contains(err.Error(), "checked_out_on_shelf") {
			t.Errorf("%s: %v, want an error naming the kind and the known kinds", what, err)
		}
	}
	checkErr("marshal", err)
	var got outbox.Event
	if err := json.Unmarshal([]byte(`{"id":1,"kind":"stolen","data":{}}`), &got); err != nil || got.Kind != "stolen" {
		t.Errorf("unmarshal of a newer kind: %v, kind %q; want it kept", err, got.Kind)
	}
	for _, bad := range []string{`""`, `"Stolen"`, `"stolen!"`, `"a b"`} {
		if err := json.Unmarshal([]byte(`{"id":1,"kind":`+bad+`,"data":{}}`), &got); err == nil {
			t.Errorf("unmarshal of kind %s accepted", bad)
		}
	}
	checkErr("check", outbox.Data{}.Check("stolen"))
	_, err = outbox.Row{ID: 9, Key: "inv1/3/stolen", Kind: "stolen", Payload: json.RawMessage(`{}`)}.Event(1)
	checkErr("row", err)
	if !strings.Contains(err.Error(), "9 (inv1/3/stolen)") {
		t.Errorf("row error %q does not name the row", err)
	}
	for _, k := range outbox.Kinds {
		if kk, err := outbox.ParseKind(string(k)); err != nil || kk != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, kk, err)
		}
	}
}

// TestRowEvent: a stored row becomes the event of its attempt, its payload
// decoded; a payload that is not Data is an error naming the row.
func TestRowEvent(t *testing.T) {
	r := outbox.Row{ID: 4, Key: "inv1/31/found", Kind: "found", InventoryID: 1, Barcode: "31",
		Payload:   json.RawMessage(`{"inventory_id":1,"inventory":"Spring","barcode":"31","date":"2027-03-01","was":"lost","clear_lost":true}`),
		CreatedAt: time.Date(2027, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600))}
	ev, err := r.Event(2)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != outbox.Found || ev.Attempt != 2 || !outbox.Flag(ev.Data.ClearLost) || ev.Data.Was != "lost" ||
		ev.CreatedAt.Location() != time.UTC || !ev.CreatedAt.Equal(r.CreatedAt) {
		t.Errorf("event %+v", ev)
	}
	r.Payload = json.RawMessage(`{"at": 5}`)
	if _, err := r.Event(1); err == nil || !strings.Contains(err.Error(), "4 (inv1/31/found): payload") {
		t.Errorf("bad payload: %v", err)
	}
}

// FuzzRowEvent feeds arbitrary kinds and payloads to the row decoder: it
// never panics; a row it accepts has a known kind and its event goes to
// JSON and back unchanged; a row it refuses is named in the error.
func FuzzRowEvent(f *testing.F) {
	for _, ev := range events() {
		b, _ := json.Marshal(ev.Data)
		f.Add(string(ev.Kind), b)
	}
	f.Add("seen", []byte(`{"at": 5}`))
	f.Add("stolen", []byte(`{}`))
	f.Add("found", []byte(`{"clear_lost": null, "lost_value": 1e99}`))
	f.Add("", []byte(``))
	f.Fuzz(func(t *testing.T, kind string, payload []byte) {
		r := outbox.Row{ID: 42, Key: "inv1/x/" + kind, Kind: kind, InventoryID: 1, Barcode: "x", Payload: payload}
		ev, err := r.Event(1)
		if err != nil {
			if !strings.Contains(err.Error(), "42 (inv1/x/") {
				t.Fatalf("error does not name the row: %v", err)
			}
			return
		}
		if !ev.Kind.Valid() {
			t.Fatalf("accepted kind %q", ev.Kind)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("accepted event does not marshal: %v", err)
		}
		var back outbox.Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s does not unmarshal: %v", b, err)
		}
		b2, _ := json.Marshal(back)
		if string(b) != string(b2) {
			t.Fatalf("round trip:\n%s\n%s", b, b2)
		}
	})
}
