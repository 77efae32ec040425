package sip2_test

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/sip2"
	"github.com/tally-inventory/tally/sync/sip2/sip2test"
)

// BenchmarkItemInformation measures 17→18 round trips per second over
// loopback against the test ACS, error detection on.
func BenchmarkItemInformation(b *testing.B) {
	s, err := sip2test.New(sip2test.Opts{Accounts: []sip2test.Account{account()}, Items: items(), Zone: school})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, err := sip2.Dial(context.Background(), clientOpts(s))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := c.ItemInformation(ctx, onLoan); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
}

// BenchmarkLoopbackBaseline is the floor under BenchmarkItemInformation:
// the same request and reply bytes ping-ponged over loopback TCP with no
// SIP2 work on either side.
func BenchmarkLoopbackBaseline(b *testing.B) {
	req := []byte("1720240115    093000AOSCHOOL1|AB31234000123456|AC|AY2AZF330\r")
	reply := []byte("1804020120240115    093005AH20240129    235900|AB31234000123456|AJCharlotte's Web|CK001|AQLMC|APLMC|CSFIC WHI|AY2AZ0000\r")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		for {
			if _, err := r.ReadSlice('\r'); err != nil {
				return
			}
			if _, err := conn.Write(reply); err != nil {
				return
			}
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := r.ReadSlice('\r'); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lookups/s")
}

// BenchmarkParseItemInfo is the CPU cost of reading one 18 reply.
func BenchmarkParseItemInfo(b *testing.B) {
	msg := []byte("1804020120240115    093005AH20240129    235900|AB31234000123456|AJCharlotte's Web|CK001|AQLMC|APLMC|CSFIC WHI|AY2AZ")
	msg = append(msg, sip2.Checksum(msg)...)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, _, err := sip2.ParseReply(msg, school); err != nil {
			b.Fatal(err)
		}
	}
}
