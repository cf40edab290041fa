package h1

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzReadAnswer reads untrusted bytes as answers: never a panic, the
// counts consistent with what was there to read.
func FuzzReadAnswer(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: t\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 500 x\r\n\r\nto the end",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
		"HTTP/1.1 200\nConnection: close\n\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n",
	} {
		f.Add([]byte(seed), "POST")
	}
	f.Fuzz(func(t *testing.T, data []byte, method string) {
		keep := make([]byte, 16)
		p := parser{br: bufio.NewReaderSize(bytes.NewReader(data), 16), keep: keep}
		var resp Response
		err := p.read(method, &resp)
		if resp.Kept > len(keep) || int64(resp.Kept) > resp.BodyLen || resp.BodyLen > int64(len(data)) {
			t.Fatalf("Kept %d, BodyLen %d of %d bytes", resp.Kept, resp.BodyLen, len(data))
		}
		if !inOrderIn(keep[:resp.Kept], data) {
			t.Fatalf("kept %q, not in the input", keep[:resp.Kept])
		}
		if err == nil && (resp.Status < 200 || resp.Status > 999) {
			t.Fatalf("final status %d without an error", resp.Status)
		}
	})
}

// inOrderIn reports whether the bytes of kept appear in data in order: a
// chunked body is its chunks' data without the sizes between them, so
// what is kept need not be one run of the input.
func inOrderIn(kept, data []byte) bool {
	for _, c := range kept {
		i := bytes.IndexByte(data, c)
		if i < 0 {
			return false
		}
		data = data[i+1:]
	}
	return true
}
