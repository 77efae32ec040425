package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func realFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "agent", "catalog", "testdata", "real", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// importDir is a fresh directory with TALLY_DB in it.
func importDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TALLY_DB", filepath.Join(dir, "tally.db"))
	return dir
}

func runImport(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runMain(context.Background(), append([]string{"import"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// A union file with one barcode on two holdings (records 77 and 78 of
// marc4j's pride-and-prejudice-fixed.mrc): a located row error, so that
// --skip-invalid imports the rest and writes the record it rejected.
func TestImportUnionFileDuplicate(t *testing.T) {
	dir := importDir(t)
	pp := filepath.Join(dir, "pp.mrc")
	data := realFile(t, "pride-and-prejudice-10-77-78.mrc")
	os.WriteFile(pp, data, 0o644)

	code, _, errs := runImport(t, pp)
	if code == 0 || strings.Contains(errs, "more than one file") ||
		!strings.Contains(errs, pp+":3 (byte 1552): 852 #1 of 1 at byte 2308 (barcode 502162051): barcode 502162051 is already on record 2") ||
		!strings.Contains(errs, "1 bad rows: nothing was imported; fix them, or import the good rows with --skip-invalid rejects.mrc") {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
	rej := filepath.Join(dir, "rejects.mrc")
	code, out, errs := runImport(t, "--skip-invalid", rej, pp)
	if code != 0 || !strings.Contains(out, "2 added, 0 updated, 0 unchanged, 0 removed, 1 rejected") {
		t.Fatalf("--skip-invalid: exit %d\n%s%s", code, out, errs)
	}
	got, _ := os.ReadFile(rej)
	if !bytes.Equal(got, data[707+845:]) {
		t.Errorf("rejects file holds %d bytes, want record 3 (845 bytes) as it was", len(got))
	}
	if notes, _ := os.ReadFile(rej + ".txt"); !strings.Contains(string(notes), "record 1: "+pp+":3 (byte 1552)") {
		t.Errorf("rejects notes: %q", notes)
	}

	// The same barcode in two files is still the cross-file error, after
	// the row errors.
	other := filepath.Join(dir, "other.mrc")
	os.WriteFile(other, data[:707], 0o644)
	code, _, errs = runImport(t, pp, other)
	i, j := strings.Index(errs, "already on record 2"), strings.Index(errs, "barcode 302816652 appears in more than one file ("+pp+":1 and "+other+":1)")
	if code == 0 || i < 0 || j < i {
		t.Errorf("two files: exit %d\n%s", code, errs)
	}
}

// A summary line never reports fewer problems than there were: 157
// records after a point where the MARCXML breaks are rejected too.
func TestImportSummaryCountsUnreadRecords(t *testing.T) {
	dir := importDir(t)
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n")
	for i := range 160 {
		title := "Title " + strconv.Itoa(i)
		if i == 2 {
			title = "Smith & Jones" // an unescaped ampersand
		}
		b.WriteString("<record><leader>00000nam a2200000   4500</leader><datafield tag=\"245\" ind1=\"0\" ind2=\"0\"><subfield code=\"a\">" + title +
			"</subfield></datafield><datafield tag=\"952\" ind1=\" \" ind2=\" \"><subfield code=\"p\">B" + strconv.Itoa(i) + "</subfield></datafield></record>\n")
	}
	b.WriteString("</collection>\n")
	x := filepath.Join(dir, "koha.xml")
	os.WriteFile(x, []byte(b.String()), 0o644)
	code, out, errs := runImport(t, "--skip-invalid", filepath.Join(dir, "rejects.xml"), x)
	if code != 0 || !strings.Contains(out, "2 added, 0 updated, 0 unchanged, 0 removed, 158 rejected") ||
		!strings.Contains(errs, "158 bad rows (157 of them records that could not be read at all)") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
}

// --skip-invalid writes the rejected rows, with the messages beside them,
// in the input's own format (here Koha's semicolon CSV).
func TestImportRejectsFileHasTheRows(t *testing.T) {
	dir := importDir(t)
	in := filepath.Join(dir, "items.csv")
	os.WriteFile(in, []byte("barcode;title;status\n1;Good;available\n2;Bad;borrowed\n"), 0o644)
	rej := filepath.Join(dir, "rejects.csv")
	if code, out, errs := runImport(t, "--skip-invalid", rej, in); code != 0 || !strings.Contains(out, "1 added") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	got, _ := os.ReadFile(rej)
	if !regexp.MustCompile(`^barcode;title;status;error\n2;Bad;borrowed;"[^"]*items.csv:3: status: unknown status`).Match(got) {
		t.Errorf("rejects file:\n%s", got)
	}
	// --replace with rejected rows would remove their items: refused.
	if code, _, errs := runImport(t, "--skip-invalid", rej, "--replace", in); code == 0 || !strings.Contains(errs, "--replace would remove") {
		t.Errorf("--replace with rejects: exit %d %s", code, errs)
	}
}

// The same catalog as MARC-8 ISO 2709 and as decomposed UTF-8 MARCXML is
// the same catalog: the second import changes nothing.
func TestImportSameCatalogOtherFormatUnchanged(t *testing.T) {
	dir := importDir(t)
	mrc := filepath.Join(dir, "lul.mrc")
	data := realFile(t, "lul_fre_100-1-5.mrc")
	os.WriteFile(mrc, data, 0o644)
	if code, out, errs := runImport(t, mrc); code != 0 || !strings.Contains(out, "5 added") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	// Record 5 (Faguet) as an exporter that writes NFD would give it.
	x := `<?xml version="1.0" encoding="UTF-8"?>
<collection xmlns="http://www.loc.gov/MARC21/slim"><record><leader>00699nam a2200217 a 4500</leader>
<controlfield tag="008">970701q1890    fr           u000 0 fre u</controlfield>
<datafield tag="100" ind1="1" ind2=" "><subfield code="a">Faguet, E` + "\u0301" + `mile,</subfield><subfield code="d">1847-1916.</subfield></datafield>
<datafield tag="245" ind1="0" ind2="0"><subfield code="a">Dix-huitie` + "\u0300" + `me sie` + "\u0300" + `cle :</subfield><subfield code="b">e` + "\u0301" + `tudes litte` + "\u0301" + `raires /</subfield><subfield code="c">E` + "\u0301" + `mile Faguet.</subfield></datafield>
<datafield tag="260" ind1=" " ind2=" "><subfield code="a">Paris :</subfield><subfield code="b">Boivin,</subfield><subfield code="c">1890?.</subfield></datafield>
<datafield tag="949" ind1=" " ind2=" "><subfield code="a">PQ263F3 1890</subfield><subfield code="w">LC</subfield><subfield code="i">30007001934487</subfield><subfield code="r">Y</subfield><subfield code="t">BOOKS</subfield><subfield code="l">DESM-CIR</subfield><subfield code="m">DESMARAIS</subfield></datafield>
</record></collection>
`
	xf := filepath.Join(dir, "faguet.xml")
	os.WriteFile(xf, []byte(x), 0o644)
	if code, out, errs := runImport(t, xf); code != 0 || !strings.Contains(out, "0 added, 0 updated, 1 unchanged") {
		t.Errorf("re-import as NFD MARCXML: exit %d\n%s%s", code, out, errs)
	}
}
