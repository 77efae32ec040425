package seriallink

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.bug.st/serial"

	"github.com/tally-inventory/tally/drivers"
)

// closeCount is a port that counts Close calls.
type closeCount struct {
	*io.PipeReader
	closed int
}

func (c *closeCount) Write(b []byte) (int, error) { return len(b), nil }
func (c *closeCount) Close() error {
	c.closed++
	return c.PipeReader.Close()
}

func TestShellLifecycle(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	port := &closeCount{PipeReader: r}
	sh := NewShell("toy", "desk")
	ran := make(chan struct{})
	err := sh.Start(context.Background(), func() (io.ReadWriter, error) { return port, nil },
		func(ctx context.Context, l *Link) error { return nil },
		func(ctx context.Context, l *Link) error {
			close(ran)
			var s Scanner
			return l.Wait(ctx, time.Time{}, &s) // ErrStopped at Stop
		})
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(context.Background(), nil, nil, nil); err == nil || !strings.HasPrefix(err.Error(), "toy desk: ") {
		t.Fatalf("second Start = %v, want an error naming the device", err)
	}
	<-ran
	sh.Stop()
	sh.Stop()
	if err, ok := <-sh.Err(); ok || err != nil {
		t.Fatalf("Err after a clean Stop = %v, %v; want closed", err, ok)
	}
	if port.closed != 1 {
		t.Errorf("port closed %d times, want once: the Link owns a port that can be closed", port.closed)
	}
}

func TestShellReportsFailureOnce(t *testing.T) {
	r, w := io.Pipe()
	sh := NewShell("toy", "desk")
	err := sh.Start(context.Background(), func() (io.ReadWriter, error) { return Borrowed(&closeCount{PipeReader: r}), nil }, nil,
		func(ctx context.Context, l *Link) error {
			var s Scanner
			for {
				if err := l.Wait(ctx, time.Time{}, &s); err != nil {
					return err
				}
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	w.CloseWithError(errors.New("input/output error"))
	err = <-sh.Err()
	if !errors.Is(err, drivers.ErrDisconnected) || !strings.HasPrefix(err.Error(), "toy desk: ") {
		t.Fatalf("Err = %v, want ErrDisconnected named for the device", err)
	}
	if _, ok := <-sh.Err(); ok {
		t.Fatal("Err delivered twice")
	}
	sh.Stop()
}

func TestShellStartFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func() (io.ReadWriter, error)
		init func(context.Context, *Link) error
	}{
		{"open", func() (io.ReadWriter, error) { return nil, errors.New("no such port") }, nil},
		{"init", func() (io.ReadWriter, error) { r, _ := io.Pipe(); return &closeCount{PipeReader: r}, nil },
			func(context.Context, *Link) error { return errors.New("no answer") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh := NewShell("toy", "desk")
			err := sh.Start(context.Background(), tc.open, tc.init, func(context.Context, *Link) error {
				t.Error("run after a failed start")
				return nil
			})
			if err == nil || !strings.HasPrefix(err.Error(), "toy desk: ") {
				t.Fatalf("Start = %v, want an error naming the device", err)
			}
			if err, ok := <-sh.Err(); ok || err != nil {
				t.Fatalf("Err after a failed Start = %v, %v; want closed", err, ok)
			}
			sh.Stop()
		})
	}
}

// Stop while init waits on a silent reader ends the wait at once.
func TestShellStopDuringInit(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	sh := NewShell("toy", "desk")
	inInit := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		started <- sh.Start(context.Background(), func() (io.ReadWriter, error) { return Borrowed(&closeCount{PipeReader: r}), nil },
			func(ctx context.Context, l *Link) error {
				close(inInit)
				var s Scanner
				return l.Wait(ctx, time.Now().Add(time.Hour), &s)
			},
			func(context.Context, *Link) error { return nil })
	}()
	<-inInit
	sh.Stop()
	if err := <-started; !errors.Is(err, ErrStopped) {
		t.Fatalf("Start = %v, want ErrStopped", err)
	}
}

func TestOpenSerialMissingPortIsDisconnected(t *testing.T) {
	_, err := OpenSerial(filepath.Join(t.TempDir(), "ttyUSB9"), &serial.Mode{BaudRate: 9600})
	if !errors.Is(err, drivers.ErrDisconnected) {
		t.Fatalf("OpenSerial of a missing port = %v, want ErrDisconnected so the supervisor retries", err)
	}
}
