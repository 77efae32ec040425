package catalog

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// WriteRejects writes the rejected rows of r in the file's own shape, so
// that they can be corrected and imported again, with the messages beside
// them: a CSV gets its header plus an "error" column; MARCXML becomes a
// <collection> whose records each follow a comment with their messages.
// ISO 2709 has no place for text beside a record, so the records go to w
// and the messages (record number in the rejects file, where it was, what
// is wrong) to notes. A problem with no row to copy (a file that stops
// being well-formed XML) is written as a message only.
func (r *Result) WriteRejects(w, notes io.Writer) error {
	groups := r.rejectGroups()
	switch {
	case r.Format != FormatMARC:
		return r.writeCSVRejects(w, groups)
	case r.XML:
		return writeXMLRejects(w, groups)
	}
	n := 0
	for _, g := range groups {
		if g.raw != "" {
			n++
			if _, err := io.WriteString(w, g.raw); err != nil {
				return err
			}
			fmt.Fprintf(notes, "record %d: %s\n", n, strings.Join(g.msgs, "\n  "))
			continue
		}
		fmt.Fprintf(notes, "(not copied): %s\n", strings.Join(g.msgs, "\n  "))
	}
	return nil
}

// rejectGroup is one rejected row or record with all its messages.
type rejectGroup struct {
	raw  string
	msgs []string
}

func (r *Result) rejectGroups() []rejectGroup {
	var gs []rejectGroup
	at := map[string]int{}
	for _, e := range r.Errors {
		key := fmt.Sprintf("%d\x00%d\x00%s", e.Line, e.Offset, e.Raw)
		if r.Format == FormatMARC && e.Raw != "" {
			key = e.Raw // the holdings of one record share it
		}
		if i, ok := at[key]; ok && e.Raw != "" {
			gs[i].msgs = append(gs[i].msgs, e.Error())
			continue
		}
		at[key] = len(gs)
		gs = append(gs, rejectGroup{raw: e.Raw, msgs: []string{e.Error()}})
	}
	return gs
}

func (r *Result) writeCSVRejects(w io.Writer, groups []rejectGroup) error {
	cw := csv.NewWriter(w)
	cw.Comma = r.Comma
	if cw.Comma == 0 {
		cw.Comma = ','
	}
	header := append([]string(nil), r.Header...)
	errCol := -1
	for i, h := range header {
		if headerKey(h) == "error" {
			errCol = i
		}
	}
	if errCol < 0 {
		errCol = len(header)
		header = append(header, "error")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, g := range groups {
		row := make([]string, len(header))
		cr := csv.NewReader(strings.NewReader(g.raw))
		cr.Comma, cr.FieldsPerRecord, cr.LazyQuotes = cw.Comma, -1, true
		if fields, err := cr.Read(); err == nil && len(fields) <= len(header) {
			copy(row, fields)
		} else if len(header) > 1 {
			row[0] = g.raw // keep the text as it was
		}
		row[errCol] = strings.Join(g.msgs, "; ")
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeXMLRejects(w io.Writer, groups []rejectGroup) error {
	if _, err := io.WriteString(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\""+marcXMLNS+"\" xmlns:marc=\""+marcXMLNS+"\">\n"); err != nil {
		return err
	}
	for _, g := range groups {
		// "--" may not appear inside an XML comment.
		msg := strings.ReplaceAll(strings.Join(g.msgs, "\n     "), "--", "- -")
		fmt.Fprintf(w, "<!-- %s -->\n", msg)
		if g.raw != "" {
			fmt.Fprintf(w, "%s\n", g.raw)
		}
	}
	_, err := io.WriteString(w, "</collection>\n")
	return err
}
