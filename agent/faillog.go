package agent

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// failLog logs reads the store refused: the first at once, then at most
// one line per interval saying how many more there were, so a full disk
// cannot flood the journal but is never silent.
type failLog struct {
	mu         sync.Mutex
	w          io.Writer
	every      time.Duration
	last       time.Time
	suppressed map[string]int
}

func (l *failLog) log(now time.Time, reason string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		if l.suppressed == nil {
			l.suppressed = map[string]int{}
		}
		l.suppressed[reason]++
		return
	}
	more := ""
	if n := len(l.suppressed); n > 0 {
		reasons := make([]string, 0, n)
		for r, c := range l.suppressed {
			reasons = append(reasons, fmt.Sprintf("%d %s", c, r))
		}
		sort.Strings(reasons)
		more = fmt.Sprintf(" (and since the last message: %s)", strings.Join(reasons, ", "))
		l.suppressed = nil
	}
	l.last = now
	fmt.Fprintf(l.w, "tally: a read was not recorded (%s): %v%s\n", reason, err, more)
}
