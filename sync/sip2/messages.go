package sip2

import (
	"fmt"
	"strconv"
	"time"
)

// Message codes this package speaks.
const (
	CodeLogin              = "93"
	CodeLoginResponse      = "94"
	CodeSCStatus           = "99"
	CodeACSStatus          = "98"
	CodeItemInformation    = "17"
	CodeItemInfoResponse   = "18"
	CodeCheckin            = "09"
	CodeCheckinResponse    = "10"
	CodeRequestSCResend    = "96" // the ACS asks the SC to resend its request
	CodeRequestACSResend   = "97" // the SC asks the ACS to resend its response
	defaultProtocolVersion = "2.00"
)

// Message is a typed SIP2 message. Frame builds its wire parts; the Frame's
// Seq is -1 and is set by whoever sends it.
type Message interface {
	Frame() *Frame
}

// Compile-time checks that every typed message is a Message.
var (
	_ Message = (*Login)(nil)
	_ Message = (*LoginResponse)(nil)
	_ Message = (*SCStatus)(nil)
	_ Message = (*ACSStatus)(nil)
	_ Message = (*ItemInformation)(nil)
	_ Message = (*ItemInfo)(nil)
	_ Message = (*Checkin)(nil)
	_ Message = (*CheckinResult)(nil)
	_ Message = (*Resend)(nil)
)

// CirculationStatus is the 2-digit circulation status of an item (18).
type CirculationStatus int

// The circulation statuses of SIP2 2.00.
const (
	CircOther             CirculationStatus = 1
	CircOnOrder           CirculationStatus = 2
	CircAvailable         CirculationStatus = 3
	CircCharged           CirculationStatus = 4
	CircChargedNoRecall   CirculationStatus = 5 // charged; not to be recalled until earliest recall date
	CircInProcess         CirculationStatus = 6
	CircRecalled          CirculationStatus = 7
	CircOnHoldShelf       CirculationStatus = 8
	CircWaitingReshelve   CirculationStatus = 9
	CircInTransit         CirculationStatus = 10
	CircClaimedReturned   CirculationStatus = 11
	CircLost              CirculationStatus = 12
	CircMissing           CirculationStatus = 13
	circulationStatusLast                   = CircMissing
)

var circNames = [...]string{"", "other", "on order", "available", "charged", "charged, not to be recalled",
	"in process", "recalled", "waiting on hold shelf", "waiting to be re-shelved", "in transit",
	"claimed returned", "lost", "missing"}

func (s CirculationStatus) String() string {
	if s >= 1 && s <= circulationStatusLast {
		return circNames[s]
	}
	return fmt.Sprintf("status %02d", int(s))
}

// SupportedMessage indexes the BX "supported messages" field of 98.
type SupportedMessage int

// Positions in BX, in the order of the SIP2 2.00 specification.
const (
	SupportsPatronStatus SupportedMessage = iota
	SupportsCheckout
	SupportsCheckin
	SupportsBlockPatron
	SupportsSCStatus
	SupportsResend
	SupportsLogin
	SupportsPatronInformation
	SupportsEndPatronSession
	SupportsFeePaid
	SupportsItemInformation
	SupportsItemStatusUpdate
	SupportsPatronEnable
	SupportsHold
	SupportsRenew
	SupportsRenewAll
)

// ---- 93 / 94 ----

// Login is the 93 request: the SC's account on the ACS.
type Login struct {
	UIDAlgorithm byte // '0': not encrypted (Koha refuses anything else)
	PWDAlgorithm byte
	User         string // CN
	Password     string // CO
	Location     string // CP
}

// Frame implements Message.
func (m *Login) Frame() *Frame {
	return &Frame{Code: CodeLogin, Seq: -1, Fixed: string([]byte{orByte(m.UIDAlgorithm, '0'), orByte(m.PWDAlgorithm, '0')}),
		Fields: []Field{{"CN", m.User}, {"CO", m.Password}, {"CP", m.Location}}}
}

func decodeLogin(f *Frame) (*Login, error) {
	m := &Login{UIDAlgorithm: f.Fixed[0], PWDAlgorithm: f.Fixed[1]}
	var err error
	if m.User, err = required(f, "CN", "login user id"); err != nil {
		return nil, err
	}
	if m.Password, err = required(f, "CO", "login password"); err != nil {
		return nil, err
	}
	m.Location, _ = f.Get("CP")
	return m, nil
}

// LoginResponse is the 94 reply.
type LoginResponse struct {
	OK bool
}

// Frame implements Message.
func (m *LoginResponse) Frame() *Frame {
	return &Frame{Code: CodeLoginResponse, Seq: -1, Fixed: string(boolDigit(m.OK))}
}

func decodeLoginResponse(f *Frame) (*LoginResponse, error) {
	return &LoginResponse{OK: f.Fixed[0] == '1'}, nil
}

// ---- 99 / 98 ----

// SCStatus is the 99 request: the SC says it is up and which protocol it speaks.
type SCStatus struct {
	Status        byte   // '0' ok, '1' out of paper, '2' shutting down
	MaxPrintWidth int    // 0–999
	Protocol      string // "2.00"
}

// Frame implements Message.
func (m *SCStatus) Frame() *Frame {
	w := m.MaxPrintWidth
	if w < 0 || w > 999 {
		w = 0
	}
	p := m.Protocol
	if len(p) != 4 {
		p = defaultProtocolVersion
	}
	return &Frame{Code: CodeSCStatus, Seq: -1, Fixed: fmt.Sprintf("%c%03d%s", orByte(m.Status, '0'), w, p)}
}

func decodeSCStatus(f *Frame) (*SCStatus, error) {
	w, err := strconv.Atoi(f.Fixed[1:4])
	if err != nil || !allDigits(f.Fixed[1:4]) {
		return nil, perr(3, f.Code, "max print width %q is not 3 digits", f.Fixed[1:4])
	}
	return &SCStatus{Status: f.Fixed[0], MaxPrintWidth: w, Protocol: f.Fixed[4:8]}, nil
}

// ACSStatus is the 98 reply: what the ACS is willing to do for this SC.
type ACSStatus struct {
	Online         bool
	CheckinOK      bool // Koha often says N here yet handles checkins; see Client
	CheckoutOK     bool
	RenewalPolicy  bool
	StatusUpdateOK bool
	OfflineOK      bool
	Timeout        string // 3 characters: tenths of a second, "000" for none
	Retries        string // 3 characters, "999" for unknown
	DateTime       time.Time
	Protocol       string // "2.00"

	Institution       string // AO
	LibraryName       string // AM
	SupportedMessages string // BX: 16 Y/N flags, see SupportedMessage
	TerminalLocation  string // AN
	ScreenMessages    []string
	PrintLines        []string
	Extra             []Field // fields this package does not name, kept in order
}

// Supports reports whether BX marks message m as supported. Without BX (a
// 1.00 ACS) everything is assumed supported and the ACS's reply decides.
func (m *ACSStatus) Supports(s SupportedMessage) bool {
	if int(s) >= len(m.SupportedMessages) || s < 0 {
		return true
	}
	return m.SupportedMessages[s] == 'Y'
}

// Frame implements Message.
func (m *ACSStatus) Frame() *Frame {
	fixed := make([]byte, 0, 34)
	for _, b := range []bool{m.Online, m.CheckinOK, m.CheckoutOK, m.RenewalPolicy, m.StatusUpdateOK, m.OfflineOK} {
		fixed = append(fixed, yn(b))
	}
	fixed = append(fixed, pad3(m.Timeout, "000")...)
	fixed = append(fixed, pad3(m.Retries, "999")...)
	fixed = append(fixed, FormatDate(m.DateTime, nil)...)
	p := m.Protocol
	if len(p) != 4 {
		p = defaultProtocolVersion
	}
	fixed = append(fixed, p...)
	f := &Frame{Code: CodeACSStatus, Seq: -1, Fixed: string(fixed)}
	f.Fields = append(f.Fields, Field{"AO", m.Institution})
	f.Fields = maybe(f.Fields, "AM", m.LibraryName)
	f.Fields = maybe(f.Fields, "BX", m.SupportedMessages)
	f.Fields = maybe(f.Fields, "AN", m.TerminalLocation)
	f.Fields = repeated(f.Fields, "AF", m.ScreenMessages)
	f.Fields = repeated(f.Fields, "AG", m.PrintLines)
	f.Fields = append(f.Fields, m.Extra...)
	return f
}

func decodeACSStatus(f *Frame, loc *time.Location) (*ACSStatus, error) {
	x := f.Fixed
	m := &ACSStatus{
		Online: x[0] == 'Y', CheckinOK: x[1] == 'Y', CheckoutOK: x[2] == 'Y',
		RenewalPolicy: x[3] == 'Y', StatusUpdateOK: x[4] == 'Y', OfflineOK: x[5] == 'Y',
		Timeout: x[6:9], Retries: x[9:12], Protocol: x[30:34],
	}
	m.DateTime, _ = ParseDate(x[12:30], loc)
	var err error
	if m.Institution, err = required(f, "AO", "institution id"); err != nil {
		return nil, err
	}
	for _, fl := range f.Fields {
		switch fl.Code {
		case "AO":
		case "AM":
			m.LibraryName = fl.Value
		case "BX":
			m.SupportedMessages = fl.Value
		case "AN":
			m.TerminalLocation = fl.Value
		case "AF":
			m.ScreenMessages = append(m.ScreenMessages, fl.Value)
		case "AG":
			m.PrintLines = append(m.PrintLines, fl.Value)
		default:
			m.Extra = append(m.Extra, fl)
		}
	}
	return m, nil
}

// ---- 17 / 18 ----

// ItemInformation is the 17 request.
type ItemInformation struct {
	TransactionDate  time.Time
	Zone             *time.Location // zone the date is written in; nil: the date's own
	Institution      string         // AO
	ItemID           string         // AB: the barcode
	TerminalPassword string         // AC; always sent, empty when unset
}

// Frame implements Message.
func (m *ItemInformation) Frame() *Frame {
	return &Frame{Code: CodeItemInformation, Seq: -1, Fixed: FormatDate(m.TransactionDate, m.Zone),
		Fields: []Field{{"AO", m.Institution}, {"AB", m.ItemID}, {"AC", m.TerminalPassword}}}
}

func decodeItemInformation(f *Frame, loc *time.Location) (*ItemInformation, error) {
	m := &ItemInformation{Zone: loc}
	m.TransactionDate, _ = ParseDate(f.Fixed, loc)
	var err error
	if m.Institution, err = required(f, "AO", "institution id"); err != nil {
		return nil, err
	}
	if m.ItemID, err = required(f, "AB", "item identifier"); err != nil {
		return nil, err
	}
	m.TerminalPassword, _ = f.Get("AC")
	return m, nil
}

// ItemInfo is the 18 reply: what the ACS knows about one item.
type ItemInfo struct {
	CirculationStatus CirculationStatus
	SecurityMarker    string // 2 digits: 00 other, 01 none, 02 3M tattle-tape, 03 3M whisper tape
	FeeType           string // 2 digits: 01 other/unknown … 09
	TransactionDate   time.Time

	ItemID            string // AB
	Title             string // AJ
	DueDate           string // AH, as sent: Koha sends an 18-character date unless format_due_date is set
	PermanentLocation string // AQ
	CurrentLocation   string // AP
	Destination       string // CT (3M extension): where a checked-in item should go
	CallNumber        string // CS (3M extension)
	CollectionCode    string // CR (3M extension)
	MediaType         string // CK
	ItemProperties    string // CH
	Owner             string // BG
	HoldQueueLength   string // CF
	ScreenMessages    []string
	PrintLines        []string
	Extra             []Field
}

// Unknown reports whether the ACS did not recognise the barcode. SIP2 has
// no flag for this; Koha (and most ACSes) answer an unknown item with
// circulation status 01 "other" and an empty title.
func (m *ItemInfo) Unknown() bool {
	return m.CirculationStatus == CircOther && m.Title == ""
}

// Due parses DueDate when it is an 18-character SIP2 date.
func (m *ItemInfo) Due(loc *time.Location) (time.Time, bool) {
	return ParseDate(m.DueDate, loc)
}

// Frame implements Message.
func (m *ItemInfo) Frame() *Frame {
	fixed := fmt.Sprintf("%02d%s%s%s", clamp99(int(m.CirculationStatus)), pad2(m.SecurityMarker, "00"), pad2(m.FeeType, "01"), FormatDate(m.TransactionDate, nil))
	f := &Frame{Code: CodeItemInfoResponse, Seq: -1, Fixed: fixed}
	fs := f.Fields
	fs = maybe(fs, "CF", m.HoldQueueLength)
	fs = maybe(fs, "AH", m.DueDate)
	fs = append(fs, Field{"AB", m.ItemID}, Field{"AJ", m.Title})
	fs = maybe(fs, "BG", m.Owner)
	fs = maybe(fs, "CK", m.MediaType)
	fs = maybe(fs, "AQ", m.PermanentLocation)
	fs = maybe(fs, "AP", m.CurrentLocation)
	fs = maybe(fs, "CH", m.ItemProperties)
	fs = maybe(fs, "CR", m.CollectionCode)
	fs = maybe(fs, "CS", m.CallNumber)
	fs = maybe(fs, "CT", m.Destination)
	fs = repeated(fs, "AF", m.ScreenMessages)
	fs = repeated(fs, "AG", m.PrintLines)
	f.Fields = append(fs, m.Extra...)
	return f
}

func decodeItemInfo(f *Frame, loc *time.Location) (*ItemInfo, error) {
	x := f.Fixed
	if !allDigits(x[0:2]) {
		return nil, perr(2, f.Code, "circulation status %q is not 2 digits", x[0:2])
	}
	cs, _ := strconv.Atoi(x[0:2])
	m := &ItemInfo{CirculationStatus: CirculationStatus(cs), SecurityMarker: x[2:4], FeeType: x[4:6]}
	m.TransactionDate, _ = ParseDate(x[6:24], loc)
	var err error
	if m.ItemID, err = required(f, "AB", "item identifier"); err != nil {
		return nil, err
	}
	if m.Title, err = required(f, "AJ", "title identifier"); err != nil {
		return nil, err
	}
	for _, fl := range f.Fields {
		switch fl.Code {
		case "AB", "AJ":
		case "AH":
			m.DueDate = fl.Value
		case "AQ":
			m.PermanentLocation = fl.Value
		case "AP":
			m.CurrentLocation = fl.Value
		case "CT":
			m.Destination = fl.Value
		case "CS":
			m.CallNumber = fl.Value
		case "CR":
			m.CollectionCode = fl.Value
		case "CK":
			m.MediaType = fl.Value
		case "CH":
			m.ItemProperties = fl.Value
		case "BG":
			m.Owner = fl.Value
		case "CF":
			m.HoldQueueLength = fl.Value
		case "AF":
			m.ScreenMessages = append(m.ScreenMessages, fl.Value)
		case "AG":
			m.PrintLines = append(m.PrintLines, fl.Value)
		default:
			m.Extra = append(m.Extra, fl)
		}
	}
	return m, nil
}

// ---- 09 / 10 ----

// Checkin is the 09 request. It ends a loan and may trigger holds and
// transfers, so it is not safe to repeat.
type Checkin struct {
	NoBlock          bool // 'Y': an offline checkin the ACS must accept
	TransactionDate  time.Time
	ReturnDate       time.Time
	Zone             *time.Location // zone the dates are written in; nil: the dates' own
	CurrentLocation  string         // AP
	Institution      string         // AO
	ItemID           string         // AB
	TerminalPassword string         // AC; always sent, empty when unset
	ItemProperties   string         // CH, optional
	Cancel           string         // BI, optional: "Y" cancels a previous checkout
}

// Frame implements Message.
func (m *Checkin) Frame() *Frame {
	f := &Frame{Code: CodeCheckin, Seq: -1,
		Fixed:  string(yn(m.NoBlock)) + FormatDate(m.TransactionDate, m.Zone) + FormatDate(m.ReturnDate, m.Zone),
		Fields: []Field{{"AP", m.CurrentLocation}, {"AO", m.Institution}, {"AB", m.ItemID}, {"AC", m.TerminalPassword}}}
	f.Fields = maybe(f.Fields, "CH", m.ItemProperties)
	f.Fields = maybe(f.Fields, "BI", m.Cancel)
	return f
}

func decodeCheckin(f *Frame, loc *time.Location) (*Checkin, error) {
	m := &Checkin{NoBlock: f.Fixed[0] == 'Y', Zone: loc}
	m.TransactionDate, _ = ParseDate(f.Fixed[1:19], loc)
	m.ReturnDate, _ = ParseDate(f.Fixed[19:37], loc)
	var err error
	if m.Institution, err = required(f, "AO", "institution id"); err != nil {
		return nil, err
	}
	if m.ItemID, err = required(f, "AB", "item identifier"); err != nil {
		return nil, err
	}
	m.CurrentLocation, _ = f.Get("AP")
	m.TerminalPassword, _ = f.Get("AC")
	m.ItemProperties, _ = f.Get("CH")
	m.Cancel, _ = f.Get("BI")
	return m, nil
}

// CheckinResult is the 10 reply.
type CheckinResult struct {
	OK              bool // the checkin was accepted
	Resensitize     bool // put the security strip back on
	MagneticMedia   byte // 'Y', 'N' or 'U' (unknown)
	Alert           bool // set the item aside: a hold, a transfer, or a problem
	TransactionDate time.Time

	Institution       string // AO
	ItemID            string // AB
	PermanentLocation string // AQ
	Title             string // AJ
	SortBin           string // CL
	PatronID          string // AA
	MediaType         string // CK
	ItemProperties    string // CH
	CallNumber        string // CS
	Destination       string // CT
	CollectionCode    string // CR
	AlertType         string // CV: 01 hold here, 02 hold elsewhere, 04 transfer, 99 other
	HoldPatronID      string // CY
	HoldPatronName    string // DA
	ScreenMessages    []string
	PrintLines        []string
	Extra             []Field
}

// Frame implements Message.
func (m *CheckinResult) Frame() *Frame {
	mm := m.MagneticMedia
	if mm != 'Y' && mm != 'N' {
		mm = 'U'
	}
	fixed := string(boolDigit(m.OK)) + string(yn(m.Resensitize)) + string(mm) + string(yn(m.Alert)) + FormatDate(m.TransactionDate, nil)
	fs := []Field{{"AO", m.Institution}, {"AB", m.ItemID}}
	fs = maybe(fs, "AQ", m.PermanentLocation)
	fs = maybe(fs, "AJ", m.Title)
	fs = maybe(fs, "CL", m.SortBin)
	fs = maybe(fs, "AA", m.PatronID)
	fs = maybe(fs, "CK", m.MediaType)
	fs = maybe(fs, "CH", m.ItemProperties)
	fs = maybe(fs, "CS", m.CallNumber)
	fs = maybe(fs, "CY", m.HoldPatronID)
	fs = maybe(fs, "CT", m.Destination)
	fs = maybe(fs, "DA", m.HoldPatronName)
	fs = maybe(fs, "CR", m.CollectionCode)
	fs = maybe(fs, "CV", m.AlertType)
	fs = repeated(fs, "AF", m.ScreenMessages)
	fs = repeated(fs, "AG", m.PrintLines)
	return &Frame{Code: CodeCheckinResponse, Seq: -1, Fixed: fixed, Fields: append(fs, m.Extra...)}
}

func decodeCheckinResult(f *Frame, loc *time.Location) (*CheckinResult, error) {
	x := f.Fixed
	m := &CheckinResult{OK: x[0] == '1', Resensitize: x[1] == 'Y', MagneticMedia: x[2], Alert: x[3] == 'Y'}
	m.TransactionDate, _ = ParseDate(x[4:22], loc)
	var err error
	if m.Institution, err = required(f, "AO", "institution id"); err != nil {
		return nil, err
	}
	if m.ItemID, err = required(f, "AB", "item identifier"); err != nil {
		return nil, err
	}
	for _, fl := range f.Fields {
		switch fl.Code {
		case "AO", "AB":
		case "AQ":
			m.PermanentLocation = fl.Value
		case "AJ":
			m.Title = fl.Value
		case "CL":
			m.SortBin = fl.Value
		case "AA":
			m.PatronID = fl.Value
		case "CK":
			m.MediaType = fl.Value
		case "CH":
			m.ItemProperties = fl.Value
		case "CS":
			m.CallNumber = fl.Value
		case "CT":
			m.Destination = fl.Value
		case "CR":
			m.CollectionCode = fl.Value
		case "CV":
			m.AlertType = fl.Value
		case "CY":
			m.HoldPatronID = fl.Value
		case "DA":
			m.HoldPatronName = fl.Value
		case "AF":
			m.ScreenMessages = append(m.ScreenMessages, fl.Value)
		case "AG":
			m.PrintLines = append(m.PrintLines, fl.Value)
		default:
			m.Extra = append(m.Extra, fl)
		}
	}
	return m, nil
}

// ---- 96 / 97 ----

// Resend is a request to resend the last message: 96 from the ACS (it could
// not read our request), 97 from the SC (we could not read its response).
type Resend struct {
	Code string // CodeRequestSCResend or CodeRequestACSResend
}

// Frame implements Message.
func (m *Resend) Frame() *Frame { return &Frame{Code: m.Code, Seq: -1} }

// ---- dispatch ----

// DecodeReply turns a frame from the ACS into its typed message: *LoginResponse,
// *ACSStatus, *ItemInfo, *CheckinResult or *Resend (96). Dates without a zone
// are read in loc (nil: time.Local).
func DecodeReply(f *Frame, loc *time.Location) (Message, error) {
	switch f.Code {
	case CodeLoginResponse:
		return decodeLoginResponse(f)
	case CodeACSStatus:
		return decodeACSStatus(f, loc)
	case CodeItemInfoResponse:
		return decodeItemInfo(f, loc)
	case CodeCheckinResponse:
		return decodeCheckinResult(f, loc)
	case CodeRequestSCResend:
		return &Resend{Code: f.Code}, nil
	}
	return nil, perr(0, f.Code, "message %s is not a reply this client expects", f.Code)
}

// DecodeRequest turns a frame from an SC into its typed message: *Login,
// *SCStatus, *ItemInformation, *Checkin or *Resend (97).
func DecodeRequest(f *Frame, loc *time.Location) (Message, error) {
	switch f.Code {
	case CodeLogin:
		return decodeLogin(f)
	case CodeSCStatus:
		return decodeSCStatus(f)
	case CodeItemInformation:
		return decodeItemInformation(f, loc)
	case CodeCheckin:
		return decodeCheckin(f, loc)
	case CodeRequestACSResend:
		return &Resend{Code: f.Code}, nil
	}
	return nil, perr(0, f.Code, "message %s is not a request this package handles", f.Code)
}

// ParseReply parses and decodes one message from the ACS (terminator
// stripped). It is the entry point the fuzz test drives.
func ParseReply(b []byte, loc *time.Location) (Message, *Frame, error) {
	f, err := ParseFrame(b)
	if err != nil {
		return nil, nil, err
	}
	m, err := DecodeReply(f, loc)
	if err != nil {
		return nil, f, err
	}
	return m, f, nil
}

// ParseRequest parses and decodes one message from an SC.
func ParseRequest(b []byte, loc *time.Location) (Message, *Frame, error) {
	f, err := ParseFrame(b)
	if err != nil {
		return nil, nil, err
	}
	m, err := DecodeRequest(f, loc)
	if err != nil {
		return nil, f, err
	}
	return m, f, nil
}

// ---- helpers ----

func required(f *Frame, code, name string) (string, error) {
	if v, ok := f.Get(code); ok {
		return v, nil
	}
	start := 2 + len(f.Fixed)
	return "", perr(start, f.Code, "required field %s (%s) is missing from the variable fields that start here", code, name)
}

func maybe(fs []Field, code, v string) []Field {
	if v == "" {
		return fs
	}
	return append(fs, Field{code, v})
}

func repeated(fs []Field, code string, vs []string) []Field {
	for _, v := range vs {
		fs = append(fs, Field{code, v})
	}
	return fs
}

func yn(b bool) byte {
	if b {
		return 'Y'
	}
	return 'N'
}

func boolDigit(b bool) []byte {
	if b {
		return []byte{'1'}
	}
	return []byte{'0'}
}

func orByte(b, def byte) byte {
	if b == 0 {
		return def
	}
	return b
}

func pad2(s, def string) string {
	if len(s) != 2 {
		return def
	}
	return s
}

func pad3(s, def string) string {
	if len(s) != 3 {
		return def
	}
	return s
}

func clamp99(n int) int {
	if n < 0 || n > 99 {
		return 1
	}
	return n
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
