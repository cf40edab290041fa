package replay

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/hooklab/hooklab/sim/load"
	"github.com/hooklab/hooklab/sim/record"
)

// MaxRequests is the most requests Read reads from all its paths together.
const MaxRequests = record.MaxDir

// ErrNoRequest is wrapped by ReadLoad's error when a results file holds
// no request: it was written by a load run without its requests kept.
var ErrNoRequest = errors.New("no result holds its request (write it with hooklab load --out, which keeps them)")

// Read reads the requests at paths, in the order given: a directory is a
// recording (record.ReadDir, in sequence order); a file ending in .jsonl
// is the results of hooklab load --out (ReadLoad); any other file is one
// recorded request (record.ReadFile: an .http file with its sidecar, a
// sidecar, or raw HTTP). Every error names the path.
func Read(paths ...string) ([]*record.Recording, error) {
	if len(paths) == 0 {
		return nil, errors.New("replay: no recording given")
	}
	var all []*record.Recording
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		var recs []*record.Recording
		switch {
		case fi.IsDir():
			recs, err = record.ReadDir(p)
		case filepath.Ext(p) == ".jsonl":
			var f *os.File
			if f, err = os.Open(p); err == nil {
				recs, err = ReadLoad(f, p)
				f.Close()
			}
		default:
			var rec *record.Recording
			if rec, err = record.ReadFile(p); err == nil {
				recs = []*record.Recording{rec}
			}
		}
		if err != nil {
			return nil, err
		}
		if len(all)+len(recs) > MaxRequests {
			return nil, fmt.Errorf("%s: more than %d requests in all", p, MaxRequests)
		}
		all = append(all, recs...)
	}
	return all, nil
}

// ReadLoad reads the results of hooklab load --out (JSON lines of
// load.Result) from r and returns the request of each result that holds
// one, in the file's order, numbered by the result's Seq+1, with Path
// "name:line": every request the run sent, the retries and duplicates of
// load's chaos options included. Results
// without a request (dropped slots, requests that could not be built) are
// skipped; when none holds one the error wraps ErrNoRequest. A request
// whose body was too large to keep, whose method is not a token or whose
// URL is not absolute is an error naming the line.
func ReadLoad(r io.Reader, name string) ([]*record.Recording, error) {
	dec := load.NewDecoder(r, name)
	var recs []*record.Recording
	for line := 1; ; line++ {
		var res load.Result
		err := dec.Decode(&res)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if res.Request == nil {
			continue
		}
		where := fmt.Sprintf("%s:%d", name, dec.Line())
		rec, err := fromLoad(res.Request, where)
		if err != nil {
			return nil, err
		}
		rec.Meta.Seq = int(min(res.Seq, uint64(MaxRequests))) + 1
		if len(recs) >= MaxRequests {
			return nil, fmt.Errorf("%s: more than %d requests", name, MaxRequests)
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrNoRequest)
	}
	return recs, nil
}

// fromLoad turns a kept load request into a Recording.
func fromLoad(q *load.Request, where string) (*record.Recording, error) {
	if q.Truncated {
		return nil, fmt.Errorf("%s: the request's body was larger than %d bytes and was not kept", where, load.MaxRequestBody)
	}
	if len(q.Body) > record.MaxBody {
		return nil, fmt.Errorf("%s: the request's body is larger than %d bytes", where, record.MaxBody)
	}
	method := q.Method
	if method == "" {
		method = http.MethodPost
	}
	if !validMethod(method) {
		return nil, fmt.Errorf("%s: request method is not an HTTP token", where)
	}
	u, err := url.Parse(q.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%s: request url: want an absolute URL", where)
	}
	req, err := http.NewRequest(method, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: request url: want an absolute URL", where)
	}
	h := http.Header{}
	for k, vs := range q.Header {
		if !validHeaderName(k) {
			return nil, fmt.Errorf("%s: header name %q is not an HTTP token", where, k)
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, fmt.Errorf("%s: header %s: value holds a line break or NUL", where, http.CanonicalHeaderKey(k))
			}
			h.Add(k, v)
		}
	}
	req.Header = h
	rec := record.New(req, q.Body, record.Meta{})
	rec.Path = where
	return rec, nil
}

func validMethod(m string) bool { return validHeaderName(m) }

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
