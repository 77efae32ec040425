package koha

import (
	"context"
	"errors"
	"io"
	"sort"

	"github.com/tally-inventory/tally/agent/catalog"
)

// The tests read Koha data the way `tally import --from koha` does: the
// Table this package returns, mapped by the catalog importer
// (catalog.ParseTable). The test imports agent/catalog; the package does
// not.

// fetch is FetchItems mapped to catalog items; rows the catalog refuses
// come back as catalog.RowErrors beside the others.
func fetch(ctx context.Context, o Opts, progress func(n int)) ([]catalog.Item, error) {
	tb, err := FetchItems(ctx, o, progress)
	if err != nil {
		return nil, err
	}
	recs, bad, err := catalog.ParseTable(tb.Name, tb.Columns, tb.Rows, tb.Lines, tb.Notes)
	if err != nil {
		return nil, err
	}
	return items(recs), rowErrs(bad)
}

// report is ParseReport mapped to catalog records: the report's own bad
// rows and the catalog's, in row order, and whole-report errors.
func report(r io.Reader, columns []string) ([]catalog.Record, []catalog.RowError, error) {
	tb, err := ParseReport(r, columns)
	var rows RowErrors
	if err != nil && !errors.As(err, &rows) {
		return nil, nil, err
	}
	recs, bad, err := catalog.ParseTable(tb.Name, tb.Columns, tb.Rows, tb.Lines, tb.Notes)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rows {
		bad = append(bad, catalog.RowError{File: tb.Name, Line: r.Line, Offset: r.Offset, Msg: r.Msg})
	}
	sort.SliceStable(bad, func(i, j int) bool { return bad[i].Line < bad[j].Line })
	return recs, bad, nil
}

// reportItems is report's items, with the bad rows as catalog.RowErrors.
func reportItems(r io.Reader) ([]catalog.Item, error) {
	recs, bad, err := report(r, nil)
	if err != nil {
		return nil, err
	}
	return items(recs), rowErrs(bad)
}

func items(recs []catalog.Record) []catalog.Item {
	out := make([]catalog.Item, len(recs))
	for i, r := range recs {
		out[i] = r.Item
	}
	return out
}

func rowErrs(bad []catalog.RowError) error {
	if len(bad) == 0 {
		return nil
	}
	return catalog.RowErrors(bad)
}
