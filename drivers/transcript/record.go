package transcript

import (
	"errors"
	"io"
	"sync"
	"time"
)

// FeatureSender is a HID device that takes feature reports.
type FeatureSender interface {
	SendFeatureReport(p []byte) (int, error)
}

// Record passes everything through to a real port or HID device and
// writes each exchange to a transcript as it happens, so a capture cut
// short (Ctrl-C, a crash) keeps what it saw. Errors writing the transcript
// do not disturb the device; Err reports the first.
type Record struct {
	dev   io.ReadWriteCloser
	w     io.Writer
	start time.Time

	mu     sync.Mutex
	line   []byte
	closed bool
	werr   error
	counts [256]int
}

// NewRecord writes the transcript header to w and returns a Record of dev.
// Times in the transcript count from now.
func NewRecord(dev io.ReadWriteCloser, w io.Writer, h Header) (*Record, error) {
	if err := WriteHeader(w, h); err != nil {
		return nil, err
	}
	return &Record{dev: dev, w: w, start: time.Now()}, nil
}

// log writes one event; r.mu is held. The time is taken under the lock so
// the transcript's times never go backwards.
func (r *Record) log(dir Dir, data []byte, err error) {
	ev := Event{Dir: dir, At: time.Since(r.start), Data: data}
	if err != nil {
		ev.Err = err.Error()
	}
	r.line = AppendEvent(r.line[:0], ev)
	if _, werr := r.w.Write(r.line); werr != nil && r.werr == nil {
		r.werr = werr
	}
	r.counts[dir]++
}

// Read reads from the device and records what came.
func (r *Record) Read(p []byte) (int, error) {
	n, err := r.dev.Read(p)
	r.mu.Lock()
	defer r.mu.Unlock()
	if n > 0 {
		r.log(Read, p[:n], nil)
	}
	// A read ended by our own Close is not the device failing.
	if err != nil && !r.closed {
		r.log(Fail, nil, err)
	}
	return n, err
}

// Write records p and writes it to the device. The bytes are logged
// before they go out, so the device's answer can never be logged first.
func (r *Record) Write(p []byte) (int, error) {
	r.mu.Lock()
	if len(p) > 0 {
		r.log(Write, p, nil)
	}
	r.mu.Unlock()
	n, err := r.dev.Write(p)
	if err != nil {
		r.mu.Lock()
		if !r.closed {
			r.log(Fail, nil, err)
		}
		r.mu.Unlock()
	}
	return n, err
}

// SendFeatureReport records and sends a HID feature report; the device
// must take them.
func (r *Record) SendFeatureReport(p []byte) (int, error) {
	f, ok := r.dev.(FeatureSender)
	if !ok {
		return 0, errors.New("transcript: device takes no feature reports")
	}
	r.mu.Lock()
	r.log(Feature, p, nil)
	r.mu.Unlock()
	return f.SendFeatureReport(p)
}

// Close closes the device, once: a driver and its caller may both close.
func (r *Record) Close() error {
	r.mu.Lock()
	already := r.closed
	r.closed = true
	r.mu.Unlock()
	if already {
		return nil
	}
	return r.dev.Close()
}

// Err is the first error writing the transcript.
func (r *Record) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.werr
}

// Count is how many events of dir have been recorded.
func (r *Record) Count(dir Dir) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[dir]
}
