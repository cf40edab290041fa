package record

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxBody is the largest body a recording may hold: 32 MiB. Writing a
// larger one fails; reading a file whose Content-Length is larger fails
// before the body is read.
const MaxBody = 32 << 20

// maxHead bounds a request's line and headers, and a sidecar: 1 MiB.
const maxHead = 1 << 20

// A Meta is the sidecar of one recorded request: what is known about it
// beyond its bytes. Zero fields are omitted from the JSON.
type Meta struct {
	// Seq numbers the requests of a recording from 1, in arrival order.
	Seq int `json:"seq"`
	// ReceivedAt is when the request's head arrived.
	ReceivedAt time.Time `json:"received_at,omitzero"`
	// RemoteAddr is the sender's address as the server saw it.
	RemoteAddr string `json:"remote_addr,omitempty"`
	// Method, Target (the request target: path and query as sent) and
	// Host repeat the request line, for tools that read only sidecars.
	Method string `json:"method"`
	Target string `json:"target"`
	Host   string `json:"host,omitempty"`
	// BodyBytes and BodySHA256 identify the body; Read checks them.
	BodyBytes  int    `json:"body_bytes"`
	BodySHA256 string `json:"body_sha256"`
	// Provider is the provider (a signer preset name) the recorder
	// guessed from the headers; Event the event type it found.
	Provider string `json:"provider,omitempty"`
	Event    string `json:"event,omitempty"`
	// Verified says whether the signature verified against the preset
	// and secret the recorder was given; nil when it was not checked.
	// Reason says why not.
	Verified *bool  `json:"verified,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Status is the status the recorder answered, or the forward
	// target's status when it forwarded the request.
	Status int `json:"status,omitempty"`
	// Note is free text from the recorder (e.g. "forwarded to …").
	Note string `json:"note,omitempty"`
}

// A Recording is one recorded request: its bytes and its sidecar.
type Recording struct {
	// Path is the .http file it was read from or written to.
	Path string
	// Meta is the sidecar; when the file had none, the fields that the
	// request itself gives (Method, Target, Host, BodyBytes, BodySHA256).
	Meta Meta
	// Header and Body are the request's headers and body bytes.
	Header http.Header
	Body   []byte
	// Extra counts the bytes Parse found after the body (up to 1 MiB)
	// and ignored, besides white space: a Content-Length that is wrong.
	// ReadFile refuses a file with any.
	Extra int
}

// Request returns a new *http.Request with the recording's method,
// target, headers and body, addressed to base when base is not empty
// (scheme and host from base; base's path, when not "/" or empty,
// replaces the recorded path; base's query, when set, replaces the
// recorded query). With an empty base the URL is the recorded target on
// the recorded host, over http.
func (r *Recording) Request(base string) (*http.Request, error) {
	target := r.Meta.Target
	if target == "" {
		target = "/"
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, fmt.Errorf("%s: request target: %w", r.name(), err)
	}
	u.Scheme, u.Host = "http", r.Meta.Host
	if base != "" {
		b, err := url.Parse(base)
		if err != nil || b.Scheme == "" || b.Host == "" {
			return nil, fmt.Errorf("%s: base URL %q: want scheme://host[/path]", r.name(), base)
		}
		u.Scheme, u.Host = b.Scheme, b.Host
		if b.Path != "" && b.Path != "/" {
			u.Path, u.RawPath = b.Path, b.RawPath
		}
		if b.RawQuery != "" {
			u.RawQuery = b.RawQuery
		}
	}
	req, err := http.NewRequest(r.Meta.Method, u.String(), bytes.NewReader(r.Body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.name(), err)
	}
	req.Header = r.Header.Clone()
	req.Header.Del("Content-Length")
	req.Header.Del("Host")
	if base == "" && r.Meta.Host != "" {
		req.Host = r.Meta.Host
	}
	return req, nil
}

func (r *Recording) name() string {
	if r.Path == "" {
		return "recording"
	}
	return r.Path
}

// MarshalHTTP returns the recording as raw HTTP/1.1: request line,
// headers (canonical names, sorted; Content-Length set to the body's
// length, Transfer-Encoding dropped), a blank line and the body.
func (r *Recording) MarshalHTTP() []byte {
	var b bytes.Buffer
	target := r.Meta.Target
	if target == "" {
		target = "/"
	}
	method := r.Meta.Method
	if method == "" {
		method = http.MethodGet
	}
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, target)
	if r.Meta.Host != "" {
		fmt.Fprintf(&b, "Host: %s\r\n", r.Meta.Host)
	}
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Host", "Content-Length", "Transfer-Encoding":
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range r.Header[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", http.CanonicalHeaderKey(k), headerValue(v))
		}
	}
	if len(r.Body) > 0 || method != http.MethodGet && method != http.MethodHead {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.Body))
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return b.Bytes()
}

// headerValue keeps a value on its line: a CR or LF could not have come
// from net/http, but a Recording built by hand might hold one.
func headerValue(v string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
}

// New builds a Recording of r with the given body (r.Body is not read)
// and sidecar fields; Method, Target, Host, BodyBytes and BodySHA256 are
// filled from r and body.
func New(r *http.Request, body []byte, meta Meta) *Recording {
	meta.Method = r.Method
	meta.Target = r.URL.RequestURI()
	switch {
	case strings.HasPrefix(r.RequestURI, "/"): // origin form, as sent
		meta.Target = r.RequestURI
	case r.RequestURI != "" && !strings.HasPrefix(meta.Target, "/") && meta.Target != "*":
		// An absolute target without a path of its own ("a:0" is scheme a,
		// opaque 0): its RequestURI ("0") would not parse as a target, the
		// target as sent does.
		meta.Target = r.RequestURI
	}
	meta.Host = r.Host
	if meta.Host == "" {
		meta.Host = r.URL.Host
	}
	meta.BodyBytes = len(body)
	sum := sha256.Sum256(body)
	meta.BodySHA256 = hex.EncodeToString(sum[:])
	return &Recording{Meta: meta, Header: r.Header.Clone(), Body: body}
}

// ReadFile reads one recording from path: an .http file (its .json
// sidecar beside it is read too when it exists) or a .json sidecar (its
// .http file must exist). A file with any other name is read as raw HTTP
// without a sidecar, so a request written by hand or by curl --trace-ascii
// tools can be replayed too.
func ReadFile(path string) (*Recording, error) {
	httpPath, sidecar := path, ""
	switch filepath.Ext(path) {
	case ".json":
		httpPath = strings.TrimSuffix(path, ".json") + ".http"
		sidecar = path
	case ".http":
		sidecar = strings.TrimSuffix(path, ".http") + ".json"
	}
	f, err := os.Open(httpPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rec, err := Parse(f, httpPath)
	if err != nil {
		return nil, err
	}
	if rec.Extra > 0 {
		return nil, fmt.Errorf("%s: %d bytes after the body (is Content-Length right?)", httpPath, rec.Extra)
	}
	rec.Path = httpPath
	if sidecar == "" {
		return rec, nil
	}
	data, err := readBounded(sidecar, maxHead)
	if errors.Is(err, os.ErrNotExist) && filepath.Ext(path) == ".http" {
		return rec, nil
	}
	if err != nil {
		return nil, err
	}
	var m Meta
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", sidecar, err)
	}
	if m.BodySHA256 != "" && m.BodySHA256 != rec.Meta.BodySHA256 {
		return nil, fmt.Errorf("%s: body_sha256 does not match the body of %s (was it edited?)", sidecar, httpPath)
	}
	// The request line is the truth; the sidecar adds what it knows.
	m.Method, m.Target, m.Host = rec.Meta.Method, rec.Meta.Target, rec.Meta.Host
	m.BodyBytes, m.BodySHA256 = rec.Meta.BodyBytes, rec.Meta.BodySHA256
	rec.Meta = m
	return rec, nil
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}

// Parse reads one raw HTTP/1.1 request from r; name is used in errors,
// which never quote the request (it may carry a token). The head may be
// at most 1 MiB and the body at most MaxBody; a chunked body is
// de-chunked. Bytes after the body, besides white space, are counted in
// the Recording's Extra, for the caller to refuse or warn about.
func Parse(r io.Reader, name string) (*Recording, error) {
	lr := &io.LimitedReader{R: r, N: maxHead}
	br := bufio.NewReaderSize(lr, 64<<10)
	req, err := http.ReadRequest(br)
	if err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("%s: the request line and headers are larger than %d bytes", name, maxHead)
		}
		return nil, fmt.Errorf("%s: %s", name, describe(err))
	}
	if req.ContentLength > MaxBody {
		return nil, fmt.Errorf("%s: Content-Length %d is larger than %d bytes", name, req.ContentLength, MaxBody)
	}
	// The head was read within maxHead; the body gets its own bound.
	lr.N += MaxBody + 1
	body, err := io.ReadAll(req.Body)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s: the body is shorter than its Content-Length", name)
		}
		return nil, fmt.Errorf("%s: reading the body: %s", name, describe(err))
	}
	if len(body) > MaxBody {
		return nil, fmt.Errorf("%s: the body is larger than %d bytes", name, MaxBody)
	}
	lr.N = maxHead
	rest, _ := io.ReadAll(br)
	host := req.Host
	req.Header.Del("Transfer-Encoding")
	rec := New(req, body, Meta{})
	rec.Meta.Host = host
	if len(bytes.TrimSpace(rest)) > 0 {
		rec.Extra = len(rest)
	}
	return rec, nil
}

// describe says what is wrong with a request without quoting it: the
// standard library's messages end with the offending text, which may hold
// a token.
func describe(err error) string {
	var ue *url.Error
	switch {
	case errors.Is(err, io.EOF):
		return "empty request"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated request: the header does not end with a blank line"
	case errors.As(err, &ue):
		return "malformed request target"
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "malformed HTTP request"):
		return "malformed HTTP request line"
	case strings.HasPrefix(msg, "malformed HTTP version"):
		return "malformed HTTP request line: bad HTTP version"
	case strings.HasPrefix(msg, "invalid method"):
		return "malformed HTTP request line: invalid method"
	case strings.HasPrefix(msg, "malformed MIME header"):
		if strings.Contains(msg, "missing colon") {
			return "malformed header line: missing colon"
		}
		return "malformed header line"
	}
	if i := strings.IndexAny(msg, ":\""); i > 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return msg
}

// seqName is the base name of request seq's files.
func seqName(seq int) string { return fmt.Sprintf("%06d", seq) }

// seqOf returns the sequence number of a recording file's base name, or
// false when the name is not one.
func seqOf(base string) (int, bool) {
	stem := strings.TrimSuffix(base, ".http")
	if stem == base || len(stem) < 6 {
		return 0, false
	}
	n, err := strconv.Atoi(stem)
	return n, err == nil && n > 0
}
