package sip2

import (
	"bufio"
	"fmt"
	"io"
)

// ReadMessage reads one message from r and returns it without its
// terminator. CR, LF and CRLF all end a message (Koha's accounts may use
// either), and empty lines between messages are skipped. A message longer
// than MaxMessageLen is an error; the bytes read so far are dropped, so
// memory stays bounded whatever the peer sends.
func ReadMessage(r *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				return nil, fmt.Errorf("sip2: connection closed after %d bytes of a message: %w", len(buf), io.ErrUnexpectedEOF)
			}
			return nil, err
		}
		if c == '\r' || c == '\n' {
			if len(buf) == 0 {
				continue
			}
			return buf, nil
		}
		if len(buf) >= MaxMessageLen {
			return nil, fmt.Errorf("sip2: message longer than %d bytes without a terminator; check the terminator setting (CR or CRLF)", MaxMessageLen)
		}
		buf = append(buf, c)
	}
}
