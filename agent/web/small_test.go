package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/report"
)

func TestNumbersForPeople(t *testing.T) {
	for _, tc := range []struct {
		seen, exp int
		want      string
	}{
		{0, 12000, "0.0%"}, {1, 12000, "<0.1%"}, {11, 12000, "<0.1%"}, {12, 12000, "0.1%"},
		{11999, 12000, "99.9%"}, {12000, 12000, "100.0%"}, {3, 0, "0.0%"},
	} {
		if got := report.Percent(tc.seen, tc.exp); got != tc.want {
			t.Errorf("report.Percent(%d, %d) = %q, want %q", tc.seen, tc.exp, got, tc.want)
		}
	}
	if p := progressOf(2, 40000); p.Text != "2 of 40,000 seen (<0.1%)" {
		t.Errorf("progress text %q", p.Text)
	}
	for c, want := range map[int64]string{0: "0.00", 5: "0.05", 99771: "997.71", 123456789: "1,234,567.89", -250000: "-2,500.00"} {
		if got := money(c); got != want {
			t.Errorf("money(%d) = %q, want %q", c, got, want)
		}
	}
	sum := summaryForPeople(report.Table{Rows: [][]string{{"inventory", "1 — Fiction"}, {"items expected", "12000"},
		{"items seen (in scope)", "3"}, {"progress", "0.0%"}, {"missing", "11997"}, {"missing replacement value", "239940.00"}}})
	want := map[string]string{"inventory": "1 — Fiction", "items expected": "12,000", "items seen (in scope)": "3",
		"progress": "<0.1%", "missing": "11,997", "missing replacement value": "239,940.00"}
	for _, r := range sum.Rows {
		if r[1] != want[r[0]] {
			t.Errorf("summary %s: %q, want %q", r[0], r[1], want[r[0]])
		}
	}
}

// TestTimeTicksDistinct: a walk of reads within one second still gets
// time labels that differ.
func TestTimeTicksDistinct(t *testing.T) {
	t0 := time.Date(2027, 3, 1, 10, 15, 3, 200e6, time.Local)
	px := func(x time.Time) float64 { return float64(x.Sub(t0)) }
	for _, span := range []time.Duration{0, 3 * time.Millisecond, 400 * time.Millisecond, 999 * time.Millisecond,
		2 * time.Second, 20 * time.Second, 5 * time.Minute, 3 * time.Hour, 30 * time.Hour} {
		ticks := timeTicks(t0, span, px, 0)
		seen := map[string]bool{}
		for _, tk := range ticks {
			if seen[tk.Text] {
				t.Errorf("span %v: label %q twice in %+v", span, tk.Text, ticks)
			}
			seen[tk.Text] = true
		}
		if span >= 3*time.Millisecond*3 && len(ticks) < 2 {
			t.Errorf("span %v: only %d labels", span, len(ticks))
		}
		if ticks[0].Anchor != "start" || len(ticks) > 1 && ticks[len(ticks)-1].Anchor != "end" {
			t.Errorf("span %v: the end labels would leave the chart: %+v", span, ticks)
		}
	}
}

// TestUndoSaysWhatItTookBack, through the API and the plain form.
func TestUndoSaysWhatItTookBack(t *testing.T) {
	e := newEnv(t, Opts{})
	c := newClient(t, e.s)
	tok := c.token()
	e.read(t, e.sess, "F1")
	e.read(t, e.sess, "F2")
	w := c.postJSON("/api/sessions/1/undo", nil, tok)
	var d struct{ Text string }
	json.Unmarshal(w.Body.Bytes(), &d)
	if want := "Took back: On shelf — Baker Street · FIC BAK · F2"; d.Text != want {
		t.Errorf("API undo says %q, want %q", d.Text, want)
	}
	w = c.postForm("/sessions/1/undo", form("csrf", tok))
	loc := w.Header().Get("Location")
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/sessions/1?undone=") {
		t.Fatalf("form undo: %d %s", w.Code, loc)
	}
	page := c.get(loc).Body.String()
	if !strings.Contains(page, "Took back: On shelf — Ant Hill · FIC ADA · F1") {
		t.Errorf("the page after a form undo does not say what it took back")
	}
	// A made-up id says nothing.
	if page := c.get("/sessions/1?undone=999").Body.String(); strings.Contains(page, "Took back") {
		t.Error("undo note for a read that was not undone")
	}
}

// TestPausedSessionOffersResume: a read into a paused session, from the
// UI, offers the Resume button (and from the API, its URL), never a CLI
// command.
func TestPausedSessionOffersResume(t *testing.T) {
	e := newEnv(t, Opts{})
	c := newClient(t, e.s)
	tok := c.token()
	if w := c.postForm("/sessions/1/state", form("csrf", tok, "state", "paused")); w.Code != http.StatusSeeOther {
		t.Fatalf("pause: %d", w.Code)
	}
	w := c.postForm("/sessions/1/reads", form("csrf", tok, "code", "F1"))
	body := w.Body.String()
	if w.Code != http.StatusConflict || !strings.Contains(body, `action="/sessions/1/state"`) || !strings.Contains(body, `name="state" value="open"`) ||
		!strings.Contains(body, "Resume session 1") {
		t.Fatalf("form read into a paused session: %d, no Resume button:\n%s", w.Code, body)
	}
	if strings.Contains(body, "tally session") {
		t.Errorf("the UI tells the librarian to run a CLI command:\n%s", body)
	}
	w = c.postJSON("/api/sessions/1/reads", ReadRequest{"F1"}, tok)
	var d struct{ Error, Resume string }
	json.Unmarshal(w.Body.Bytes(), &d)
	if w.Code != http.StatusConflict || d.Resume != "/api/sessions/1/state" || strings.Contains(d.Error, "tally session") {
		t.Fatalf("API read into a paused session: %d %s", w.Code, w.Body)
	}
	// The button works: resume, back to the scan screen, the read goes in.
	w = c.postForm("/sessions/1/state", form("csrf", tok, "state", "open", "back", "/sessions/1"))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/sessions/1" {
		t.Fatalf("resume: %d %v", w.Code, w.Header())
	}
	if w := c.postForm("/sessions/1/reads", form("csrf", tok, "code", "F1")); w.Code != http.StatusSeeOther {
		t.Fatalf("read after resume: %d %s", w.Code, w.Body)
	}
	// An ended session points to a new session, not a resume.
	c.postForm("/sessions/1/state", form("csrf", tok, "state", "ended"))
	body = c.postForm("/sessions/1/reads", form("csrf", tok, "code", "F2")).Body.String()
	if strings.Contains(body, "Resume session") || !strings.Contains(body, "Start a new session") {
		t.Errorf("ended session advice:\n%s", body)
	}
}
