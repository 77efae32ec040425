package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/report"
	"github.com/tally-inventory/tally/agent/store"
)

// The JSON API mirrors the pages. State changes are POSTs that carry the
// X-CSRF-Token header (from GET /api/csrf, which also sets the session
// cookie) or, when a token is configured, Authorization: Bearer <token>.
func (s *Server) apiRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/csrf", s.apiCSRF)
	m.HandleFunc("GET /api/inventories", s.apiInventories)
	m.HandleFunc("POST /api/inventories", s.apiCreateInventory)
	m.HandleFunc("GET /api/inventories/{id}", s.apiInventory)
	m.HandleFunc("POST /api/inventories/{id}/sessions", s.apiStartSession)
	m.HandleFunc("POST /api/inventories/{id}/pull", s.apiAttachPull)
	m.HandleFunc("GET /api/inventories/{id}/missing", s.apiMissing)
	m.HandleFunc("GET /api/inventories/{id}/reports", s.apiReportNames)
	m.HandleFunc("GET /api/inventories/{id}/reports/{name}", s.apiReport)
	m.HandleFunc("GET /api/inventories/{id}/finalize", s.apiFinalizePreview)
	m.HandleFunc("POST /api/inventories/{id}/finalize", s.apiFinalize)
	m.HandleFunc("GET /api/sessions/{id}", s.apiSession)
	m.HandleFunc("POST /api/sessions/{id}/reads", s.apiRead)
	m.HandleFunc("POST /api/sessions/{id}/undo", s.apiUndo)
	m.HandleFunc("POST /api/sessions/{id}/state", s.apiState)
	m.HandleFunc("GET /api/devices", s.apiDevices)
	m.HandleFunc("POST /api/devices/{name}/bind", s.apiBind)
	m.HandleFunc("GET /api/sync", s.apiSync)
	m.HandleFunc("POST /api/sync/retry", s.apiRetry)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "no such API endpoint: "+r.Method+" "+r.URL.Path)
	})
}

// writeJSON encodes before it answers, so a value that cannot be encoded
// is a 500 that says so rather than a 200 with an empty body.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]string{"error": "cannot encode the answer: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func apiErr(w http.ResponseWriter, err error) { writeJSONError(w, statusOf(err), err.Error()) }

// decode reads a JSON body strictly: unknown fields are a mistake.
func decode(r *http.Request, v any) error {
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return badRequest("send a JSON body")
		}
		return badRequest("bad JSON body: %v", err)
	}
	return nil
}

func (s *Server) apiCSRF(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"csrf": s.auth.csrf(sidOf(r)), "header": csrfHeader})
}

func (s *Server) apiInventories(w http.ResponseWriter, r *http.Request) {
	invs, err := s.b.Store().Inventories(r.Context())
	if err != nil {
		apiErr(w, err)
		return
	}
	if invs == nil {
		invs = []*store.Inventory{}
	}
	writeJSON(w, http.StatusOK, invs)
}

// NewInventory is the body of POST /api/inventories.
type NewInventory struct {
	Name   string            `json:"name"`
	Scope  catalog.Scope     `json:"scope"`
	Policy *reconcile.Policy `json:"policy,omitempty"` // default: reconcile.DefaultPolicy
}

func (s *Server) apiCreateInventory(w http.ResponseWriter, r *http.Request) {
	var req NewInventory
	if err := decode(r, &req); err != nil {
		apiErr(w, err)
		return
	}
	pol := reconcile.DefaultPolicy
	if req.Policy != nil {
		pol = *req.Policy
	}
	// Skip statuses left out mean the default policy; [] means none.
	inv, err := s.b.Store().CreateInventory(r.Context(), req.Name, engine.WithDefaults(req.Scope), pol)
	if err != nil {
		apiErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, inv)
}

func (s *Server) apiInventory(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	ctx := r.Context()
	inv, err := s.b.Store().Inventory(ctx, id)
	if err != nil {
		apiErr(w, err)
		return
	}
	ss, err := s.b.Store().Sessions(ctx, id)
	if err != nil {
		apiErr(w, err)
		return
	}
	p, err := progressFor(ctx, s.b, inv)
	if err != nil {
		apiErr(w, err)
		return
	}
	if ss == nil {
		ss = []*store.Session{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"inventory": inv, "sessions": ss, "progress": p})
}

// NewSession is the body of POST /api/inventories/{id}/sessions.
type NewSession struct {
	Kind     string `json:"kind"` // shelf | cart
	Cart     string `json:"cart,omitempty"`
	Operator string `json:"operator,omitempty"`
	Device   string `json:"device,omitempty"` // bound to the new session when given
}

func (s *Server) apiStartSession(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var req NewSession
	if err := decode(r, &req); err != nil {
		apiErr(w, err)
		return
	}
	sess, err := s.startSession(r.Context(), id, store.SessionKind(req.Kind), req.Cart, req.Operator, req.Device)
	if err != nil {
		apiErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, sess)
}

func (s *Server) apiMissing(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	ms, err := s.b.Missing(r.Context(), id)
	if err != nil {
		apiErr(w, err)
		return
	}
	if ms == nil {
		ms = []engine.MissingItem{}
	}
	writeJSON(w, http.StatusOK, ms)
}

func (s *Server) apiReportNames(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	if _, err := s.b.Store().Inventory(r.Context(), id); err != nil {
		apiErr(w, err)
		return
	}
	type link struct {
		Name, Title, JSON, CSV string
	}
	var out []link
	for _, n := range engine.ReportNames {
		base := fmt.Sprintf("/api/inventories/%d/reports/%s", id, n)
		out = append(out, link{n, reportLabels[n], base, base + "?format=csv"})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiReport(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	name := r.PathValue("name")
	if name != "all" && !validReport(name) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("report %q: want all or one of %s", name, strings.Join(engine.ReportNames, ", ")))
		return
	}
	f := report.JSON
	switch q := r.URL.Query().Get("format"); q {
	case "", "json":
	case "csv":
		f = report.CSV
	default:
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("format %q: want json or csv", q))
		return
	}
	if _, err := s.b.Store().Inventory(r.Context(), id); err != nil {
		apiErr(w, err)
		return
	}
	tables, err := s.b.Reports(r.Context(), id, name)
	if err != nil {
		apiErr(w, err)
		return
	}
	writeReport(w, id, name, f, tables)
}

func (s *Server) apiFinalizePreview(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	res, err := s.b.Finalize(r.Context(), id, true)
	if err != nil {
		apiErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) apiFinalize(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var req struct {
		Confirm bool `json:"confirm"`
	}
	if err := decode(r, &req); err != nil {
		apiErr(w, err)
		return
	}
	if !req.Confirm {
		writeJSONError(w, http.StatusBadRequest, `finalizing cannot be undone: send {"confirm": true} (GET shows what it would do)`)
		return
	}
	res, err := s.b.Finalize(r.Context(), id, false)
	if err != nil {
		apiErr(w, err)
		return
	}
	s.afterFinalize(r.Context(), id)
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) apiSession(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	_, v, err := s.load(r.Context(), id)
	if err != nil {
		apiErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// ReadRequest is the body of POST /api/sessions/{id}/reads.
type ReadRequest struct {
	Code string `json:"code"`
}

func (s *Server) apiRead(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var req ReadRequest
	if err := decode(r, &req); err != nil {
		apiErr(w, err)
		return
	}
	res, err := s.submitTyped(r.Context(), id, req.Code)
	if err != nil {
		if msg, resume := s.closedAdvice(r.Context(), id, err); msg != "" {
			body := map[string]any{"error": msg}
			if resume != 0 {
				body["resume"] = fmt.Sprintf("/api/sessions/%d/state", resume) // POST {"state": "open"}
			}
			writeJSON(w, http.StatusConflict, body)
			return
		}
		apiErr(w, err)
		return
	}
	ev := map[string]any{"read": viewOf(res), "result": res}
	if res.Expected > 0 {
		ev["progress"] = progressOf(res.Seen, res.Expected)
	}
	writeJSON(w, http.StatusCreated, ev)
}

func (s *Server) apiUndo(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	res, err := s.b.Undo(r.Context(), id)
	if err != nil {
		apiErr(w, err)
		return
	}
	s.notify(id)
	if res.Barcode != "" && res.Title == "" {
		if it, ok := s.b.Catalog().Get(res.Barcode); ok {
			res.Title, res.CallNumber = it.Title, it.CallNumber
		}
	}
	v := viewOf(res)
	v.Undone = true
	writeJSON(w, http.StatusOK, map[string]any{"undone": v, "text": undoneText(v)})
}

func (s *Server) apiState(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	var req struct {
		State string `json:"state"`
	}
	if err := decode(r, &req); err != nil {
		apiErr(w, err)
		return
	}
	sess, err := s.setState(r.Context(), id, store.SessionState(req.State))
	if err != nil {
		apiErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sess)
}

func (s *Server) apiDevices(w http.ResponseWriter, r *http.Request) {
	ds := s.b.Devices()
	if ds == nil {
		ds = []DeviceStatus{}
	}
	writeJSON(w, http.StatusOK, ds)
}

func (s *Server) apiBind(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SessionID int64 `json:"session_id"`
	}
	if err := decode(r, &req); err != nil {
		apiErr(w, err)
		return
	}
	if err := s.b.Bind(r.PathValue("name"), req.SessionID); err != nil {
		apiErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"device": r.PathValue("name"), "session_id": req.SessionID})
}

func (s *Server) apiSync(w http.ResponseWriter, r *http.Request) {
	v, err := s.syncView(r.Context())
	if err != nil {
		apiErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiRetry(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IDs []int64 `json:"ids"` // empty: every dead letter
	}
	if err := decode(r, &req); err != nil {
		apiErr(w, err)
		return
	}
	n, err := s.retry(r.Context(), req.IDs)
	if err != nil {
		apiErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"retried": n})
}
