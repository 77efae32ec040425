package koha

import (
	"bytes"
	"testing"
)

// FuzzParseReport feeds arbitrary bytes to the saved-report parser: it must
// never panic, and every record it returns must have a barcode.
func FuzzParseReport(f *testing.F) {
	f.Add([]byte(reportWithHeader), false)
	f.Add([]byte(`[{"barcode":"b1","onloan":"2024-06-01"},{"barcode":"b2","x":[1]}]`), false)
	f.Add([]byte(`[["a1","T1","1"],["a2",null,true]]`), true)
	f.Add([]byte(`[["barcode"],["a"]`), false)
	f.Add([]byte(`[[],[1e999],{"":""}]`), true)
	f.Fuzz(func(t *testing.T, data []byte, cols bool) {
		var columns []string
		if cols {
			columns = []string{"barcode", "title", "itemlost"}
		}
		recs, bad, err := report(bytes.NewReader(data), columns)
		if err != nil && (recs != nil || bad != nil) {
			t.Fatalf("error %v with %d records and %d bad rows", err, len(recs), len(bad))
		}
		for _, r := range recs {
			if r.Item.Barcode == "" {
				t.Fatalf("record without a barcode: %+v", r)
			}
		}
		for _, b := range bad {
			if b.Msg == "" || b.Line < 1 {
				t.Fatalf("bad row without a place or message: %+v", b)
			}
		}
	})
}

// FuzzDecodeItems feeds arbitrary bytes to the item decoder and the mapping
// to catalog rows.
func FuzzDecodeItems(f *testing.F) {
	f.Add([]byte(`[{"item_id":1,"biblio_id":2,"external_id":"31234","lost_status":4,"withdrawn":0,"replacement_price":12.5,"last_seen_date":"2024-05-14T09:30:00+02:00","checked_out_date":null,"biblio":{"title":"A /","author":"B"}}]`))
	f.Add([]byte(`[{"external_id":123,"lost_status":"4","damaged_status":1.0,"replacement_price":"1e3"}]`))
	f.Add([]byte(`{"error":"Authentication failure."}`))
	f.Add([]byte(`[{"lost_status":99999999999}]`))
	f.Add([]byte(`[{"biblio":null,"external_id":null}] x`))
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := decodeItems(data)
		if err != nil {
			if items != nil {
				t.Fatalf("error %v with %d items", err, len(items))
			}
			return
		}
		for i := range items {
			if row := items[i].row(); len(row) != len(itemColumns) {
				t.Fatalf("row has %d columns, want %d", len(row), len(itemColumns))
			}
			_, _ = items[i].lastSeen()
		}
	})
}
