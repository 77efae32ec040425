package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/licensecheck"
)

var update = flag.Bool("update", false, "rewrite THIRD_PARTY_NOTICES.md")

// TestNoticesUpToDate keeps the checked-in notices what the generator writes
// from go.mod's modules: adding, removing or upgrading a dependency without
// `make notices` fails here.
func TestNoticesUpToDate(t *testing.T) {
	root := filepath.Join("..", "..")
	got, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "THIRD_PARTY_NOTICES.md")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		i := 0
		for i < len(g) && i < len(w) && g[i] == w[i] {
			i++
		}
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		t.Errorf("THIRD_PARTY_NOTICES.md is stale: run `make notices` and commit it\nline %d is   %q\nwould become %q", i+1, wl, gl)
	}
	// Every dependency that compiles C in says so: the libusb row is there.
	if !bytes.Contains(got, []byte("| libusb (C) in github.com/karalabe/hid |")) || !bytes.Contains(got, []byte("LGPL-2.1-or-later | linux/amd64, linux/arm64 |")) {
		t.Error("no libusb LGPL-2.1-or-later row for the Linux targets")
	}
}

// The repository's own licence is the one the notices and README name.
func TestOwnLicence(t *testing.T) {
	for file, want := range map[string]string{
		"LICENSE":                        "Apache-2.0",
		"LICENSES/LGPL-2.1-or-later.txt": "LGPL-2.1",
	} {
		b, err := os.ReadFile(filepath.Join("..", "..", file))
		if err != nil {
			t.Fatal(err)
		}
		c := licensecheck.Scan(b)
		if ids := matchIDs(c); len(ids) != 1 || ids[0] != want || c.Percent < 99 {
			t.Errorf("%s: licensecheck finds %v covering %.1f%%, want the whole %s text", file, ids, c.Percent, want)
		}
	}
}

func TestClassify(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goroot, err := goEnv(".", "GOROOT")
	if err != nil {
		t.Fatal(err)
	}
	goLicence, err := os.ReadFile(filepath.Join(goroot, "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	bsd := write("LICENSE", string(goLicence))
	notice := write("NOTICE", "Copyright someone\n")
	id, _, err := classify(&module{Path: "example.com/a", Dir: dir}, []string{bsd, notice})
	if err != nil || id != "BSD-3-Clause" {
		t.Errorf("classify(BSD LICENSE, NOTICE) = %q, %v; want BSD-3-Clause", id, err)
	}

	odd := write("COPYING", "You may use this if you are nice.\n")
	_, _, err = classify(&module{Path: "example.com/b", Dir: dir}, []string{odd})
	if err == nil || !strings.Contains(err.Error(), "add an entry to stated") {
		t.Errorf("classify(unrecognised text) = %v; want an error asking for a stated entry", err)
	}
	_, _, err = classify(&module{Path: "example.com/c", Dir: dir}, []string{notice})
	if err == nil {
		t.Error("classify(only a NOTICE) gave no error")
	}
}

func TestProve(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.c"), []byte("/* This file is released under the MIT license. */\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p  part
		ok bool
	}{
		{part{Module: "m", Proof: "x.c", Says: "released under the MIT license"}, true},
		{part{Module: "m", Proof: "x.c", Says: "released under the BSD license"}, false},
		{part{Module: "m", Proof: "gone.c", Says: "anything"}, false},
		{part{Module: "m", Proof: "x.c", ID: "LGPL-2.1-or-later"}, false},
	} {
		if err := tc.p.prove(dir); (err == nil) != tc.ok {
			t.Errorf("prove(%+v) = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

func TestLicenceFiles(t *testing.T) {
	mod := t.TempDir()
	sub := filepath.Join(mod, "internal", "vendored", "pkg")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(mod, "LICENSE"), filepath.Join(mod, "internal", "vendored", "LICENSE.txt")} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir, files, err := licenceFiles(sub, mod)
	if err != nil || dir != "internal/vendored" || len(files) != 1 {
		t.Errorf("licenceFiles(nested) = %q, %v, %v; want the nearest directory internal/vendored", dir, files, err)
	}
	dir, _, err = licenceFiles(filepath.Join(mod, "internal"), mod)
	if err != nil || dir != "." {
		t.Errorf("licenceFiles(no nearer licence) = %q, %v; want the module root", dir, err)
	}
	if err := os.Remove(filepath.Join(mod, "LICENSE")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := licenceFiles(filepath.Join(mod, "internal"), mod); err == nil {
		t.Error("licenceFiles found a licence in a module without one")
	}
}
