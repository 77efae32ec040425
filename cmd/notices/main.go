// Command notices writes THIRD_PARTY_NOTICES.md: every third-party component
// compiled into the tally binary, its licence, and the licence and NOTICE texts
// a binary must ship with. It asks `go list -deps` which packages ./cmd/tally
// builds from on each release target, finds the licence files nearest each
// package in the module cache, and names their licences with
// github.com/google/licensecheck. C libraries that cgo compiles in from inside
// a Go module are not packages, so they are listed in bundled below, each with
// the file that proves its licence; the generator checks that file every run.
//
// `make notices` runs it; TestNoticesUpToDate fails when the checked-in file
// differs from what it writes. It needs only the module cache (`go mod
// download`), no network.
//
// It is a developer tool, not part of the tally binary.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/google/licensecheck"
)

// targets are the platforms tally is built for: `make build` on a Linux
// desktop, `make pi`, and the desktops README names. The set of packages, and
// so of licences, differs between them.
var targets = []string{"linux/amd64", "linux/arm64", "darwin/arm64", "windows/amd64"}

// minCoverage is how much of a licence file licensecheck must recognise
// before its answer is taken: below it the file says something more (or
// other) than the licence found, and needs a stated entry.
const minCoverage = 75

// A part is third-party code the generator cannot classify by itself: C
// compiled in from a module's subdirectory, or a licence file whose words
// licensecheck does not recognise. Each names the file that says its licence,
// and either licensecheck must find ID in it or it must contain Says.
type part struct {
	Module string // module path
	Name   string // what it is; "" for the module's own Go code
	ID     string // SPDX licence expression
	Proof  string // file in the module whose words give the licence
	Says   string // words in Proof that give it, when licensecheck cannot
	Text   string // the licence text to ship: a file in the module, or "repo:PATH"
	GOOS   string // the only GOOS it is compiled for; "" for all
	Note   string
}

// bundled is the C code cgo compiles into the binary from inside Go modules.
var bundled = []part{
	{
		Module: "github.com/mattn/go-sqlite3", Name: "SQLite (C amalgamation)",
		ID: "blessing", Proof: "sqlite3-binding.c", Says: "The author disclaims copyright to this source code.",
		Note: "public domain: SQLite's authors disclaim copyright; no text needs to be shipped",
	},
	{
		Module: "github.com/karalabe/hid", Name: "hidapi (C)",
		ID: "BSD-3-Clause", Proof: "hidapi/LICENSE-bsd.txt", Text: "hidapi/LICENSE-bsd.txt",
		Note: "hidapi is offered under GPL-3.0, BSD-3-Clause or its original licence, at the user's choice (hidapi/LICENSE.txt); tally takes BSD-3-Clause",
	},
	{
		Module: "github.com/karalabe/hid", Name: "libusb (C)",
		ID: "LGPL-2.1-or-later", Proof: "libusb/libusb/core.c", Text: "repo:LICENSES/LGPL-2.1-or-later.txt", GOOS: "linux",
		Note: "compiled in statically on Linux; see README \"Licence\" for what this asks of whoever ships the binary",
	},
}

// cgoOwn names the modules whose cgo code is their own, under the module's
// licence: nothing more is compiled in.
var cgoOwn = map[string]string{
	"github.com/prometheus/client_golang": "darwin process collector",
	"go.bug.st/serial":                    "darwin port enumerator",
}

// stated are licence files licensecheck cannot read.
var stated = []part{
	{
		Module: "github.com/karalabe/hid",
		ID:     "BSD-3-Clause", Proof: "hid_enabled.go", Says: "This file is released under the 3-clause BSD license.",
		Note: "LICENSE.md names each part's licence in prose; the Go code is BSD-3-Clause, as its file headers say",
	},
}

func main() {
	out := flag.String("o", "THIRD_PARTY_NOTICES.md", "file to write")
	flag.Parse()
	b, err := Generate(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "notices:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "notices:", err)
		os.Exit(1)
	}
}

type module struct {
	Path, Version, Dir string
	Replace            *module
}

type pkg struct {
	ImportPath string
	Dir        string
	Standard   bool
	CgoFiles   []string
	Module     *module
	Error      *struct{ Err string }
}

// A component is one row: a licence directory (or bundled part) and the
// targets it is built into.
type component struct {
	name, version, id, note string
	sort                    string // a bundled part sorts right after its module
	targets                 []string
	files                   []string // licence and NOTICE files to ship
}

// Generate returns the notices for the module rooted at root.
func Generate(root string) ([]byte, error) {
	goroot, err := goEnv(root, "GOROOT")
	if err != nil {
		return nil, err
	}
	comps := map[string]*component{}
	add := func(key string, c component, target string) {
		if have, ok := comps[key]; ok {
			if !slices.Contains(have.targets, target) {
				have.targets = append(have.targets, target)
			}
			return
		}
		c.targets = []string{target}
		comps[key] = &c
	}
	for _, t := range targets {
		pkgs, err := deps(root, t)
		if err != nil {
			return nil, err
		}
		goos := strings.Split(t, "/")[0]
		for _, p := range pkgs {
			if p.Error != nil {
				return nil, fmt.Errorf("%s on %s: %s", p.ImportPath, t, p.Error.Err)
			}
			if p.Standard {
				add("", component{name: "Go standard library and runtime", id: "BSD-3-Clause",
					files: []string{filepath.Join(goroot, "LICENSE")}}, t)
				continue
			}
			m := p.Module
			if m == nil {
				return nil, fmt.Errorf("%s is in no module", p.ImportPath)
			}
			if m.Replace != nil {
				m = m.Replace
			}
			if m.Version == "" { // the main module
				continue
			}
			if len(p.CgoFiles) > 0 {
				n := 0
				for _, b := range bundled {
					if b.Module == m.Path && (b.GOOS == "" || b.GOOS == goos) {
						n++
						key := m.Path + "#" + b.Name
						if _, ok := comps[key]; !ok {
							if err := b.prove(m.Dir); err != nil {
								return nil, err
							}
						}
						c := component{name: b.Name + " in " + m.Path, sort: m.Path + " " + b.Name, version: m.Version, id: b.ID, note: b.Note}
						if strings.HasPrefix(b.Text, "repo:") {
							c.files = []string{filepath.Join(root, strings.TrimPrefix(b.Text, "repo:"))}
						} else if b.Text != "" {
							c.files = []string{filepath.Join(m.Dir, b.Text)}
						}
						add(key, c, t)
					}
				}
				if _, ok := cgoOwn[m.Path]; !ok && n == 0 {
					return nil, fmt.Errorf("%s (%s) compiles C code with cgo on %s: say in bundled which C libraries it brings, or in cgoOwn that the C is its own", p.ImportPath, m.Path, t)
				}
			}
			dir, files, err := licenceFiles(p.Dir, m.Dir)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.ImportPath, err)
			}
			key := m.Path + "/" + dir
			if _, ok := comps[key]; ok {
				add(key, component{}, t)
				continue
			}
			name := m.Path
			if dir != "." {
				name = m.Path + "/" + dir
			}
			id, note, err := classify(m, files)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			add(key, component{name: name, sort: name, version: m.Version, id: id, note: note, files: files}, t)
		}
	}
	return render(comps), nil
}

// deps lists the packages ./cmd/tally builds from on target ("GOOS/GOARCH"),
// with cgo on as the Makefile builds it.
func deps(root, target string) ([]pkg, error) {
	goos, goarch, _ := strings.Cut(target, "/")
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,Standard,CgoFiles,Module,Error", "./cmd/tally")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=1", "GOWORK=off", "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list for %s: %v: %s", target, err, strings.TrimSpace(stderr.String()))
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list for %s: %w", target, err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

func goEnv(root, name string) (string, error) {
	cmd := exec.Command("go", "env", name)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

var licenceName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|notice|unlicense)([.-].*)?$`)

// licenceFiles walks up from a package's directory to its module's root and
// returns the first directory (relative to the module) holding licence files,
// and those files.
func licenceFiles(pkgDir, modDir string) (string, []string, error) {
	for d := pkgDir; ; d = filepath.Dir(d) {
		ents, err := os.ReadDir(d)
		if err != nil {
			return "", nil, err
		}
		var files []string
		for _, e := range ents {
			if !e.IsDir() && licenceName.MatchString(e.Name()) {
				files = append(files, filepath.Join(d, e.Name()))
			}
		}
		if len(files) > 0 {
			rel, err := filepath.Rel(modDir, d)
			return filepath.ToSlash(rel), files, err
		}
		if d == modDir || !strings.HasPrefix(d, modDir) {
			return "", nil, fmt.Errorf("no licence file between %s and its module root %s", pkgDir, modDir)
		}
	}
}

// classify names the licences of a module directory's licence files (NOTICE
// files are shipped, not classified).
func classify(m *module, files []string) (id, note string, err error) {
	var ids []string
	for _, f := range files {
		if isNotice(f) {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return "", "", err
		}
		cov := licensecheck.Scan(b)
		if cov.Percent < minCoverage {
			s, ok := statedFor(m.Path)
			if !ok {
				return "", "", fmt.Errorf("licensecheck recognises only %.0f%% of %s (%v): read it and add an entry to stated", cov.Percent, f, matchIDs(cov))
			}
			if err := s.prove(m.Dir); err != nil {
				return "", "", err
			}
			ids = append(ids, s.ID)
			note = s.Note
			continue
		}
		ids = append(ids, matchIDs(cov)...)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return "", "", errors.New("only NOTICE files, no licence")
	}
	return strings.Join(ids, " AND "), note, nil
}

func isNotice(f string) bool {
	return strings.HasPrefix(strings.ToLower(filepath.Base(f)), "notice")
}

func matchIDs(c licensecheck.Coverage) []string {
	var ids []string
	for _, m := range c.Match {
		if !m.IsURL {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

func statedFor(mod string) (part, bool) {
	for _, s := range stated {
		if s.Module == mod {
			return s, true
		}
	}
	return part{}, false
}

// prove checks that the part's proof file in modDir gives its licence.
func (p part) prove(modDir string) error {
	f := filepath.Join(modDir, filepath.FromSlash(p.Proof))
	b, err := os.ReadFile(f)
	if err != nil {
		return fmt.Errorf("%s: %w (the licence of %s is stated from it)", p.Module, err, p.what())
	}
	if p.Says != "" {
		if !bytes.Contains(b, []byte(p.Says)) {
			return fmt.Errorf("%s no longer says %q: check the licence of %s and update the entry", f, p.Says, p.what())
		}
		return nil
	}
	if ids := matchIDs(licensecheck.Scan(b)); !slices.Contains(ids, p.ID) {
		return fmt.Errorf("licensecheck finds %v in %s, not %s: check the licence of %s and update the entry", ids, f, p.ID, p.what())
	}
	return nil
}

func (p part) what() string {
	if p.Name == "" {
		return p.Module
	}
	return p.Name + " in " + p.Module
}

// render writes the notices: a table of components, then every distinct
// licence or NOTICE text once, with the components it covers.
func render(comps map[string]*component) []byte {
	list := make([]*component, 0, len(comps))
	for _, c := range comps {
		list = append(list, c)
	}
	// The standard library (sort key "") first, then by module.
	slices.SortFunc(list, func(a, b *component) int { return strings.Compare(a.sort, b.sort) })

	type text struct {
		body  string
		users []string
	}
	var texts []*text
	byBody := map[string]int{}
	refs := make([][]int, len(list))
	for i, c := range list {
		for _, f := range c.files {
			b, err := os.ReadFile(f)
			body := strings.TrimSpace(normalize(string(b)))
			if err != nil {
				body = "(missing: " + err.Error() + ")"
			}
			n, ok := byBody[body]
			if !ok {
				texts = append(texts, &text{body: body})
				n = len(texts)
				byBody[body] = n
			}
			texts[n-1].users = append(texts[n-1].users, c.name+" ("+filepath.Base(f)+")")
			if !slices.Contains(refs[i], n) {
				refs[i] = append(refs[i], n)
			}
		}
	}

	var w bytes.Buffer
	w.WriteString("# Third-party notices\n\n")
	w.WriteString("<!-- Generated by `make notices` (go run ./cmd/notices); do not edit. TestNoticesUpToDate fails when it is stale. -->\n\n")
	fmt.Fprintf(&w, "The `tally` binary (`./cmd/tally`, built with cgo for %s) compiles in the\n", strings.Join(targets, ", "))
	w.WriteString("third-party code below. tally itself is under the Apache License 2.0 (`LICENSE`). Ship this file\n")
	w.WriteString("with every copy of the binary: it carries the licence and NOTICE texts the components ask for.\n\n")
	w.WriteString("| Component | Version | Licence | Built for | Texts |\n| --- | --- | --- | --- | --- |\n")
	for i, c := range list {
		built := "all"
		if len(c.targets) < len(targets) {
			slices.Sort(c.targets)
			built = strings.Join(c.targets, ", ")
		}
		var ts []string
		for _, n := range refs[i] {
			ts = append(ts, fmt.Sprintf("[%d](#text-%d)", n, n))
		}
		ver := c.version
		if ver == "" {
			ver = "the Go toolchain used"
		}
		fmt.Fprintf(&w, "| %s | %s | %s | %s | %s |\n", c.name, ver, c.id, built, strings.Join(ts, " "))
	}
	w.WriteString("\n## Notes\n\n")
	for _, c := range list {
		if c.note != "" {
			fmt.Fprintf(&w, "- **%s**: %s.\n", c.name, c.note)
		}
	}
	w.WriteString("\n## Texts\n")
	for i, t := range texts {
		fmt.Fprintf(&w, "\n<a id=\"text-%d\"></a>\n### %d\n\nFor: %s.\n\n````text\n%s\n````\n", i+1, i+1, strings.Join(t.users, "; "), t.body)
	}
	return w.Bytes()
}

// normalize makes a text's line endings and trailing spaces the same
// wherever it was checked out.
func normalize(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Join(lines, "\n")
}
