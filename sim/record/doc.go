// Package record stores captured webhook requests so that they can be
// read back and sent again: hooklab listen --record writes them, and
// hooklab replay, verify --request and match --request read them.
//
// A recording is a directory. Each request is two files named after its
// sequence number:
//
//	000001.http   the request as raw HTTP/1.1: request line, headers, a
//	              Content-Length, a blank line and the body bytes exactly
//	              as received (a chunked body is stored de-chunked)
//	000001.json   the sidecar: when and from where it arrived, the body's
//	              length and SHA-256, and what the recorder learnt about it
//	              (provider, event, whether it verified, the answer)
//
// The .http file alone is a complete request (curl or nc can send it);
// the sidecar is optional when reading. Header names are written in Go's
// canonical form, sorted, because net/http does not keep their order or
// case; no signature scheme depends on either.
//
// Typical use:
//
//	w, _ := record.NewWriter("captures")
//	// in a handler, after reading the body:
//	path, _ := w.Write(record.New(r, body, record.Meta{Provider: "stripe"}))
//	// later:
//	recs, _ := record.ReadDir("captures")
//	req, _ := recs[0].Request("http://127.0.0.1:3000") // the same bytes, sent elsewhere
//
// Reading is for untrusted files: every file is bounded in size
// (MaxBody for the body, 1 MiB for the head and the sidecar) and every
// error names the file.
package record
