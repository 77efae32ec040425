package agent

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/barcode"
	"github.com/tally-inventory/tally/drivers/feedback"
	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/transcript"
)

// signals records, in order, what the buzzer was told: reads' outcomes
// (Feedback) and control patterns (Controller.Signal).
type signals struct {
	mu  sync.Mutex
	got []string
	c   chan struct{}
}

func (s *signals) add(v string) {
	s.mu.Lock()
	s.got = append(s.got, v)
	s.mu.Unlock()
	s.c <- struct{}{}
}

func (s *signals) Feedback(device string, rd drivers.Read, res *Result, err error) {
	if err != nil {
		s.add(feedback.Error)
		return
	}
	s.add(string(res.Outcome))
}

func TestControlParseRoundTrip(t *testing.T) {
	for _, c := range []Control{{Cmd: CmdShelf, Inventory: 12}, {Cmd: CmdCart, Inventory: 3, Cart: "CART 01"},
		{Cmd: CmdPause}, {Cmd: CmdResume}, {Cmd: CmdEnd}, {Cmd: CmdUndo}, {Cmd: CmdOperator, Operator: "Ana"}} {
		got, err := ParseControl(barcode.Normalize(c.Code() + "\r"))
		if err != nil || got != c {
			t.Errorf("%s: parsed %+v, %v", c.Code(), got, err)
		}
	}
	for _, bad := range []string{"#TALLY:", "#TALLY:SHELF", "#TALLY:SHELF:x", "#TALLY:SHELF:0", "#TALLY:CART:1", "#TALLY:CART:1: ",
		"#TALLY:PAUSE:1", "#TALLY:OP:", "#TALLY:NAP", "TALLY:PAUSE"} {
		if c, err := ParseControl(bad); err == nil {
			t.Errorf("%q parsed as %+v", bad, c)
		}
	}
}

// A shelf session started, paused, resumed, undone and ended by scanning
// only: the shipped keyboard-wedge profile through the runtime's device
// factory, its key reports through the real HID decoder, into the device
// pipeline; the operator badge names every read after it.
func TestControlByScanningOnly(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, slices.Clone(fixture))
	inv, err := e.DB.CreateInventory(ctx, "Fiction", catalog.Scope{Locations: []string{"Fiction"}}, reconcile.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	ctl := func(c Control) string { return c.Code() }
	typed := []string{
		ctl(Control{Cmd: CmdPause}), // not in a session yet: refused
		ctl(Control{Cmd: CmdOperator, Operator: "Ana"}),
		ctl(Control{Cmd: CmdShelf, Inventory: inv.ID}),
		"F1", "F2",
		ctl(Control{Cmd: CmdUndo}), // takes back F2
		ctl(Control{Cmd: CmdPause}),
		"F3", // refused: paused
		ctl(Control{Cmd: CmdResume}),
		"F3",
		ctl(Control{Cmd: CmdEnd}),
		"F4", // refused: ended
	}
	want := []string{feedback.ControlRefused, feedback.OperatorSet, feedback.SessionStarted, "ok", "ok", feedback.Undone,
		feedback.SessionPaused, feedback.Error, feedback.SessionResumed, "ok", feedback.SessionEnded, feedback.Error}

	ps, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Find(ps, "generic-keyboard-wedge")
	if err != nil {
		t.Fatal(err)
	}
	var reports [][]byte
	for _, s := range typed {
		rs, err := hidscanner.KeyboardReports(s+"\r", string(p.Decode.Layout))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			reports = append(reports, append([]byte(nil), r[:]...))
		}
	}
	bus := &hidBus{}
	bus.plug(hidInfo(p, "1-1:1.0"), transcript.Reads(reports...))
	specs, err := DeviceSpecsEnv(&Config{Devices: []DeviceConfig{{Name: "wand", Profile: p.Name}}}, ps, OpenEnv{HID: bus})
	if err != nil {
		t.Fatal(err)
	}
	sig := &signals{c: make(chan struct{}, 64)}
	devs, err := NewDevices(e, specs, 0, sig)
	if err != nil {
		t.Fatal(err)
	}
	devs.Control = &Controller{DB: e.DB, Devs: devs, Actions: EngineControls{E: e, Devs: devs},
		Signal: func(_, pattern string) { sig.add(pattern) }}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { devs.Run(runCtx); close(done) }()
	timeout := time.After(20 * time.Second)
	for range want {
		select {
		case <-sig.c:
		case <-timeout:
			cancel()
			<-done
			t.Fatalf("signals so far %q, want %q", sig.got, want)
		}
	}
	cancel()
	<-done
	if !slices.Equal(sig.got, want) {
		t.Errorf("signals\n got %q\nwant %q", sig.got, want)
	}

	sess, err := e.DB.Sessions(ctx, inv.ID)
	if err != nil || len(sess) != 1 {
		t.Fatalf("sessions %v, %v", sess, err)
	}
	s := sess[0]
	if s.State != "ended" || s.Kind != "shelf" || s.Operator != "Ana" || s.Device != "wand" {
		t.Errorf("session %+v", *s)
	}
	rows, err := e.DB.SQL.QueryContext(ctx, "SELECT code, outcome, undone, operator FROM reads WHERE session_id = ? ORDER BY id", s.ID)
	if err != nil {
		t.Fatal(err)
	}
	var reads []string
	for rows.Next() {
		var code, outcome, op string
		var undone bool
		if err := rows.Scan(&code, &outcome, &undone, &op); err != nil {
			t.Fatal(err)
		}
		reads = append(reads, fmt.Sprintf("%s %s undone=%v by %s", code, outcome, undone, op))
	}
	rows.Close()
	if w := []string{"F1 ok undone=false by Ana", "F2 ok undone=true by Ana", "F3 ok undone=false by Ana"}; !slices.Equal(reads, w) {
		t.Errorf("journal\n got %q\nwant %q", reads, w)
	}
	cs, err := e.DB.Controls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var journal []string
	for _, c := range cs {
		line := fmt.Sprintf("%s session=%d by %s", c.Command, c.SessionID, c.Operator)
		if c.Refused != "" {
			line += " refused"
		}
		journal = append(journal, line)
	}
	sid := s.ID
	wantJ := []string{"pause session=0 by  refused", "op session=0 by Ana", fmt.Sprintf("shelf session=%d by Ana", sid),
		fmt.Sprintf("undo session=%d by Ana", sid), fmt.Sprintf("pause session=%d by Ana", sid),
		fmt.Sprintf("resume session=%d by Ana", sid), fmt.Sprintf("end session=%d by Ana", sid)}
	if !slices.Equal(journal, wantJ) {
		t.Errorf("control journal\n got %q\nwant %q", journal, wantJ)
	}
	if cs[0].Device != "wand" || !strings.Contains(cs[0].Refused, "not in a session") {
		t.Errorf("refused control %+v", cs[0])
	}
}

// A control barcode that reaches a session as a read (typed in the UI, or
// `tally scan`) is refused as an item, and journaled as such.
func TestControlRefusedAsItem(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, slices.Clone(fixture))
	inv, err := e.DB.CreateInventory(ctx, "Fiction", catalog.Scope{Locations: []string{"Fiction"}}, reconcile.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.DB.StartSession(ctx, inv.ID, "shelf", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	r := scan(t, e, s.ID, Control{Cmd: CmdOperator, Operator: "Ana"}.Code())
	if r.Outcome != reconcile.Invalid || !strings.Contains(r.Detail.Problem, "control barcode") {
		t.Errorf("outcome %s, problem %q", r.Outcome, r.Detail.Problem)
	}
}
