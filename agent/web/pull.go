package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/store"
)

// apiAttachPull attaches a pull list to an inventory while the agent runs:
// the body is the CSV ("barcode,reason"), ?file= names it for the reports;
// ?list=weeding makes it the weeding list (`tally inventory weed --apply`).
// The agent's own database writes it, so the one-writer rule holds; `tally
// inventory pull` hands its file over here when the agent holds the lock,
// and the inventory page uploads through it.
func (s *Server) apiAttachPull(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	name := filepath.Base(strings.TrimSpace(r.URL.Query().Get("file")))
	if name == "." || name == "/" || name == "" {
		name = "upload.csv"
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "the pull list is over 1 MiB: split it, or attach it with `tally inventory pull` while the agent is stopped")
			return
		}
		apiErr(w, err)
		return
	}
	list := store.ListFile
	if r.URL.Query().Get("list") == store.ListWeeding {
		list, name = store.ListWeeding, "weeding rules"
	}
	items, err := engine.ParsePullCSV(name, bytes.NewReader(body))
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	if list == store.ListWeeding {
		for i := range items {
			items[i].Line = 0 // the rules chose them: no file line to name
		}
	}
	a, err := engine.AttachPullList(r.Context(), s.b.Store(), s.b.Catalog(), id, list, name, items)
	if err != nil {
		apiErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}
