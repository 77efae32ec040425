package sip2_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/sip2"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current encoder")

var later = time.Date(2024, 2, 5, 23, 59, 0, 0, school)

// samples holds one fully populated message of every type, each direction.
var samples = []struct {
	name    string
	request bool
	msg     sip2.Message
}{
	{"93 login", true, &sip2.Login{UIDAlgorithm: '0', PWDAlgorithm: '0', User: "invbot", Password: "s3cret", Location: "LMC"}},
	{"94 login ok", false, &sip2.LoginResponse{OK: true}},
	{"94 login refused", false, &sip2.LoginResponse{OK: false}},
	{"99 sc status", true, &sip2.SCStatus{Status: '1', MaxPrintWidth: 40, Protocol: "2.00"}},
	{"98 acs status", false, &sip2.ACSStatus{Online: true, CheckinOK: false, CheckoutOK: true, RenewalPolicy: true,
		StatusUpdateOK: false, OfflineOK: true, Timeout: "030", Retries: "003", DateTime: exampleTime, Protocol: "2.00",
		Institution: "SCHOOL1", LibraryName: "Media Center", SupportedMessages: "YYYYYYYYYYYNYYYY", TerminalLocation: "LMC",
		ScreenMessages: []string{"Welcome", "Inventory week"}, PrintLines: []string{"line 1"},
		Extra: []sip2.Field{{Code: "ZZ", Value: "vendor"}}}},
	{"17 item information", true, &sip2.ItemInformation{TransactionDate: exampleTime, Zone: school,
		Institution: "SCHOOL1", ItemID: "31234000123456", TerminalPassword: "term"}},
	{"18 item info", false, &sip2.ItemInfo{CirculationStatus: sip2.CircCharged, SecurityMarker: "02", FeeType: "01",
		TransactionDate: exampleTime, ItemID: "31234000123456", Title: "Charlotte's Web", DueDate: sip2.FormatDate(later, nil),
		PermanentLocation: "LMC", CurrentLocation: "LMC-SHELF", Destination: "EAST", CallNumber: "FIC WHI",
		CollectionCode: "FIC", MediaType: "001", ItemProperties: "props", Owner: "SCHOOL1", HoldQueueLength: "2",
		ScreenMessages: []string{"On loan"}, PrintLines: []string{"p"}, Extra: []sip2.Field{{Code: "CY", Value: "P1"}}}},
	{"18 lost", false, &sip2.ItemInfo{CirculationStatus: sip2.CircLost, SecurityMarker: "02", FeeType: "01",
		TransactionDate: exampleTime, ItemID: "3", Title: "Lost book"}},
	{"09 checkin", true, &sip2.Checkin{NoBlock: true, TransactionDate: exampleTime, ReturnDate: later, Zone: school,
		CurrentLocation: "LMC-SHELF", Institution: "SCHOOL1", ItemID: "31234000123456", TerminalPassword: "t",
		ItemProperties: "p", Cancel: "N"}},
	{"10 checkin result", false, &sip2.CheckinResult{OK: true, Resensitize: false, MagneticMedia: 'N', Alert: true,
		TransactionDate: exampleTime, Institution: "SCHOOL1", ItemID: "31234000123456", PermanentLocation: "LMC",
		Title: "Charlotte's Web", SortBin: "B2", PatronID: "P1", MediaType: "001", ItemProperties: "p",
		CallNumber: "FIC WHI", Destination: "EAST", CollectionCode: "FIC", AlertType: "01", HoldPatronID: "P9",
		HoldPatronName: "Pat Ron", ScreenMessages: []string{"Hold for Pat"}, PrintLines: []string{"slip"},
		Extra: []sip2.Field{{Code: "ZY", Value: "x"}}}},
	{"10 checkin refused", false, &sip2.CheckinResult{MagneticMedia: 'U', TransactionDate: exampleTime,
		Institution: "SCHOOL1", ItemID: "9", ScreenMessages: []string{"Item not checked out"}}},
	{"96 resend request", false, &sip2.Resend{Code: sip2.CodeRequestSCResend}},
	{"97 resend request", true, &sip2.Resend{Code: sip2.CodeRequestACSResend}},
}

// TestRoundTrip encodes every message with and without error detection,
// parses it back and expects the same message; the wire forms are kept in
// testdata/messages.golden so a change to the encoding shows up in review.
func TestRoundTrip(t *testing.T) {
	var golden bytes.Buffer
	for _, tc := range samples {
		for _, ed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/ed=%v", tc.name, ed), func(t *testing.T) {
				f := tc.msg.Frame()
				if ed {
					f.Seq = 7
				}
				wire, err := sip2.Encode(f, ed)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&golden, "%s ed=%v\t%s\n", tc.name, ed, wire)
				parse := sip2.ParseReply
				if tc.request {
					parse = sip2.ParseRequest
				}
				got, gf, err := parse(wire, school)
				if err != nil {
					t.Fatalf("parse %s: %v", wire, err)
				}
				if !reflect.DeepEqual(got, tc.msg) {
					t.Errorf("round trip of %s:\n got %+v\nwant %+v", wire, got, tc.msg)
				}
				wantSeq := -1
				if ed {
					wantSeq = 7
				}
				if gf.Seq != wantSeq || gf.Checksummed != ed {
					t.Errorf("seq=%d checksummed=%v, want %d %v", gf.Seq, gf.Checksummed, wantSeq, ed)
				}
			})
		}
	}
	path := filepath.Join("testdata", "messages.golden")
	if *update {
		if err := os.WriteFile(path, golden.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(golden.Bytes(), want) {
		t.Errorf("wire forms differ from %s (run go test -update if the change is intended):\n%s", path, golden.Bytes())
	}
}

func TestCirculationStatusString(t *testing.T) {
	for s, want := range map[sip2.CirculationStatus]string{
		sip2.CircAvailable: "available", sip2.CircLost: "lost", sip2.CircMissing: "missing",
		sip2.CircInTransit: "in transit", 0: "status 00", 42: "status 42",
	} {
		if got := s.String(); got != want {
			t.Errorf("%d: %q, want %q", int(s), got, want)
		}
	}
}

func TestACSStatusSupports(t *testing.T) {
	st := sip2.ACSStatus{SupportedMessages: "YYYYYYYYYYNNYYYY"}
	if st.Supports(sip2.SupportsItemInformation) {
		t.Error("item information marked N but Supports says yes")
	}
	if !st.Supports(sip2.SupportsCheckin) {
		t.Error("checkin marked Y but Supports says no")
	}
	if !(&sip2.ACSStatus{}).Supports(sip2.SupportsCheckin) {
		t.Error("without BX everything should count as supported")
	}
}

func TestItemInfoHelpers(t *testing.T) {
	unknown := &sip2.ItemInfo{CirculationStatus: sip2.CircOther, ItemID: "x"}
	if !unknown.Unknown() {
		t.Error("status 01 with no title should be Unknown")
	}
	known := &sip2.ItemInfo{CirculationStatus: sip2.CircCharged, Title: "t", DueDate: "20240205    235900"}
	if known.Unknown() {
		t.Error("a titled item is not Unknown")
	}
	if due, ok := known.Due(school); !ok || !due.Equal(later) {
		t.Errorf("Due = %v %v, want %v", due, ok, later)
	}
}
