package callnumber

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSortLines(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"lf", "FIC ROW\n599.75 ROW\nQA76.73 .P98 2020\n", "599.75 ROW\nFIC ROW\nQA76.73 .P98 2020\n"},
		{"bom crlf blank", "\uFEFFFIC ROWLING\r\n\r\n  \r\n599.8 ABC\r\nFIC ROW c.2\r\n599.75 ROW", "599.75 ROW\n599.8 ABC\nFIC ROW c.2\nFIC ROWLING\n"},
		{"natural", "Cart 10\ncart 2\nCart 1\n", "Cart 1\ncart 2\nCart 10\n"},
		{"trim", "  FIC ROW  \n\tE CAR\n", "E CAR\nFIC ROW\n"},
		{"bom only", "\uFEFF\n", ""},
		{"empty", "", ""},
		{"invalid utf8", "FIC \xffROW\nE CAR\n", "E CAR\nFIC \xffROW\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := SortLines(strings.NewReader(tt.in), &out); err != nil {
			t.Errorf("%s: SortLines: %v", tt.name, err)
			continue
		}
		if out.String() != tt.want {
			t.Errorf("%s: SortLines(%q) = %q, want %q", tt.name, tt.in, out.String(), tt.want)
		}
	}
}

func TestSortLinesGolden(t *testing.T) {
	want := readLines(t, goldenPath)
	rev := make([]string, len(want))
	for i, s := range want {
		rev[len(want)-1-i] = s
	}
	var out bytes.Buffer
	if err := SortLines(strings.NewReader(strings.Join(rev, "\r\n")), &out); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != strings.Join(want, "\n")+"\n" {
		t.Errorf("SortLines of the reversed golden list is not the golden order")
	}
}

func TestSortLinesTooLong(t *testing.T) {
	in := "FIC ROW\n599 ABC\n" + strings.Repeat("x", maxLine+1) + "\n"
	err := SortLines(strings.NewReader(in), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "line 3 (byte offset 16)") {
		t.Fatalf("SortLines with a %d-byte line: err = %v, want it to name line 3 at byte offset 16", maxLine+1, err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("device gone") }

func TestSortLinesIOErrors(t *testing.T) {
	if err := SortLines(strings.NewReader("FIC ROW\n"), failWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("write error: got %v", err)
	}
	if err := SortLines(failReader{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "device gone") {
		t.Errorf("read error: got %v", err)
	}
}
