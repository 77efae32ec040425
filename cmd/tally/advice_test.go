package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every refusal on the way through a session's life names a next step, and
// that step works: running each command the message quotes succeeds (no
// advice that leads to another refusal).
func TestAdviceLeadsSomewhere(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TALLY_DB", filepath.Join(dir, "tally.db"))
	os.WriteFile(filepath.Join(dir, "c.csv"), []byte(tally(t, "", "sample", "collection", "--books", "300")), 0o644)
	tally(t, "", "import", filepath.Join(dir, "c.csv"))
	tally(t, "", "inventory", "create", "--name", "Fiction", "--location", "Fiction")
	tally(t, "", "session", "start", "--inventory", "1", "--operator", "ana")
	const code = "30234000000017\n"
	names := 0

	// refused runs args, wants a failure whose message quotes commands, and
	// runs each of them; it returns the message.
	refused := func(in string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		stdin = strings.NewReader(in)
		c := runMain(context.Background(), args, &out, &errb)
		stdin = os.Stdin
		if c == 0 {
			t.Fatalf("tally %s succeeded: %s", strings.Join(args, " "), out.String())
		}
		msg := errb.String()
		cmds := regexp.MustCompile("`(tally [^`]+)`").FindAllStringSubmatch(msg, -1)
		if len(cmds) == 0 {
			t.Fatalf("tally %s: %q names no next step", strings.Join(args, " "), msg)
		}
		for _, m := range cmds {
			words := shellWords(t, m[1])[1:]
			for i, w := range words {
				switch w {
				case "NAME":
					names++
					words[i] = fmt.Sprintf("Fiction again %d", names)
				case "ID":
					words[i] = "2" // an open inventory by then
				}
			}
			tally(t, "", words...)
		}
		return msg
	}

	tally(t, "", "session", "pause", "1")
	if msg := refused(code, "scan", "--session", "1"); !strings.Contains(msg, "`tally session resume 1`") {
		t.Errorf("paused: %s", msg)
	}
	tally(t, code, "scan", "--session", "1") // resumed by the advice

	tally(t, "", "session", "end", "1")
	msg := refused(code, "scan", "--session", "1")
	if !strings.Contains(msg, "`tally session start --inventory 1 --operator ana`") {
		t.Errorf("ended: %s", msg)
	}
	// Resuming the ended session gives the same step, not a circle.
	if msg := refused("", "session", "resume", "1"); !strings.Contains(msg, "tally session start --inventory 1") {
		t.Errorf("resume an ended session: %s", msg)
	}
	tally(t, code, "scan", "--session", "3") // the second start the advice made

	tally(t, "", "inventory", "finalize", "1")
	for _, args := range [][]string{{"scan", "--session", "3"}, {"session", "start", "--inventory", "1"}, {"session", "resume", "3"}} {
		msg := refused(code, args...)
		if !strings.Contains(msg, "`tally inventory create --name NAME --location Fiction --skip-status ") || strings.Contains(msg, "session start") {
			t.Errorf("tally %s on a finalized inventory: %s", strings.Join(args, " "), msg)
		}
	}
	if out := tally(t, "", "inventory", "list"); strings.Count(out, "Fiction again") != names {
		t.Errorf("the advised inventories were not made: %s", out)
	}
	refused(code, "scan", "--session", "99")
	refused("", "session", "start", "--inventory", "99")
	if msg := refused("", "inventory", "create", "--name", "fiction"); !strings.Contains(msg, "pick another --name") {
		t.Errorf("a finalized inventory's name: %s", msg)
	}
	if msg := refused("", "inventory", "create", "--name", "Fiction again 5"); !strings.Contains(msg, "`tally session start --inventory") {
		t.Errorf("an open inventory's name: %s", msg)
	}
}
