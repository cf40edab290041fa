package record_test

import (
	"bytes"
	"testing"

	"github.com/hooklab/hooklab/sim/record"
)

// FuzzParse: any bytes are parsed or refused with an error, never a
// panic, and what parses survives MarshalHTTP and Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte("POST /hooks/x?a=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rec, err := record.Parse(bytes.NewReader(raw), "in")
		if err != nil {
			return
		}
		again, err := record.Parse(bytes.NewReader(rec.MarshalHTTP()), "again")
		if err != nil {
			t.Fatalf("MarshalHTTP's output does not parse: %v\n%q", err, rec.MarshalHTTP())
		}
		if !bytes.Equal(again.Body, rec.Body) || again.Meta.Method != rec.Meta.Method || again.Meta.Target != rec.Meta.Target {
			t.Fatalf("round trip changed the request: %+v vs %+v", again.Meta, rec.Meta)
		}
	})
}
