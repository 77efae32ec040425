package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/feedback"
	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/transcript"
)

// shelfEngine is an engine over a fresh store whose catalog is one
// Fiction shelf of the given barcodes, in call-number order.
func shelfEngine(t testing.TB, barcodes ...string) *engine.Engine {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "tally.db"))
	if err != nil {
		t.Fatal(err)
	}
	var items []catalog.Item
	for i, bc := range barcodes {
		items = append(items, catalog.Item{Barcode: bc, CallNumber: fmt.Sprintf("FIC %c", 'A'+i), Library: "MAIN",
			Location: "Fiction", Title: bc, Status: catalog.StatusAvailable, Kind: catalog.KindBook})
	}
	if _, err := db.Import(ctx, nil, "fixture", "csv", items, false, 0); err != nil {
		t.Fatal(err)
	}
	e, err := engine.NewEngine(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(); db.Close() })
	return e
}

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

func (s *signals) Feedback(device string, rd drivers.Read, res *engine.Result, err error) {
	if err != nil {
		s.add(feedback.Error)
		return
	}
	s.add(string(res.Outcome))
}

// A shelf session started, paused, resumed, undone and ended by scanning
// only: the shipped keyboard-wedge profile through the runtime's device
// factory, its key reports through the real HID decoder, into the device
// pipeline; the operator badge names every read after it.
func TestControlByScanningOnly(t *testing.T) {
	ctx := context.Background()
	e := shelfEngine(t, "F1", "F2", "F3", "F4")
	inv, err := e.DB.CreateInventory(ctx, "Fiction", catalog.Scope{Locations: []string{"Fiction"}}, reconcile.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	ctl := func(c engine.Control) string { return c.Code() }
	typed := []string{
		ctl(engine.Control{Cmd: engine.CmdPause}), // not in a session yet: refused
		ctl(engine.Control{Cmd: engine.CmdOperator, Operator: "Ana"}),
		ctl(engine.Control{Cmd: engine.CmdShelf, Inventory: inv.ID}),
		"F1", "F2",
		ctl(engine.Control{Cmd: engine.CmdUndo}), // takes back F2
		ctl(engine.Control{Cmd: engine.CmdPause}),
		"F3", // refused: paused
		ctl(engine.Control{Cmd: engine.CmdResume}),
		"F3",
		ctl(engine.Control{Cmd: engine.CmdEnd}),
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
	devs, err := engine.NewDevices(e, specs, 0, sig)
	if err != nil {
		t.Fatal(err)
	}
	devs.Control = &engine.Controller{DB: e.DB, Devs: devs, Actions: engine.EngineControls{E: e, Devs: devs},
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
