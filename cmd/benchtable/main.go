// Command benchtable turns `go test -bench` output (stdin) into the table
// `make bench` prints: one row per benchmark with its figures, and for every
// benchmark whose last name element starts with "baseline", how many times
// faster the benchmark beside it is. A metric "goal-UNIT" states a goal for
// the metric UNIT — at least that much for a rate (UNIT ending in /s), at
// most that much for anything else — and the GOAL column says whether the
// benchmark meets it.
//
// It is a developer tool, not part of the tally binary.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

type row struct {
	pkg, name string
	metrics   map[string]float64
	order     []string
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

func main() {
	if err := render(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// render reads `go test -bench` output from in and writes the table to out.
func render(in io.Reader, out io.Writer) error {
	var rows []*row
	pkg := ""
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "pkg: ") {
			pkg = strings.TrimPrefix(line, "pkg: github.com/tally-inventory/tally/")
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		r := &row{pkg: pkg, name: strings.TrimPrefix(m[1], "Benchmark"), metrics: map[string]float64{}}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			r.metrics[f[i+1]] = v
			r.order = append(r.order, f[i+1])
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return errors.New("no benchmark lines on stdin")
	}
	byName := map[string]*row{}
	for _, r := range rows {
		byName[r.pkg+" "+r.name] = r
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PACKAGE\tBENCHMARK\tFIGURES\tAGAINST BASELINE\tGOAL")
	for _, r := range rows {
		var figs, goals []string
		for _, k := range r.order {
			if unit, ok := strings.CutPrefix(k, "goal-"); ok {
				if v, have := r.metrics[unit]; have {
					// A rate (x/s) must reach its goal; anything else (a
					// time, a size) must stay within it.
					verdict, cmp := "met", "≤"
					missed := v > r.metrics[k]
					if strings.HasSuffix(unit, "/s") {
						cmp, missed = "≥", v < r.metrics[k]
					}
					if missed {
						verdict = "MISSED"
					}
					goals = append(goals, fmt.Sprintf("%s %s %s: %s", cmp, human(r.metrics[k]), unit, verdict))
				}
				continue
			}
			figs = append(figs, fmt.Sprintf("%s %s", human(r.metrics[k]), k))
		}
		vs := ""
		if i := strings.LastIndex(r.name, "/"); i >= 0 && strings.HasPrefix(r.name[i+1:], "baseline") {
			if sib := sibling(byName, r); sib != nil {
				vs = compare(sib, r)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.pkg, r.name, strings.Join(figs, ", "), vs, strings.Join(goals, ", "))
	}
	return tw.Flush()
}

// sibling finds the non-baseline benchmark in the same group.
func sibling(byName map[string]*row, base *row) *row {
	parent := base.name[:strings.LastIndex(base.name, "/")]
	var names []string
	for k := range byName {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		r := byName[k]
		if r.pkg != base.pkg || r == base || !strings.HasPrefix(r.name, parent+"/") {
			continue
		}
		last := r.name[strings.LastIndex(r.name, "/")+1:]
		if !strings.HasPrefix(last, "baseline") && strings.Count(r.name, "/") == strings.Count(base.name, "/") {
			return r
		}
	}
	return nil
}

// compare says how the benchmark does against its baseline: by the 99th
// percentile latency (p99-ms) or a rate (x/s: higher is better) when both
// report one, else by the time per thing both report (ms/start), else by
// time per op.
func compare(b, base *row) string {
	// Latency percentiles (lower is better): side by side.
	if v, ok := b.metrics["p99-ms"]; ok && base.metrics["p99-ms"] > 0 {
		return fmt.Sprintf("%s: p99 %s ms against the baseline's %s ms (%.1f×)", b.name[strings.LastIndex(b.name, "/")+1:],
			human(v), human(base.metrics["p99-ms"]), v/base.metrics["p99-ms"])
	}
	for _, k := range b.order {
		if strings.HasSuffix(k, "/s") && base.metrics[k] > 0 {
			return fmt.Sprintf("%.1f× the baseline's %s", b.metrics[k]/base.metrics[k], k)
		}
	}
	// A time per thing the benchmark timed itself (ms/start, ns/read):
	// ns/op also holds its set-up, a fixture made or copied per run.
	for _, k := range b.order {
		unit, _, ok := strings.Cut(k, "/")
		if ok && k != "ns/op" && (unit == "ns" || unit == "µs" || unit == "us" || unit == "ms" || unit == "s") &&
			b.metrics[k] > 0 && base.metrics[k] > 0 {
			return fmt.Sprintf("%.1f× faster than %s (%s)", base.metrics[k]/b.metrics[k], base.name[strings.LastIndex(base.name, "/")+1:], k)
		}
	}
	if b.metrics["ns/op"] > 0 && base.metrics["ns/op"] > 0 {
		return fmt.Sprintf("%.1f× faster than %s", base.metrics["ns/op"]/b.metrics["ns/op"], base.name[strings.LastIndex(base.name, "/")+1:])
	}
	return ""
}

func human(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0f", v)
	case v == float64(int64(v)):
		return fmt.Sprintf("%d", int64(v))
	default:
		return fmt.Sprintf("%.3g", v)
	}
}
