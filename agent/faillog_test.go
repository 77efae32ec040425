package agent

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// A full disk refuses every read; the log says so at once, then at most
// once per interval with how many more there were.
func TestFailLogRateLimits(t *testing.T) {
	var b bytes.Buffer
	l := &failLog{w: &b, every: 10 * time.Second}
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	err := errors.New("database or disk is full")
	for i := 0; i < 5; i++ {
		l.log(t0.Add(time.Duration(i)*time.Second), "disk_full", err)
	}
	l.log(t0.Add(6*time.Second), "locked", err)
	if got := strings.Count(b.String(), "\n"); got != 1 {
		t.Fatalf("%d lines within the interval, want 1:\n%s", got, b.String())
	}
	l.log(t0.Add(11*time.Second), "disk_full", err)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "1 locked, 4 disk_full") || !strings.Contains(lines[0], "(disk_full)") {
		t.Errorf("log:\n%s", b.String())
	}
}
