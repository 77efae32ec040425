package catalog

import (
	"bytes"
	"strings"
	"testing"
)

func read(t *testing.T, data []byte, name string) *Result {
	t.Helper()
	res, err := Read(bytes.NewReader(data), name, FormatAuto)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

func hasWarning(res *Result, parts ...string) bool {
	for _, w := range res.Warnings {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(w.Error(), p)
		}
		if ok {
			return true
		}
	}
	return false
}

// What is accepted with a caveat is said, with the value and the place.
func TestWarningsSayWhatWasDropped(t *testing.T) {
	res := read(t, mustRead(t, "testdata/csv/koha_items_table/input.csv"), "items.csv")
	if !hasWarning(res, `items.csv:1:`, `"price"`, `reading "replacementprice"`) || !hasWarning(res, `"permanent_location"`, `reading "location"`) {
		t.Errorf("items table: warnings %v", res.Warnings)
	}
	res = read(t, []byte("barcode,title,Condition status,Home library\n1,A,torn,MAIN\n"), "x.csv")
	if !hasWarning(res, `x.csv:1: column 3 ("Condition status") not read`) || res.Records[0].Item.Library != "MAIN" {
		t.Errorf("unknown meaningful column: warnings %v", res.Warnings)
	}
	res = read(t, encodeMARC('a', df("245", "aX"), df("852", "p40009", "9P16.95usd")), "d.mrc")
	if !hasWarning(res, "d.mrc:1 (byte 0): 852 #1 of 1", `$9: price "P16.95usd" is not an amount`) {
		t.Errorf("852 $9: warnings %v", res.Warnings)
	}
	res = read(t, encodeXML("", hobbit, []mfield{df("245", "aDanish \x1fbtitle"), df("952", "pX2", "92")}), "c.xml")
	if !hasWarning(res, "c.xml:57:", "1 control character(s) not allowed in XML 1.0 in the record starting on line 57 (first at line 60)") || len(res.Records) != 4 {
		t.Errorf("control character: %d records, warnings %v", len(res.Records), res.Warnings)
	}
	res = read(t, mustRead(t, "testdata/csv/snipeit_list/input.csv"), "list.csv")
	if !hasWarning(res, `"CART-09" (line 7)`, "Custom Asset Report") || hasWarning(res, "Jordan Lee") {
		t.Errorf("Snipe-IT list: warnings %v", res.Warnings)
	}
}

// A summary never reports fewer problems than there were: records after a
// point where the XML stops being well-formed are counted as unread.
func TestUnreadRecordsAreCounted(t *testing.T) {
	recs := [][]mfield{hobbit, potter}
	for range 157 {
		recs = append(recs, waldo)
	}
	x := encodeXML("", recs...)
	x = bytes.Replace(x, []byte("<subfield code=\"a\">Rowling"), []byte("<subfield code=\"a\">Rowling & Co"), 1)
	res := read(t, x, "u.xml")
	if len(res.Records) != 3 || len(res.Errors) != 1 || res.Unread != 157 || res.Problems() != 158 {
		t.Fatalf("%d records, errors %v, unread %d", len(res.Records), res.Errors, res.Unread)
	}
	if !strings.Contains(res.Errors[0].Msg, "the 157 record(s) after this point were not read") {
		t.Errorf("message %q", res.Errors[0].Msg)
	}
}

// --skip-invalid writes the rejected rows themselves, in the input's
// format, with the messages beside them, ready to correct and import.
func TestRejectsKeepTheRows(t *testing.T) {
	in := "barcode;title;status\n1;Good;available\n2;Bad;borrowed\n;No barcode;\n"
	res := read(t, []byte(in), "s.csv")
	var out, notes bytes.Buffer
	if err := res.WriteRejects(&out, &notes); err != nil {
		t.Fatal(err)
	}
	want := "barcode;title;status;error\n2;Bad;borrowed;\"s.csv:3: status: unknown status \"\"borrowed\"\""
	if !strings.HasPrefix(out.String(), want) || !strings.Contains(out.String(), "\n;No barcode;;s.csv:4: barcode is empty") || notes.Len() != 0 {
		t.Errorf("CSV rejects:\n%s", out.String())
	}
	// The rejects file reads back: the same rows, fixed or not.
	back := read(t, out.Bytes(), "rejects.csv")
	if len(back.Errors) != 2 || len(back.Warnings) != 0 {
		t.Errorf("rejects file read back: %v %v", back.Errors, back.Warnings)
	}

	a, b, c := threeRecords()
	bad := corrupt(b, func(r []byte) []byte { copy(r[12:], "00200"); return r })
	res = read(t, concat(a, bad, c), "r.mrc")
	out.Reset()
	if err := res.WriteRejects(&out, &notes); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), bad) || !strings.HasPrefix(notes.String(), "record 1: r.mrc:2 (byte 523): leader/12-16 base address") {
		t.Errorf("ISO 2709 rejects: %d bytes, notes %q", out.Len(), notes.String())
	}

	res = read(t, encodeXML("marc", hobbit, []mfield{df("245", "aBad"), df("952", "p7", "r2024-13-45")}), "x.xml")
	out.Reset()
	if err := res.WriteRejects(&out, &notes); err != nil {
		t.Fatal(err)
	}
	back = read(t, out.Bytes(), "rejects.xml")
	if len(back.Errors) != 1 || !strings.Contains(out.String(), "<!-- x.xml:") || !strings.Contains(out.String(), "2024-13-45") {
		t.Errorf("MARCXML rejects:\n%s\nread back: %v", out.String(), back.Errors)
	}
}
