package main

import (
	"strings"
	"testing"
)

// TestGoal: a goal-UNIT metric is judged against UNIT, not printed as a
// figure, and the baseline row says how the benchmark beside it compares.
func TestGoal(t *testing.T) {
	in := `pkg: github.com/tally-inventory/tally/sync/relay
BenchmarkDrainFlaky/flaky-2         	       1	4882033291 ns/op	       404.3 events/s	        30.00 goal-s/drain	         4.452 s/drain
BenchmarkDrainFlaky/baseline_healthy-2         	       1	1622049904 ns/op	      1237 events/s	        30.00 goal-s/drain	         1.455 s/drain
BenchmarkSlow-2         	       1	1622049904 ns/op	      31.5 s/drain	        30.00 goal-s/drain
BenchmarkRate-2         	       1	1622049904 ns/op	      41234 reads/s	        100000 goal-reads/s
BenchmarkFast-2         	       1	1622049904 ns/op	      141234 reads/s	        100000 goal-reads/s
`
	var out strings.Builder
	if err := render(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if len(lines) < 4 {
		t.Fatalf("table:\n%s", out.String())
	}
	for _, c := range []struct {
		line int
		want string
	}{
		{1, "4.45 s/drain"}, {1, "≤ 30 s/drain: met"},
		{2, "0.3× the baseline's events/s"},
		{3, "≤ 30 s/drain: MISSED"},
		{4, "≥ 100000 reads/s: MISSED"}, {5, "≥ 100000 reads/s: met"},
	} {
		if !strings.Contains(lines[c.line], c.want) {
			t.Errorf("line %q lacks %q", lines[c.line], c.want)
		}
	}
	if strings.Contains(out.String(), "goal-s/drain") {
		t.Errorf("the goal is printed as a figure:\n%s", out.String())
	}
	if err := render(strings.NewReader("nothing\n"), &out); err == nil {
		t.Error("no benchmark lines: want an error")
	}
}

// TestP99: latency benchmarks are set side by side by their p99.
func TestP99(t *testing.T) {
	in := `pkg: github.com/tally-inventory/tally/agent/web
BenchmarkFeedbackP99/baseline-no-watchers-2 	       1	        26.69 max-ms	         3.031 p50-ms	        18.08 p99-ms
BenchmarkFeedbackP99/watchers=200-2         	       1	       299.3 max-ms	         5.671 p50-ms	       105.4 p99-ms
`
	var out strings.Builder
	if err := render(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	if want := "watchers=200: p99 105 ms against the baseline's 18.1 ms (5.8×)"; !strings.Contains(out.String(), want) {
		t.Errorf("no %q in\n%s", want, out.String())
	}
}

// TestTimedMetric: a benchmark that times its own operation (its ns/op
// also holding a fixture's set-up) is set beside its baseline by that time.
func TestTimedMetric(t *testing.T) {
	in := `pkg: github.com/tally-inventory/tally/agent/engine
BenchmarkStartup/items=1000000/snapshot-2         	       1	28500000000 ns/op	      1000 goal-ms/start	      468.0 ms/start
BenchmarkStartup/items=1000000/baseline-sqlite-scan-2 	       1	28750000000 ns/op	      17392 ms/start
`
	var out strings.Builder
	if err := render(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	if want := "37.2× faster than baseline-sqlite-scan (ms/start)"; !strings.Contains(out.String(), want) {
		t.Errorf("no %q in\n%s", want, out.String())
	}
}
