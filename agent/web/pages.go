package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/report"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/sync/outbox"
)

type pageTmpl struct{ t *template.Template }

var pageNames = []string{"home", "login", "inventory_new", "inventory", "scan", "cart", "finalize", "reports",
	"report", "devices", "sync", "error"}

var funcs = template.FuncMap{
	"money":     money,
	"thousands": thousands,
	"label":     label,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Local().Format("2006-01-02 15:04")
	},
	"words": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"join":  strings.Join,
	"has":   func(v url.Values, k, x string) bool { return v != nil && contains(v[k], x) },
	"get":   func(v url.Values, k string) string { return v.Get(k) },
	"pctw":  func(p float64) string { return fmt.Sprintf("%.1f", p) },
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, errors.New("dict: odd arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, errors.New("dict: key is not a string")
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
	"addf": func(a, b float64) float64 { return a + b },
	"segN": func(r BarRow, o string) int {
		for _, s := range r.Segs {
			if s.Outcome == o {
				return s.N
			}
		}
		return 0
	},
}

var reportLabels = map[string]string{"summary": "Summary", "missing": "Missing", "misplaced": "Misplaced",
	"out_of_order": "Shelf order", "found": "Found", "checked_out_on_shelf": "Checked out on the shelf",
	"withdrawn_on_shelf": "Withdrawn on the shelf", "hold_pickup": "Holds to pull", "unknown": "Unknown barcodes",
	"invalid": "Invalid reads", "carts": "Carts", "pulled": "Pulled", "pull_not_found": "Pull list: not found"}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func parsePages() (map[string]*pageTmpl, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "assets/templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	out := map[string]*pageTmpl{}
	for _, n := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(assets, "assets/templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
		out[n] = &pageTmpl{t: t}
	}
	return out, nil
}

// page is what the layout gets.
type page struct {
	Title string
	Site  string
	CSRF  string
	Login bool
	Nav   string
	Body  string // data-page, tells app.js what to wire
	Data  any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name, title string, data any) {
	p := s.pages[name]
	if p == nil {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	nav := name
	if i := strings.IndexByte(nav, '_'); i > 0 {
		nav = nav[:i]
	}
	var buf bytes.Buffer
	err := p.t.ExecuteTemplate(&buf, "layout", page{Title: title, Site: s.opts.Title, CSRF: s.auth.csrf(sidOf(r)),
		Login: s.login, Nav: nav, Body: name, Data: data})
	if err != nil {
		log.Printf("web: render %s: %v", name, err)
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	w.WriteHeader(code)
	s.render(w, r, "error", "Something went wrong", map[string]any{"Code": code, "Msg": err.Error(), "Back": safeNext(r.URL.Path)})
}

// userError is a problem with what the person asked for, shown as is.
type userError struct{ msg string }

func (e userError) Error() string { return e.msg }

func badRequest(format string, a ...any) error { return userError{fmt.Sprintf(format, a...)} }

func statusOf(err error) int {
	var ue userError
	switch {
	case errors.As(err, &ue):
		return http.StatusBadRequest
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, engine.ErrSessionClosed):
		return http.StatusConflict
	}
	msg := err.Error()
	if strings.Contains(msg, "finalized") || strings.Contains(msg, "exists already") || strings.Contains(msg, "has ended") {
		return http.StatusConflict
	}
	if strings.Contains(msg, "want ") || strings.Contains(msg, "needs") || strings.Contains(msg, "backwards") {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

func httpError(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), statusOf(err))
}

func pathID(w http.ResponseWriter, r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		http.Error(w, "not a valid id: "+r.PathValue(name), http.StatusNotFound)
		return 0, false
	}
	return id, true
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(staticFS())))
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.loginPost)
	m.HandleFunc("POST /logout", s.logoutPost)

	m.HandleFunc("GET /{$}", s.home)
	m.HandleFunc("GET /inventories/new", s.inventoryNew)
	m.HandleFunc("POST /inventories", s.inventoryCreate)
	m.HandleFunc("GET /inventories/{id}", s.inventoryShow)
	m.HandleFunc("POST /inventories/{id}/sessions", s.sessionStart)
	m.HandleFunc("GET /inventories/{id}/finalize", s.finalizeShow)
	m.HandleFunc("POST /inventories/{id}/finalize", s.finalizePost)
	m.HandleFunc("GET /inventories/{id}/reports", s.reportsShow)
	m.HandleFunc("GET /inventories/{id}/reports/{name}", s.reportShow)
	m.HandleFunc("GET /reports/collection", s.collectionShow)
	m.HandleFunc("GET /sessions/{id}", s.sessionShow)
	m.HandleFunc("GET /sessions/{id}/events", s.events)
	m.HandleFunc("POST /sessions/{id}/reads", s.readPost)
	m.HandleFunc("POST /sessions/{id}/undo", s.undoPost)
	m.HandleFunc("POST /sessions/{id}/state", s.statePost)
	m.HandleFunc("GET /devices", s.devicesShow)
	m.HandleFunc("POST /devices/bind", s.bindPost)
	m.HandleFunc("GET /sync", s.syncShow)
	m.HandleFunc("POST /sync/retry", s.retryPost)
	s.apiRoutes(m)
	s.mux = m
	s.h = s.secure(m)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	db := s.b.Store()
	invs, err := db.Inventories(ctx)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	type row struct {
		Inv      *store.Inventory
		Sessions []*store.Session
	}
	var rows []row
	for _, inv := range invs {
		ss, err := db.Sessions(ctx, inv.ID)
		if err != nil {
			s.errorPage(w, r, err)
			return
		}
		rows = append(rows, row{inv, ss})
	}
	s.render(w, r, "home", "Inventories", map[string]any{"Inventories": rows, "Devices": s.b.Devices(), "Items": s.b.Catalog().Len()})
}

// picker is one scope list: the distinct values in the catalog.
type picker struct {
	Name   string // form field
	Legend string
	Values []pickValue
}

type pickValue struct {
	Value string
	N     int
}

func (s *Server) pickers() []picker {
	sets := []map[string]int{{}, {}, {}, {}}
	s.b.Catalog().Each(func(_ catalog.Ref, it *catalog.Item) bool {
		for i, v := range []string{it.Library, it.Location, it.Collection, it.ItemType} {
			if v != "" {
				sets[i][v]++
			}
		}
		return true
	})
	names := []struct{ field, legend string }{{"library", "Libraries"}, {"location", "Shelving locations"},
		{"collection", "Collections"}, {"item_type", "Item types"}}
	out := make([]picker, 0, 5)
	for i, n := range names {
		p := picker{Name: n.field, Legend: n.legend}
		for v, c := range sets[i] {
			p.Values = append(p.Values, pickValue{v, c})
		}
		sort.Slice(p.Values, func(a, b int) bool { return p.Values[a].Value < p.Values[b].Value })
		out = append(out, p)
	}
	cp := picker{Name: "container", Legend: "Carts and kits"}
	for _, c := range s.b.Catalog().Containers() {
		cp.Values = append(cp.Values, pickValue{c, len(s.b.Catalog().Container(c))})
	}
	return append(out, cp)
}

// defaultSkips are the statuses the new-inventory form ticks: the one
// default policy the CLI and the API use too.
var defaultSkips = func() []string {
	var out []string
	for _, st := range engine.DefaultSkipStatuses() {
		out = append(out, string(st))
	}
	return out
}()

func (s *Server) inventoryNew(w http.ResponseWriter, r *http.Request) {
	form := url.Values{"skip_status": defaultSkips, "clear_lost": {"on"}, "shelf_order": {"on"}, "missing_lost_value": {"4"}}
	s.newForm(w, r, form, "")
}

func (s *Server) newForm(w http.ResponseWriter, r *http.Request, form url.Values, msg string) {
	s.render(w, r, "inventory_new", "New inventory", map[string]any{"Pickers": s.pickers(), "Statuses": catalog.Statuses,
		"Form": form, "Error": msg})
}

// scopeFromForm reads the new-inventory form.
func scopeFromForm(f url.Values) (string, catalog.Scope, reconcile.Policy, error) {
	clean := func(k string) []string {
		var out []string
		for _, v := range f[k] {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	sc := catalog.Scope{Libraries: clean("library"), Locations: clean("location"), Collections: clean("collection"),
		ItemTypes: clean("item_type"), Containers: clean("container"),
		CallFrom: strings.TrimSpace(f.Get("call_from")), CallTo: strings.TrimSpace(f.Get("call_to"))}
	for _, k := range clean("kind") {
		switch catalog.Kind(k) {
		case catalog.KindBook, catalog.KindEquipment:
			sc.Kinds = append(sc.Kinds, catalog.Kind(k))
		default:
			return "", sc, reconcile.Policy{}, badRequest("kind %q: want book or equipment", k)
		}
	}
	for _, st := range clean("skip_status") {
		p, err := catalog.ParseStatus(st)
		if err != nil {
			return "", sc, reconcile.Policy{}, userError{err.Error()}
		}
		sc.SkipStatuses = append(sc.SkipStatuses, p)
	}
	if d := strings.TrimSpace(f.Get("skip_seen_since")); d != "" {
		t, err := time.ParseInLocation("2006-01-02", d, time.Local)
		if err != nil {
			return "", sc, reconcile.Policy{}, badRequest("skip items seen since %q: want a date such as 2026-09-01", d)
		}
		sc.SkipSeenSince = t
	}
	pol := reconcile.Policy{ClearLost: f.Get("clear_lost") != "", CheckIn: f.Get("check_in") != "", ShelfOrder: f.Get("shelf_order") != ""}
	if v := strings.TrimSpace(f.Get("missing_lost_value")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 99 {
			return "", sc, pol, badRequest("lost value for missing items %q: want a number from 0 (only report) to 99", v)
		}
		pol.MissingLostValue = n
	}
	return strings.TrimSpace(f.Get("name")), sc, pol, nil
}

func (s *Server) inventoryCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, badRequest("could not read the form: %v", err))
		return
	}
	name, sc, pol, err := scopeFromForm(r.PostForm)
	if err == nil {
		var inv *store.Inventory
		if inv, err = s.b.Store().CreateInventory(r.Context(), name, sc, pol); err == nil {
			http.Redirect(w, r, fmt.Sprintf("/inventories/%d", inv.ID), http.StatusSeeOther)
			return
		}
	}
	w.WriteHeader(statusOf(err))
	s.newForm(w, r, r.PostForm, err.Error())
}

func (s *Server) inventoryShow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	ctx := r.Context()
	db := s.b.Store()
	inv, err := db.Inventory(ctx, id)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	ss, err := db.Sessions(ctx, id)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	p, err := progressFor(ctx, s.b, inv)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	listed, pulled, err := db.PullProgress(ctx, id)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	pull := map[string]int{"Listed": listed, "Pulled": pulled, "Left": listed - pulled}
	s.render(w, r, "inventory", inv.Name, map[string]any{"Inv": inv, "Sessions": ss, "Progress": p, "Pull": pull,
		"Carts": s.b.Catalog().Containers(), "Devices": s.b.Devices(), "Scope": scopeWords(&inv.Scope)})
}

// scopeWords says what an inventory covers, for people.
func scopeWords(sc *catalog.Scope) []string {
	var out []string
	add := func(k string, v []string) {
		if len(v) > 0 {
			out = append(out, k+": "+strings.Join(v, ", "))
		}
	}
	add("Libraries", sc.Libraries)
	add("Locations", sc.Locations)
	add("Collections", sc.Collections)
	add("Item types", sc.ItemTypes)
	add("Carts", sc.Containers)
	var kinds, skips []string
	for _, k := range sc.Kinds {
		kinds = append(kinds, string(k))
	}
	for _, k := range sc.SkipStatuses {
		skips = append(skips, strings.ReplaceAll(string(k), "_", " "))
	}
	add("Kinds", kinds)
	if sc.CallFrom != "" || sc.CallTo != "" {
		out = append(out, "Call numbers: "+orDefault(sc.CallFrom, "start")+" to "+orDefault(sc.CallTo, "end"))
	}
	add("Not expected when", skips)
	if !sc.SkipSeenSince.IsZero() {
		out = append(out, "Not expected when seen since "+sc.SkipSeenSince.Format("2006-01-02"))
	}
	if len(out) == 0 {
		out = append(out, "The whole collection")
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (s *Server) sessionStart(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	f := r.PostForm
	sess, err := s.startSession(r.Context(), id, store.SessionKind(f.Get("kind")), f.Get("cart"), f.Get("operator"), f.Get("device"))
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/sessions/%d", sess.ID), http.StatusSeeOther)
}

func (s *Server) startSession(ctx context.Context, invID int64, kind store.SessionKind, cart, operator, device string) (*store.Session, error) {
	operator, device, cart = strings.TrimSpace(operator), strings.TrimSpace(device), strings.TrimSpace(cart)
	if len(operator) > 100 || len(cart) > 100 {
		return nil, badRequest("operator and cart names are at most 100 characters")
	}
	if kind != store.SessionCart {
		cart = ""
	}
	sess, err := s.b.StartSession(ctx, invID, kind, cart, operator, device)
	if err != nil {
		return nil, err
	}
	if device != "" {
		if err := s.b.Bind(device, sess.ID); err != nil {
			return sess, fmt.Errorf("session %d started, but binding %s failed: %w", sess.ID, device, err)
		}
	}
	return sess, nil
}

func (s *Server) sessionShow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	_, v, err := s.load(r.Context(), id)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	data := map[string]any{"V": v, "Feed": s.opts.Feed, "Undone": s.undoneNote(r.Context(), v, r.URL.Query().Get("undone"))}
	if v.Session.Kind == store.SessionCart {
		s.render(w, r, "cart", "Cart "+v.Session.Cart, data)
		return
	}
	s.render(w, r, "scan", fmt.Sprintf("Scanning — %s", v.Inventory.Name), data)
}

// cleanCode checks a typed code: a keyboard-wedge scanner types printable
// text; anything else is a mistake.
func cleanCode(code string) (string, error) {
	code = strings.TrimSpace(code)
	switch {
	case code == "":
		return "", badRequest("scan or type a barcode first")
	case len(code) > 128:
		return "", badRequest("that is %d characters: a barcode or tag id is at most 128", len(code))
	case !utf8.ValidString(code):
		return "", badRequest("the code is not valid text (UTF-8): rescan it")
	}
	for i, c := range code {
		if !unicode.IsPrint(c) {
			return "", badRequest("the code has an unprintable character at position %d: rescan it", i+1)
		}
	}
	return code, nil
}

func (s *Server) submitTyped(ctx context.Context, id int64, code string) (*engine.Result, error) {
	code, err := cleanCode(code)
	if err != nil {
		return nil, err
	}
	return s.b.Submit(ctx, id, drivers.Read{Device: "keyboard", Kind: drivers.KindManual, Code: code, Raw: []byte(code), Time: s.opts.Now()})
}

func (s *Server) readPost(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	if _, err := s.submitTyped(r.Context(), id, r.PostForm.Get("code")); err != nil {
		if msg, resume := s.closedAdvice(r.Context(), id, err); msg != "" {
			w.WriteHeader(http.StatusConflict)
			s.render(w, r, "error", "Reads are not taken", map[string]any{"Code": http.StatusConflict, "Msg": msg,
				"Back": fmt.Sprintf("/sessions/%d", id), "Resume": resume})
			return
		}
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/sessions/%d", id), http.StatusSeeOther)
}

// closedAdvice turns a read refused because its session is not open into
// what to do next here, in the UI: resume a paused session (resume is
// then its id, for the Resume button), or start a new one.
func (s *Server) closedAdvice(ctx context.Context, id int64, err error) (msg string, resume int64) {
	if !errors.Is(err, engine.ErrSessionClosed) {
		return "", 0
	}
	sess, serr := s.b.Store().Session(ctx, id)
	if serr != nil {
		return "", 0
	}
	inv, ierr := s.b.Store().Inventory(ctx, sess.InventoryID)
	switch {
	case ierr == nil && !inv.Open():
		return fmt.Sprintf("The inventory %q is finalized, so this read was not taken. Its reports are on the inventory page.", inv.Name), 0
	case sess.State == store.SessionPaused:
		return fmt.Sprintf("Session %d is paused, so this read was not taken. Press Resume, then scan it again.", id), id
	default:
		return fmt.Sprintf("Session %d has %s, so this read was not taken. Start a new session from the inventory page.", id, sess.State), 0
	}
}

// money is cents as currency digits, with thousands separators like
// counts: 1,234.50.
func money(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%s.%02d", sign, thousands(int(c/100)), c%100)
}

func (s *Server) undoPost(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	res, err := s.b.Undo(r.Context(), id)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.notify(id)
	http.Redirect(w, r, fmt.Sprintf("/sessions/%d?undone=%d", id, res.ReadID), http.StatusSeeOther)
}

// undoneText says what an undo took back: "Took back: Misshelved — The
// Wolf · 599.78 SMI · 30234000012345".
func undoneText(v ReadView) string {
	return "Took back: " + v.Label + " — " + v.Item
}

// undoneNote finds the read an undo took back (the page after a form undo).
func (s *Server) undoneNote(ctx context.Context, v *SessionView, q string) string {
	rid, err := strconv.ParseInt(q, 10, 64)
	if err != nil || rid <= 0 {
		return ""
	}
	note := ""
	_ = s.b.Store().Reads(ctx, v.Session.InventoryID, v.Session.ID, func(row *store.ReadRow) error {
		if row.ID == rid && row.Undone {
			note = undoneText(viewOf(resultOf(s.b.Catalog(), row)))
		}
		return nil
	})
	return note
}

func (s *Server) setState(ctx context.Context, id int64, state store.SessionState) (*store.Session, error) {
	sess, err := s.b.SetSessionState(ctx, id, state)
	if err != nil {
		return nil, err
	}
	s.notify(id)
	return sess, nil
}

func (s *Server) statePost(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	if _, err := s.setState(r.Context(), id, store.SessionState(r.PostForm.Get("state"))); err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, safeNext(orDefault(r.PostForm.Get("back"), fmt.Sprintf("/sessions/%d", id))), http.StatusSeeOther)
}

func (s *Server) finalizeShow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	res, err := s.b.Finalize(r.Context(), id, true)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.render(w, r, "finalize", "Finalize "+res.Inventory.Name, finalizeData(res))
}

type kindCount struct {
	Kind string
	What string
	N    int
}

var upstreamWords = map[outbox.Kind]string{
	outbox.Seen: "last-seen date set", outbox.Found: "found: lost status cleared or reported", outbox.Misplaced: "reported as misplaced",
	outbox.CheckedOutOnShelf: "checked out but on the shelf", outbox.Unknown: "unknown barcodes for follow-up",
	outbox.Missing: "marked missing", outbox.CartMissing: "cart devices marked missing", outbox.CartForeign: "devices found in the wrong cart",
}

func finalizeData(res *engine.FinalizeResult) map[string]any {
	var kinds []kindCount
	for k, n := range res.Outbox {
		kinds = append(kinds, kindCount{k, orDefault(upstreamWords[outbox.Kind(k)], k), n})
	}
	sort.Slice(kinds, func(a, b int) bool { return kinds[a].Kind < kinds[b].Kind })
	shown := res.Missing
	if len(shown) > 500 {
		shown = shown[:500]
	}
	return map[string]any{"R": res, "Kinds": kinds, "Shown": shown, "More": len(res.Missing) - len(shown)}
}

func (s *Server) finalizePost(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		s.errorPage(w, r, badRequest("tick the box to confirm: finalizing cannot be undone"))
		return
	}
	if _, err := s.b.Finalize(r.Context(), id, false); err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.afterFinalize(r.Context(), id)
	http.Redirect(w, r, fmt.Sprintf("/inventories/%d/reports", id), http.StatusSeeOther)
}

func (s *Server) afterFinalize(ctx context.Context, id int64) {
	if ss, err := s.b.Store().Sessions(ctx, id); err == nil {
		for _, x := range ss {
			s.notify(x.ID)
		}
	}
}

func validReport(name string) bool { return contains(engine.ReportNames, name) }

func (s *Server) reportsShow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	ctx := r.Context()
	inv, err := s.b.Store().Inventory(ctx, id)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	tables, err := s.b.Reports(ctx, id)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	ch, err := s.charts(ctx, inv)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	var summary report.Table
	var rest []report.Table
	for _, t := range tables {
		if t.Name == "summary" {
			summary = t
		} else {
			rest = append(rest, t)
		}
	}
	s.render(w, r, "reports", "Reports — "+inv.Name, map[string]any{"Inv": inv, "Summary": summaryForPeople(summary), "Tables": rest, "Charts": ch})
}

// summaryForPeople shows the summary's numbers as the rest of the UI
// does: counts and money with thousands separators, and a progress of a
// few items as "<0.1%" rather than "0.0%". (CSV and JSON keep the plain
// numbers.)
func summaryForPeople(t report.Table) report.Table {
	out := t
	out.Rows = make([][]string, len(t.Rows))
	vals := map[string]string{}
	for _, r := range t.Rows {
		if len(r) == 2 {
			vals[r[0]] = r[1]
		}
	}
	for i, r := range t.Rows {
		out.Rows[i] = r
		if len(r) != 2 {
			continue
		}
		v := r[1]
		if n, err := strconv.Atoi(v); err == nil {
			v = thousands(n)
		} else if whole, cents, ok := strings.Cut(v, "."); ok && len(cents) == 2 && !strings.HasSuffix(v, "%") {
			if w, err1 := strconv.ParseInt(whole, 10, 64); err1 == nil {
				if c, err2 := strconv.ParseInt(cents, 10, 64); err2 == nil && w >= 0 {
					v = money(w*100 + c)
				}
			}
		} else if r[0] == "progress" {
			seen, err1 := strconv.Atoi(vals["items seen (in scope)"])
			exp, err2 := strconv.Atoi(vals["items expected"])
			if err1 == nil && err2 == nil {
				v = report.Percent(seen, exp)
			}
		}
		out.Rows[i] = []string{r[0], v}
	}
	return out
}

func (s *Server) reportShow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	name := r.PathValue("name")
	if !validReport(name) {
		s.errorPage(w, r, fmt.Errorf("report %q: %w (want one of %s)", name, store.ErrNotFound, strings.Join(engine.ReportNames, ", ")))
		return
	}
	ctx := r.Context()
	inv, err := s.b.Store().Inventory(ctx, id)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	tables, err := s.b.Reports(ctx, id, name)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	switch f := r.URL.Query().Get("format"); f {
	case "csv", "json":
		writeReport(w, inv.ID, name, report.Format(f), tables)
		return
	case "", "html":
	default:
		s.errorPage(w, r, badRequest("format %q: want html, csv or json", f))
		return
	}
	s.render(w, r, "report", tables[0].Title+" — "+inv.Name, map[string]any{"Inv": inv, "T": tables[0],
		"Printed": s.opts.Now().Local().Format("2006-01-02 15:04")})
}

func writeReport(w http.ResponseWriter, invID int64, name string, f report.Format, tables []report.Table) {
	var buf bytes.Buffer
	if err := report.Write(&buf, f, "", tables...); err != nil {
		httpError(w, err)
		return
	}
	if f == report.CSV {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"tally-inventory-%d-%s.csv\"", invID, name))
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.Write(buf.Bytes())
}

type deviceRow struct {
	DeviceStatus
	Session string
}

func (s *Server) openSessions(ctx context.Context) ([]*store.Session, map[int64]string, error) {
	ss, err := s.b.Store().Sessions(ctx, 0)
	if err != nil {
		return nil, nil, err
	}
	invs, err := s.b.Store().Inventories(ctx)
	if err != nil {
		return nil, nil, err
	}
	names := map[int64]string{}
	for _, inv := range invs {
		names[inv.ID] = inv.Name
	}
	var open []*store.Session
	labels := map[int64]string{}
	for _, x := range ss {
		l := fmt.Sprintf("Session %d — %s", x.ID, names[x.InventoryID])
		if x.Kind == store.SessionCart {
			l += " (cart " + x.Cart + ")"
		}
		labels[x.ID] = l
		if x.State == store.SessionOpen {
			open = append(open, x)
		}
	}
	return open, labels, nil
}

func (s *Server) devicesShow(w http.ResponseWriter, r *http.Request) {
	open, labels, err := s.openSessions(r.Context())
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	var rows []deviceRow
	for _, d := range s.b.Devices() {
		rows = append(rows, deviceRow{d, labels[d.SessionID]})
	}
	s.render(w, r, "devices", "Devices", map[string]any{"Devices": rows, "Open": open, "Labels": labels})
}

func (s *Server) bindPost(w http.ResponseWriter, r *http.Request) {
	dev := strings.TrimSpace(r.PostForm.Get("device"))
	sid, _ := strconv.ParseInt(r.PostForm.Get("session"), 10, 64)
	if dev == "" {
		s.errorPage(w, r, badRequest("pick a device to bind"))
		return
	}
	if err := s.b.Bind(dev, sid); err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, safeNext(orDefault(r.PostForm.Get("back"), "/devices")), http.StatusSeeOther)
}

// SyncView is the outbox and the sinks.
type SyncView struct {
	Outbox  store.OutboxStats `json:"outbox"`
	Sinks   []SinkStatus      `json:"sinks"`
	Dead    []outbox.Row      `json:"dead"`
	Pending []outbox.Row      `json:"pending"`
}

func (s *Server) syncView(ctx context.Context) (*SyncView, error) {
	db := s.b.Store()
	st, err := db.OutboxStatus(ctx)
	if err != nil {
		return nil, err
	}
	dead, err := db.OutboxRows(ctx, "dead", 200)
	if err != nil {
		return nil, err
	}
	pend, err := db.OutboxRows(ctx, "pending", 20)
	if err != nil {
		return nil, err
	}
	return &SyncView{Outbox: st, Sinks: s.b.Sinks(), Dead: dead, Pending: pend}, nil
}

func (s *Server) syncShow(w http.ResponseWriter, r *http.Request) {
	v, err := s.syncView(r.Context())
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	retried := r.URL.Query().Get("retried")
	if _, err := strconv.Atoi(retried); err != nil {
		retried = ""
	}
	s.render(w, r, "sync", "Sync", map[string]any{"V": v, "Retried": retried})
}

func (s *Server) retry(ctx context.Context, ids []int64) (int, error) {
	return s.b.Store().RetryDead(ctx, s.b.Writer(), ids...)
}

func (s *Server) retryPost(w http.ResponseWriter, r *http.Request) {
	var ids []int64
	for _, v := range r.PostForm["id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.errorPage(w, r, badRequest("dead letter id %q is not a number", v))
			return
		}
		ids = append(ids, id)
	}
	n, err := s.retry(r.Context(), ids)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/sync?retried=%d", n), http.StatusSeeOther)
}
