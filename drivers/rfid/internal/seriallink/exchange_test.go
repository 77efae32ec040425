package seriallink

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
)

func TestAwait(t *testing.T) {
	bad := frame(1, 2)
	bad[len(bad)-1] ^= 0xFF
	tests := []struct {
		name string
		in   []byte
		want []byte
		err  error
	}{
		{"frame", cat([]byte{0x00}, frame(1, 2)), frame(1, 2), nil},
		{"corrupt fails at once", bad, nil, ErrCorrupt},
		{"nothing", nil, nil, ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _, dev := newPipe(t)
			if tt.in != nil {
				go dev.Write(tt.in)
			}
			var s Scanner
			// A corrupt reply must fail long before this deadline.
			deadline := time.Now().Add(time.Minute)
			if tt.err == ErrTimeout {
				deadline = time.Now().Add(20 * time.Millisecond)
			}
			f, err := l.Await(context.Background(), deadline, &s, probe, verify, "command", 0x21)
			if !errors.Is(err, tt.err) || !bytes.Equal(f, tt.want) {
				t.Fatalf("Await = % X, %v; want % X, %v", f, err, tt.want, tt.err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "command 0x21: ") {
				t.Errorf("error %q does not name the request", err)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	other := errors.New("status 0x0105")
	for _, tc := range []struct {
		name    string
		errs    []error
		tries   int
		retried int
		want    error
	}{
		{"first time", []error{nil}, 1, 0, nil},
		{"timeout then ok", []error{ErrTimeout, nil}, 2, 1, nil},
		{"corrupt then ok", []error{ErrCorrupt, nil}, 2, 1, nil},
		{"gives up", []error{ErrTimeout, ErrCorrupt, ErrTimeout}, 3, 2, ErrTimeout},
		{"no retry on a reader's refusal", []error{other}, 1, 0, other},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tries, retried := 0, 0
			got, err := Retry(2, func() (int, error) {
				err := tc.errs[tries]
				tries++
				return tries, err
			}, func() { retried++ })
			if !errors.Is(err, tc.want) || tries != tc.tries || retried != tc.retried || got != tries {
				t.Fatalf("Retry = %d, %v after %d tries, %d retried; want %v after %d, %d", got, err, tries, retried, tc.want, tc.tries, tc.retried)
			}
		})
	}
}

func TestRounds(t *testing.T) {
	refused := errors.New("reader says 0xFE")
	gone := errors.Join(drivers.ErrDisconnected, errors.New("input/output error"))
	for _, tc := range []struct {
		name   string
		errs   []error // one per round; after them the round reports ErrStopped
		ok     int
		want   error
		wantTo bool // the error wraps ErrDisconnected
	}{
		{"stopped", []error{nil, nil}, 2, nil, false},
		{"failures reset by a good round", []error{ErrTimeout, ErrTimeout, nil, ErrTimeout, ErrTimeout}, 1, nil, false},
		{"silent reader is gone", []error{ErrTimeout, ErrTimeout, ErrTimeout}, 0, ErrTimeout, true},
		{"refusals are not a disconnect", []error{refused, refused, refused}, 0, refused, false},
		{"disconnect at once", []error{gone}, 0, drivers.ErrDisconnected, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, ok := 0, 0
			err := Rounds(context.Background(), 3, func(context.Context) error {
				if i == len(tc.errs) {
					return ErrStopped
				}
				i++
				return tc.errs[i-1]
			}, func() { ok++ })
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) || ok != tc.ok {
				t.Fatalf("Rounds = %v with %d good rounds; want %v with %d", err, ok, tc.want, tc.ok)
			}
			if errors.Is(err, drivers.ErrDisconnected) != tc.wantTo {
				t.Errorf("Rounds = %v; wraps ErrDisconnected %v, want %v", err, !tc.wantTo, tc.wantTo)
			}
		})
	}
}
