package listen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// hopByHop are the headers a proxy does not pass on (RFC 9110 7.6.1).
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// dropHopByHop removes the hop-by-hop headers of h, and those its
// Connection header names, in place.
func dropHopByHop(h http.Header) {
	for _, v := range h["Connection"] {
		for _, name := range strings.Split(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopByHop {
		h.Del(name)
	}
}

// forwardURL is where one request goes: the forward URL, with the
// request's path when the URL's is empty or "/", and its query unless
// the URL has one.
func (rcv *Receiver) forwardURL(r *http.Request) string {
	u := *rcv.forward
	if u.Path == "" || u.Path == "/" {
		u.Path, u.RawPath = r.URL.Path, r.URL.RawPath
	}
	if u.RawQuery == "" {
		u.RawQuery = r.URL.RawQuery
	}
	return u.String()
}

// forwardTo sends the request's exact bytes to the app and returns the
// app's answer for the sender; e.Forward says what happened.
func (rcv *Receiver) forwardTo(r *http.Request, body []byte, e *Entry) (int, http.Header, []byte) {
	target := rcv.forwardURL(r)
	f := &Forwarded{URL: target}
	e.Forward = f
	ctx, cancel := context.WithTimeout(r.Context(), rcv.o.fwdTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, target, bytes.NewReader(body))
	if err != nil {
		f.Error = "building the request: " + err.Error()
		return http.StatusBadGateway, jsonHeader(), errorBody("forward failed", f.Error)
	}
	req.Header = r.Header.Clone()
	dropHopByHop(req.Header)
	req.Header.Del("Content-Length")
	req.Header.Del("Host")
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header["User-Agent"] = []string{""} // net/http then sends none
	}
	req.ContentLength = int64(len(body))
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	sent := time.Now()
	resp, err := rcv.o.client.Do(req)
	if err != nil {
		f.Latency = ms(time.Since(sent))
		status := http.StatusBadGateway
		if isTimeout(err) {
			status, f.Error = http.StatusGatewayTimeout, fmt.Sprintf("no answer within %s", rcv.o.fwdTimeout)
		} else {
			f.Error = describeForward(err)
		}
		return status, jsonHeader(), errorBody("forward failed", f.Error)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, rcv.o.maxBody+1))
	f.Latency = ms(time.Since(sent))
	f.Status = resp.StatusCode
	switch {
	case err != nil && isTimeout(err):
		f.Error = fmt.Sprintf("answer's body not read within %s", rcv.o.fwdTimeout)
		return http.StatusGatewayTimeout, jsonHeader(), errorBody("forward failed", f.Error)
	case err != nil:
		f.Error = "reading the answer: " + describeForward(err)
		return http.StatusBadGateway, jsonHeader(), errorBody("forward failed", f.Error)
	case int64(len(answer)) > rcv.o.maxBody:
		f.Error = fmt.Sprintf("answer over %d bytes", rcv.o.maxBody)
		return http.StatusBadGateway, jsonHeader(), errorBody("forward failed", f.Error)
	}
	h := resp.Header.Clone()
	dropHopByHop(h)
	h.Del("Content-Length")
	return resp.StatusCode, h, answer
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// describeForward is a forward error without Go's "Post \"url\": "
// prefix (the entry names the URL already).
func describeForward(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			err = inner
		}
	}
	return err.Error()
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func errorBody(msg, reason string) []byte {
	b, _ := json.Marshal(map[string]string{"error": msg, "reason": reason})
	return append(b, '\n')
}
