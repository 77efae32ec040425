package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxProfileSize bounds what Load reads: a profile is a few hundred bytes,
// and a YAML bomb must not take the agent down.
const maxProfileSize = 64 << 10

// FieldError is one problem in one profile file.
type FieldError struct {
	File  string // file name as given to Load
	Line  int    // 1-based; 0 when unknown
	Field string // dotted path such as "match[0].vid"; "" for the whole file
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// raw* mirror the YAML; Load turns them into the typed Profile.
type rawProfile struct {
	Name        string       `yaml:"name"`
	Vendor      string       `yaml:"vendor"`
	Model       string       `yaml:"model"`
	Description string       `yaml:"description"`
	Kind        string       `yaml:"kind"`
	Notes       []string     `yaml:"notes"`
	Init        []rawCommand `yaml:"init"`
	Match       []rawMatch   `yaml:"match"`

	Mode        string       `yaml:"mode"`
	Decode      *rawDecode   `yaml:"decode"`
	SetupFormat string       `yaml:"setup_format"`
	Setup       []rawSetting `yaml:"setup"`

	Serial      *rawSerial `yaml:"serial"`
	Protocol    string     `yaml:"protocol"`
	ASCIIFormat string     `yaml:"ascii_format"`
	Address     *int       `yaml:"address"`
	PowerDBm    *float64   `yaml:"power_dbm"`
	Region      string     `yaml:"region"`
	Antennas    []int      `yaml:"antennas"`
	BlockOrder  string     `yaml:"block_order"`
	Blocks      *int       `yaml:"blocks"`
	ReadPC      bool       `yaml:"read_pc"`
	TagData     []string   `yaml:"tag_data"`
}

type rawMatch struct {
	VID       string `yaml:"vid"`
	PID       string `yaml:"pid"`
	UsagePage string `yaml:"usage_page"`
	Interface *int   `yaml:"interface"`
}

type rawDecode struct {
	Layout                string `yaml:"layout"`
	Terminator            string `yaml:"terminator"`
	StripCodabarStartStop bool   `yaml:"strip_codabar_startstop"`
	StripAIM              bool   `yaml:"strip_aim"`
}

type rawSetting struct {
	Label   string `yaml:"label"`
	Code    string `yaml:"code"`
	Explain string `yaml:"explain"`
}

type rawSerial struct {
	Port     string `yaml:"port"`
	Baud     int    `yaml:"baud"`
	DataBits *int   `yaml:"data_bits"`
	Parity   string `yaml:"parity"`
	StopBits *int   `yaml:"stop_bits"`
}

type rawCommand struct {
	Hex     string `yaml:"hex"`
	Menu    string `yaml:"menu"`
	Feature string `yaml:"feature"`
	Note    string `yaml:"note"`
}

// Load parses and validates one profile. name is the file name, used in
// every error and checked against the profile's name field. All problems
// found are returned, joined; each is a *FieldError.
func Load(name string, data []byte) (*Profile, error) {
	l := &loader{file: name, lines: map[string]int{}}
	p := l.load(data)
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	return p, nil
}

// LoadDir loads every *.yaml file in fsys (recursively). It returns the
// profiles sorted by name, or every error of every file, joined, so one
// bad file does not hide another.
func LoadDir(fsys fs.FS) ([]*Profile, error) { return loadDir(fsys, "") }

// LoadFile loads and validates the profile file at path (as `tally profiles
// check` and `tally sheet FILE` do); errors name path and the line.
func LoadFile(path string) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxProfileSize+1)); err != nil {
		return nil, &FieldError{File: path, Msg: err.Error()}
	}
	return Load(path, buf.Bytes())
}

// WithUser returns the built-in profiles and those in the directory dir
// (a school's own scanners and readers), loaded by the same strict rules,
// sorted by name. Errors name each file by its path under dir. A user
// profile may not take a built-in one's name: the config would silently
// mean another device.
func WithUser(dir string) ([]*Profile, error) {
	ps, err := Builtin()
	if err != nil || dir == "" {
		return ps, err
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("profiles_dir: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("profiles_dir: %s is not a directory", dir)
	}
	user, err := loadDir(os.DirFS(dir), dir)
	if err != nil {
		return nil, err
	}
	var errs []error
	out := append([]*Profile(nil), ps...)
	for _, u := range user {
		if b, err := Find(ps, u.Name); err == nil {
			errs = append(errs, &FieldError{File: u.File, Line: KeyLine(u.File, "name"), Field: "name",
				Msg: fmt.Sprintf("%q is a built-in profile (%s); give yours another name", u.Name, b)})
			continue
		}
		out = append(out, u)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// KeyLine is the line of a top-level key in a profile file, 0 if unknown.
func KeyLine(path, key string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key+":") {
			return i + 1
		}
	}
	return 0
}

// loadDir loads every profile under fsys; prefix (a directory on disk, or
// "") goes before each file name in profiles and errors.
func loadDir(fsys fs.FS, prefix string) ([]*Profile, error) {
	var (
		out  []*Profile
		errs []error
		seen = map[string]string{}
	)
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isYAML(p) {
			return nil
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		name := p
		if prefix != "" {
			name = filepath.Join(prefix, filepath.FromSlash(p))
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(io.LimitReader(f, maxProfileSize+1)); err != nil {
			errs = append(errs, &FieldError{File: name, Msg: err.Error()})
			return nil
		}
		prof, err := Load(name, buf.Bytes())
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if other, dup := seen[prof.Name]; dup {
			errs = append(errs, &FieldError{File: name, Field: "name",
				Msg: fmt.Sprintf("profile %q is also defined in %s; names must be unique", prof.Name, other)})
			return nil
		}
		seen[prof.Name] = name
		out = append(out, prof)
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("read profiles: %w", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func isYAML(p string) bool {
	ext := path.Ext(p)
	return ext == ".yaml" || ext == ".yml"
}

type loader struct {
	file  string
	lines map[string]int // field path -> line of its key (or item)
	errs  []error
}

// errf records an error at field path f; the line is that of f or of its
// nearest parent that appears in the file.
func (l *loader) errf(f string, format string, args ...any) {
	l.errs = append(l.errs, &FieldError{File: l.file, Line: l.line(f), Field: f, Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) line(f string) int {
	for f != "" {
		if n, ok := l.lines[f]; ok {
			return n
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return l.lines[""]
}

// fieldAt returns the deepest field path whose key is on line n.
func (l *loader) fieldAt(n int) string {
	best := ""
	for f, ln := range l.lines {
		if ln == n && (len(f) > len(best) || (len(f) == len(best) && f < best)) {
			best = f
		}
	}
	return best
}

func (l *loader) has(f string) bool { _, ok := l.lines[f]; return ok }

func (l *loader) load(data []byte) *Profile {
	if len(data) > maxProfileSize {
		l.errf("", "file is larger than %d bytes; a profile is a few hundred", maxProfileSize)
		return nil
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			l.errf("", "empty file; a profile needs at least name, vendor, model and kind")
			return nil
		}
		l.yamlErr(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.errs = append(l.errs, &FieldError{File: l.file, Line: extra.Line, Msg: "more than one YAML document; put one profile per file"})
		return nil
	}
	if len(doc.Content) == 0 {
		l.errf("", "empty file")
		return nil
	}
	root := doc.Content[0]
	l.lines[""] = root.Line
	// Walk the tree first for unknown keys and positions: it reports every
	// unknown key with the list of known ones, where the decoder stops at
	// the first error of a kind.
	l.walk(root, reflect.TypeOf(rawProfile{}), "")
	if len(l.errs) > 0 {
		return nil
	}
	var raw rawProfile
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&raw); err != nil {
		l.yamlErr(err)
		return nil
	}
	return l.validate(&raw)
}

var lineRE = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlErr turns yaml's errors into FieldErrors with the file name.
func (l *loader) yamlErr(err error) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, e := range te.Errors {
			fe := &FieldError{File: l.file, Msg: e}
			if m := lineRE.FindStringSubmatch(e); m != nil {
				fe.Line, _ = strconv.Atoi(m[1])
				fe.Msg = m[2]
				fe.Field = l.fieldAt(fe.Line)
			}
			l.errs = append(l.errs, fe)
		}
		return
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	fe := &FieldError{File: l.file, Msg: msg}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		fe.Line, _ = strconv.Atoi(m[1])
		fe.Msg = m[2]
	}
	l.errs = append(l.errs, fe)
}

// walk records the line of every field and reports keys the schema does
// not have, and values of the wrong shape.
func (l *loader) walk(n *yaml.Node, t reflect.Type, at string) {
	if n.Kind == yaml.AliasNode {
		// Following aliases would let a few bytes expand exponentially
		// (a "billion laughs" file); profiles are short enough to write out.
		l.errs = append(l.errs, &FieldError{File: l.file, Line: n.Line, Field: at,
			Msg: fmt.Sprintf("alias *%s: aliases are not allowed in profiles; write the value out", n.Value)})
		return
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if n.Tag == "!!null" {
				return
			}
			l.errf(at, "want a mapping of keys, got %s", describe(n))
			return
		}
		fields := map[string]reflect.Type{}
		var known []string
		for i := 0; i < t.NumField(); i++ {
			tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
			fields[tag] = t.Field(i).Type
			known = append(known, tag)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if at != "" {
				p = at + "." + k.Value
			}
			l.lines[p] = k.Line
			ft, ok := fields[k.Value]
			if !ok {
				l.errs = append(l.errs, &FieldError{File: l.file, Line: k.Line, Field: p,
					Msg: fmt.Sprintf("unknown field %q; known fields here: %s", k.Value, strings.Join(known, ", "))})
				continue
			}
			l.walk(v, ft, p)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			if n.Tag == "!!null" {
				return
			}
			l.errf(at, "want a list, got %s", describe(n))
			return
		}
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", at, i)
			l.lines[p] = c.Line
			l.walk(c, t.Elem(), p)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			l.errf(at, "want a single value, got %s", describe(n))
		}
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}
