package web

import (
	"bytes"
	"context"
	"html/template"
	"log"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/report"
	"github.com/tally-inventory/tally/agent/store"
)

// collectionBackend is the part of a backend that builds the collection
// report (engine.Engine has it). A backend without it has no such page.
type collectionBackend interface {
	Collection(ctx context.Context, invID int64, at time.Time) (*report.Collection, error)
}

var collectionTmpl = sync.OnceValues(func() (*template.Template, error) {
	return template.New("layout.html").Funcs(funcs).ParseFS(assets,
		"assets/templates/layout.html", "assets/templates/collection.html")
})

// collectionShow is GET /reports/collection[?inventory=ID][&at=DATE][&format=csv|json]:
// the collection report in the UI, or as a download.
func (s *Server) collectionShow(w http.ResponseWriter, r *http.Request) {
	cb, ok := s.b.(collectionBackend)
	if !ok {
		s.errorPage(w, r, store.ErrNotFound)
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	var invID int64
	if v := q.Get("inventory"); v != "" && v != "0" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.errorPage(w, r, badRequest("inventory %q is not an inventory id", v))
			return
		}
		invID = id
	}
	at := s.opts.Now()
	if v := q.Get("at"); v != "" {
		t, err := catalog.ParseDate(v)
		if err != nil {
			s.errorPage(w, r, badRequest("at %q: %v", v, err))
			return
		}
		at = t
	}
	c, err := cb.Collection(ctx, invID, at)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	switch f := q.Get("format"); f {
	case "csv", "json":
		var buf bytes.Buffer
		if err := c.Write(&buf, report.Format(f)); err != nil {
			httpError(w, err)
			return
		}
		if f == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="tally-collection.csv"`)
		} else {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.Write(buf.Bytes())
		return
	case "", "html":
	default:
		s.errorPage(w, r, badRequest("format %q: want html, csv or json", f))
		return
	}
	age, old, err := c.Charts()
	if err != nil {
		httpError(w, err)
		return
	}
	invs, err := s.b.Store().Inventories(ctx)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	t, err := collectionTmpl()
	if err != nil {
		httpError(w, err)
		return
	}
	query := "at=" + at.Format("2006-01-02")
	if invID > 0 {
		query += "&inventory=" + strconv.FormatInt(invID, 10)
	}
	var buf bytes.Buffer
	err = t.ExecuteTemplate(&buf, "layout", page{Title: "Collection report", Site: s.opts.Title,
		CSRF: s.auth.csrf(sidOf(r)), Login: s.login, Nav: "home", Body: "collection",
		Data: map[string]any{"C": c, "Age": age, "Old20": old, "Inventories": invs, "InvID": invID,
			"At": at.Format("2006-01-02"), "Query": template.URL(query),
			"Printed": s.opts.Now().Local().Format("2006-01-02 15:04")}})
	if err != nil {
		log.Printf("web: render collection: %v", err)
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}
