package load

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// MaxRequestBody is the largest request body KeepRequests stores in a
// Result: 32 MiB (record.MaxBody). A larger body is stored as Truncated,
// without its bytes, and cannot be replayed.
const MaxRequestBody = 32 << 20

// A Request is the request a Result was for, as sent: what hooklab replay
// needs to send it again. Headers are as set on the *http.Request (the
// client adds Host, Content-Length and User-Agent when missing; net/http,
// when given as Client, also Accept-Encoding).
type Request struct {
	Method string      `json:"method"`
	URL    string      `json:"url"`
	Header http.Header `json:"header,omitempty"`
	// Body is the body's bytes (base64 in JSON).
	Body []byte `json:"body,omitempty"`
	// Truncated reports a body larger than MaxRequestBody, not stored.
	Truncated bool `json:"truncated,omitempty"`
}

// KeepRequests makes the attacker store each request it sends in its
// Result (Result.Request), so that the results written by an Encoder can
// be replayed. It costs a copy of the headers and the body per request
// (with Client, read from GetBody when the request has one, as every
// Source here sets). Default false.
func KeepRequests(keep bool) Option { return func(o *options) { o.keepRequests = keep } }

// captureRequest returns req as a Request, leaving req ready to send.
func captureRequest(req *http.Request) (*Request, error) {
	out := &Request{Method: req.Method, URL: req.URL.String(), Header: req.Header.Clone()}
	if req.Body == nil || req.Body == http.NoBody {
		return out, nil
	}
	if req.ContentLength > MaxRequestBody {
		out.Truncated = true
		return out, nil
	}
	var body []byte
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("load: keeping the request: %w", err)
		}
		body, err = io.ReadAll(io.LimitReader(rc, MaxRequestBody+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("load: keeping the request: %w", err)
		}
	} else {
		b, err := io.ReadAll(io.LimitReader(req.Body, MaxRequestBody+1))
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("load: keeping the request: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		body = b
	}
	if len(body) > MaxRequestBody {
		out.Truncated = true
		return out, nil
	}
	out.Body = body
	return out, nil
}
