package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/store"
)

// The actions control barcodes take (Server.SetState, Undo) refresh a
// session's open screens live, as the buttons do: each sends a fresh state.
func TestControlsReachOpenScreens(t *testing.T) {
	e := newEnv(t, Opts{})
	srv := httptest.NewServer(e.s)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/sessions/"+itoa(e.sess)+"/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	states := make(chan SessionView, 16)
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		state := false
		for sc.Scan() {
			l := sc.Text()
			if strings.HasPrefix(l, "event: ") {
				state = l == "event: state"
			} else if d, ok := strings.CutPrefix(l, "data: "); ok && state {
				var v SessionView
				json.Unmarshal([]byte(d), &v)
				states <- v
			}
		}
		close(states)
	}()
	next := func(what string) SessionView {
		t.Helper()
		select {
		case v, ok := <-states:
			if !ok {
				t.Fatalf("stream ended waiting for %s", what)
			}
			return v
		case <-ctx.Done():
			t.Fatalf("no state event after %s", what)
		}
		return SessionView{}
	}
	next("joining")
	e.read(t, e.sess, "F1")
	if err := e.s.Undo(ctx, e.sess); err != nil {
		t.Fatal(err)
	}
	if v := next("undo"); v.Progress.Seen != 0 {
		t.Errorf("after undo: %d seen", v.Progress.Seen)
	}
	for _, st := range []store.SessionState{store.SessionPaused, store.SessionOpen, store.SessionEnded} {
		if _, err := e.s.SetState(ctx, e.sess, st); err != nil {
			t.Fatal(err)
		}
		if v := next(string(st)); v.Session == nil || v.Session.State != st {
			t.Errorf("after %s: session %+v", st, v.Session)
		}
	}
}
