package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/barcode"
	"github.com/tally-inventory/tally/drivers/feedback"
)

// Control commands, the word after barcode.ControlPrefix.
const (
	CmdShelf    = "SHELF"  // SHELF:<inventory>: start a shelf session, bind this scanner
	CmdCart     = "CART"   // CART:<inventory>:<cart>: start a cart check
	CmdPause    = "PAUSE"  // pause this scanner's session
	CmdResume   = "RESUME" // resume it
	CmdEnd      = "END"    // end it
	CmdUndo     = "UNDO"   // take back its last read
	CmdOperator = "OP"     // OP:<name>: an operator badge, "I am Ana"
)

// Control is one parsed control barcode.
type Control struct {
	Cmd       string
	Inventory int64  // SHELF, CART
	Cart      string // CART
	Operator  string // OP
}

// Code is the barcode text of c.
func (c Control) Code() string {
	p := barcode.ControlPrefix + c.Cmd
	switch c.Cmd {
	case CmdShelf:
		return p + ":" + strconv.FormatInt(c.Inventory, 10)
	case CmdCart:
		return p + ":" + strconv.FormatInt(c.Inventory, 10) + ":" + c.Cart
	case CmdOperator:
		return p + ":" + c.Operator
	}
	return p
}

// MaxControlName bounds operator and cart names on a control barcode: a
// longer Code 128 symbol no longer fits the width of a page.
const MaxControlName = 40

// CheckControlName says why a name cannot go on a control barcode: a
// keyboard-wedge scanner types printable ASCII only.
func CheckControlName(what, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return fmt.Errorf("%s name is empty", what)
	case len(name) > MaxControlName:
		return fmt.Errorf("%s name %q is %d characters; at most %d fit on a barcode", what, name, len(name), MaxControlName)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("%s name %q: byte %d (0x%02x) is not printable ASCII, which is all a keyboard-wedge scanner types; spell it without accents", what, name, i, c)
		}
	}
	return nil
}

// ParseControl reads a normalized control barcode.
func ParseControl(code string) (Control, error) {
	rest, ok := strings.CutPrefix(code, barcode.ControlPrefix)
	if !ok {
		return Control{}, fmt.Errorf("%q is not a control barcode (they start with %s)", code, barcode.ControlPrefix)
	}
	cmd, arg, _ := strings.Cut(rest, ":")
	c := Control{Cmd: cmd}
	bad := func(why string) (Control, error) {
		return Control{}, fmt.Errorf("control barcode %q: %s; print a fresh sheet with `tally sheet control`", code, why)
	}
	switch cmd {
	case CmdPause, CmdResume, CmdEnd, CmdUndo:
		if arg != "" {
			return bad("unexpected text after " + cmd)
		}
	case CmdShelf, CmdCart:
		inv, cart, _ := strings.Cut(arg, ":")
		n, err := strconv.ParseInt(inv, 10, 64)
		if err != nil || n <= 0 {
			return bad("no inventory number after " + cmd)
		}
		c.Inventory = n
		if cmd == CmdCart {
			if strings.TrimSpace(cart) == "" {
				return bad("no cart name")
			}
			c.Cart = cart
		} else if cart != "" {
			return bad("unexpected text after the inventory number")
		}
	case CmdOperator:
		if err := CheckControlName("operator", arg); err != nil {
			return bad(err.Error())
		}
		c.Operator = arg
	default:
		return bad("unknown command " + strconv.Quote(cmd))
	}
	return c, nil
}

// Controls are the actions a control barcode takes: the same ones the UI's
// buttons take, so that a scanned command and a tapped one are one thing.
// The web server provides them when the UI runs (its own handlers'
// functions, which also refresh open screens); EngineControls otherwise.
type Controls interface {
	StartSession(ctx context.Context, invID int64, kind store.SessionKind, cart, operator, device string) (*store.Session, error)
	SetState(ctx context.Context, sessionID int64, state store.SessionState) (*store.Session, error)
	Undo(ctx context.Context, sessionID int64) error
}

// EngineControls are Controls without a UI: the engine calls the UI's
// handlers make.
type EngineControls struct {
	E    *Engine
	Devs *Devices
}

func (c EngineControls) StartSession(ctx context.Context, invID int64, kind store.SessionKind, cart, operator, device string) (*store.Session, error) {
	s, err := c.E.StartSession(ctx, invID, kind, cart, operator, device)
	if err != nil || device == "" || c.Devs == nil {
		return s, err
	}
	if err := c.Devs.Bind(ctx, device, s.ID); err != nil {
		return s, fmt.Errorf("session %d started, but binding %s failed: %w", s.ID, device, err)
	}
	return s, nil
}

func (c EngineControls) SetState(ctx context.Context, id int64, state store.SessionState) (*store.Session, error) {
	return c.E.SetSessionState(ctx, id, state)
}

func (c EngineControls) Undo(ctx context.Context, id int64) error {
	_, err := c.E.Undo(ctx, id)
	return err
}

// Controller acts on control barcodes scanned on any device, journals
// each, and remembers each device's operator so the reads after a badge
// carry the name.
type Controller struct {
	DB      *store.DB
	Devs    *Devices
	Actions Controls
	// Signal plays a control's pattern (feedback.SessionStarted, …) on the
	// buzzer and LEDs, in the device's order of reads; nil plays nothing.
	Signal func(device, pattern string)

	mu       sync.Mutex
	operator map[string]string // device → name from its last badge
}

// Operator is the name of the last badge scanned on a device.
func (c *Controller) Operator(device string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.operator[device]
}

// ErrNotBound refuses a command that needs the scanner's session when it has none.
var ErrNotBound = errors.New("this scanner is not in a session: scan a start code first")

// Handle acts on one control read of a device and returns the pattern to
// signal. A refusal is journaled, returns control_refused and the error.
func (c *Controller) Handle(ctx context.Context, device string, rd drivers.Read) (string, error) {
	code := barcode.Normalize(rd.Code)
	row := &store.ControlRow{At: rd.Time, Device: device, Code: code, Operator: c.Operator(device)}
	pattern, err := c.act(ctx, device, code, row)
	if err != nil {
		pattern = feedback.ControlRefused
		row.Refused = err.Error()
	}
	if _, jerr := c.DB.InsertControl(context.WithoutCancel(ctx), row); jerr != nil {
		err = errors.Join(err, jerr)
		pattern = feedback.Error
	}
	return pattern, err
}

func (c *Controller) act(ctx context.Context, device, code string, row *store.ControlRow) (string, error) {
	ctl, err := ParseControl(code)
	row.Command = strings.ToLower(ctl.Cmd)
	if err != nil {
		row.Command = "invalid"
		return "", err
	}
	sid := int64(0)
	if c.Devs != nil {
		sid = c.Devs.Binding(device)
	}
	row.SessionID = sid
	switch ctl.Cmd {
	case CmdOperator:
		c.mu.Lock()
		if c.operator == nil {
			c.operator = map[string]string{}
		}
		c.operator[device] = ctl.Operator
		c.mu.Unlock()
		row.Operator = ctl.Operator
		return feedback.OperatorSet, nil
	case CmdShelf, CmdCart:
		kind := store.SessionShelf
		if ctl.Cmd == CmdCart {
			kind = store.SessionCart
		}
		row.InventoryID = ctl.Inventory
		s, err := c.Actions.StartSession(ctx, ctl.Inventory, kind, ctl.Cart, row.Operator, device)
		if s != nil {
			row.SessionID = s.ID
		}
		if err != nil {
			return "", err
		}
		return feedback.SessionStarted, nil
	}
	if sid == 0 {
		return "", ErrNotBound
	}
	switch ctl.Cmd {
	case CmdPause:
		_, err = c.Actions.SetState(ctx, sid, store.SessionPaused)
		return feedback.SessionPaused, err
	case CmdResume:
		_, err = c.Actions.SetState(ctx, sid, store.SessionOpen)
		return feedback.SessionResumed, err
	case CmdEnd:
		_, err = c.Actions.SetState(ctx, sid, store.SessionEnded)
		return feedback.SessionEnded, err
	default: // CmdUndo
		return feedback.Undone, c.Actions.Undo(ctx, sid)
	}
}
