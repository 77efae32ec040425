package sip2test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/sip2"
)

var zone = time.FixedZone("school", -5*3600)
var now = time.Date(2024, 1, 15, 9, 30, 5, 0, zone)

// transcript sends raw requests and expects raw replies, byte for byte, the
// way a Koha SIP server would answer them.
func transcript(t *testing.T, s *Server, steps [][2]string) {
	t.Helper()
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	for i, st := range steps {
		if _, err := conn.Write([]byte(st[0] + "\r")); err != nil {
			t.Fatal(err)
		}
		if st[1] == "" { // expect the server to hang up
			if _, err := sip2.ReadMessage(r); err == nil {
				t.Errorf("step %d: %q got a reply, want the connection closed", i, st[0])
			}
			return
		}
		got, err := sip2.ReadMessage(r)
		if err != nil {
			t.Fatalf("step %d: %q: %v", i, st[0], err)
		}
		if string(got) != st[1] {
			t.Errorf("step %d: %q\n got %q\nwant %q", i, st[0], got, st[1])
		}
	}
}

func newServer(t *testing.T, a Account) *Server {
	return Start(t, Opts{Accounts: []Account{a}, Zone: zone, Now: func() time.Time { return now },
		Items: []Item{{Barcode: "1001", Title: "Holes", PermanentLocation: "LMC", CurrentLocation: "LMC", Lost: 1}}})
}

func withChecksum(s string) string { return s + sip2.Checksum([]byte(s)) }

func TestTranscript(t *testing.T) {
	s := newServer(t, Account{User: "invbot", Password: "s3cret", Institution: "SCHOOL1", SeenOnItemInformation: SeenMarkFound})
	transcript(t, s, [][2]string{
		{"9300CNinvbot|COs3cret|CPLMC|AY0AZF4E3", withChecksum("941AY0AZ")},
		{"9900302.00AY1AZFCA5", withChecksum("98YYYYNN03000320240115    0930052.00AOSCHOOL1|AMtally test ACS|BX" + KohaSupportedMessages + "|AY1AZ")},
		// A lost item reports 12 as found; mark_found then clears it.
		{withChecksum("1720240115    093000AOSCHOOL1|AB1001|AC|AY2AZ"),
			withChecksum("1812020120240115    093005AB1001|AJHoles|CK001|AQLMC|APLMC|AY2AZ")},
		{withChecksum("1720240115    093000AOSCHOOL1|AB1001|AC|AY3AZ"),
			withChecksum("1803020120240115    093005AB1001|AJHoles|CK001|AQLMC|APLMC|AY3AZ")},
		// Unknown item: Koha's "010101", barcode echoed, empty title.
		{withChecksum("1720240115    093000AOSCHOOL1|AB999|AC|AY4AZ"),
			withChecksum("1801010120240115    093005AB999|AJ|AY4AZ")},
		// A corrupt request is answered with Koha's REQUEST_SC_RESEND_CKSUM.
		{"1720240115    093000AOSCHOOL1|AB999|AC|AY5AZ0000", "96AZFEF6"},
		// 97 resends the last reply without its sequence number.
		{"97AZFEF5", withChecksum("1801010120240115    093005AB999|AJ|AZ")},
		// Checkin of an item that is not on loan.
		{withChecksum("09N20240115    09300020240115    093000APLMC|AOSCHOOL1|AB1001|AC|AY6AZ"),
			withChecksum("100NNY20240115    093005AOSCHOOL1|AB1001|AQLMC|AJHoles|CK001|AFItem not checked out|AY6AZ")},
	})
	if ch := s.Changes(); len(ch) != 1 || ch[0].Kind != "found" || ch[0].After.Lost != 0 || !ch[0].After.LastSeen.Equal(now) {
		t.Errorf("changes %+v, want one found", ch)
	}
}

func TestLoginFirst(t *testing.T) {
	s := newServer(t, Account{User: "invbot", Password: "s3cret", Institution: "SCHOOL1"})
	transcript(t, s, [][2]string{{"9900302.00", ""}})
	transcript(t, s, [][2]string{
		{"9300CNinvbot|COnope|CPLMC|", "940"},
		{"9310CNinvbot|COs3cret|CPLMC|", "940"}, // encrypted user id: Koha refuses
		{"9300CNinvbot|COs3cret|CPLMC|", "941"},
	})
	if s.Logins() != 1 {
		t.Errorf("logins = %d, want 1", s.Logins())
	}
}

func TestItemStatus(t *testing.T) {
	for _, tc := range []struct {
		it   Item
		want sip2.CirculationStatus
	}{
		{Item{}, sip2.CircAvailable},
		{Item{Borrower: "P"}, sip2.CircCharged},
		{Item{Borrower: "P", InTransitTo: "X"}, sip2.CircInTransit},
		{Item{Lost: 1}, sip2.CircLost},
		{Item{Lost: 4}, sip2.CircMissing},
		{Item{HoldWaiting: true}, sip2.CircOnHoldShelf},
		{Item{Damaged: true}, sip2.CircOther},
	} {
		if got := tc.it.Status(4); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.it, got, tc.want)
		}
	}
}
