package inspect

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/record"
)

// Prefix is where the inspector's pages are.
const Prefix = "/_hooklab/"

// tokenCookie carries the token once a page was opened with ?token=.
const tokenCookie = "hooklab_ui"

// actionHeader must be on every POST: a cross-site form cannot set it.
const actionHeader = "X-Hooklab"

// maxAnswer bounds what an action reads of the ingress's answer.
const maxAnswer = 64 << 10

// csp is the Content-Security-Policy of every answer: the inspector's
// own scripts, styles and event stream, nothing else, no inline script.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed assets
var assets embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"icon": iconOf,
}).ParseFS(assets, "assets/*.html"))

// Config configures the inspector's Handler.
type Config struct {
	// Store holds the requests shown. Required.
	Store *Store
	// Specs returns the endpoints served (an Ingress's Specs); nil for
	// hooklab listen, which serves none.
	Specs func() []sim.EndpointSpec
	// Target is the base URL of the ingress ("http://127.0.0.1:8080"):
	// the endpoints' URLs, where examples are sent and replays go.
	Target string
	// Token, when not empty, is required of every request (see the
	// package doc); empty serves loopback clients only.
	Token string
	// Example makes example id of endpoint spec into a request signed
	// for it, addressed to target (what hooklab send --spec --example
	// sends). Nil: no Send buttons.
	Example func(ctx context.Context, spec sim.EndpointSpec, id, target string) (*http.Request, error)
	// Client sends examples and replays; nil means one with a 30 s
	// timeout.
	Client *http.Client
	// Title names the page ("hooklab serve").
	Title string
	// Now is the clock replays are signed at; nil means time.Now.
	Now func() time.Time
}

type handler struct {
	cfg   Config
	mux   *http.ServeMux
	token [32]byte
}

// Handler returns the inspector: the pages under Prefix. Serve it on its
// own listener, or route the paths under Prefix to it.
func Handler(cfg Config) http.Handler {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Title == "" {
		cfg.Title = "hooklab"
	}
	h := &handler{cfg: cfg, mux: http.NewServeMux(), token: sha256.Sum256([]byte(cfg.Token))}
	static, _ := fs.Sub(assets, "assets")
	h.mux.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", http.FileServerFS(static)))
	h.mux.HandleFunc("GET "+Prefix+"{$}", h.endpoints)
	h.mux.HandleFunc("GET "+Prefix+"requests", h.requests)
	h.mux.HandleFunc("GET "+Prefix+"requests/{id}", h.detail)
	h.mux.HandleFunc("GET "+Prefix+"requests/{id}/raw", h.raw)
	h.mux.HandleFunc("GET "+Prefix+"events", h.events)
	h.mux.HandleFunc("POST "+Prefix+"api/secret", h.secret)
	h.mux.HandleFunc("POST "+Prefix+"api/send", h.send)
	h.mux.HandleFunc("POST "+Prefix+"api/replay", h.replay)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
	if !h.allowed(w, r) {
		return
	}
	if r.Method == http.MethodPost && r.Header.Get(actionHeader) != "1" {
		httpError(w, http.StatusForbidden, "an action needs the header "+actionHeader+": 1")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// allowed applies the access rule and answers when it refuses.
func (h *handler) allowed(w http.ResponseWriter, r *http.Request) bool {
	if h.cfg.Token == "" {
		if !loopbackRemote(r.RemoteAddr) || !loopbackHost(r.Host) {
			httpError(w, http.StatusForbidden, "the inspector without a token serves loopback clients at a loopback address only")
			return false
		}
		return true
	}
	if q := r.URL.Query().Get("token"); q != "" && h.match(q) {
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: q, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode})
		u := *r.URL
		qs := u.Query()
		qs.Del("token")
		u.RawQuery = qs.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	if scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") && h.match(strings.TrimSpace(got)) {
		return true
	}
	if c, err := r.Cookie(tokenCookie); err == nil && h.match(c.Value) {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="hooklab inspector"`)
	httpError(w, http.StatusUnauthorized, "the inspector wants its token: open it with ?token=TOKEN or send Authorization: Bearer TOKEN")
	return false
}

// match compares a token with the configured one in constant time.
func (h *handler) match(tok string) bool {
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], h.token[:]) == 1
}

func loopbackRemote(addr string) bool {
	ap, err := netip.ParseAddrPort(addr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (h *handler) render(w http.ResponseWriter, name string, data any) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		httpError(w, http.StatusInternalServerError, "rendering "+name+": "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

// page is what every page's layout reads.
type page struct {
	Title, Nav string
	Listen     bool
}

// An endpointCard is one endpoint on the endpoints page; it never holds
// a secret.
type endpointCard struct {
	ID, Title, Icon, Source, Preset, URL string
	Verifies                             bool
	Keys                                 int
	RespondWith                          *respondCard
	Triggers                             []triggerCard
	Examples                             []sim.ExampleSpec
	CanSend                              bool
}

type respondCard struct {
	Filter, Response string
	Skip             bool
}

type triggerCard struct {
	ID, Filter, Deliver string
}

func (h *handler) endpoints(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Specs == nil { // hooklab listen serves no endpoints
		http.Redirect(w, r, Prefix+"requests", http.StatusSeeOther)
		return
	}
	var cards []endpointCard
	if h.cfg.Specs != nil {
		for _, s := range h.cfg.Specs() {
			cards = append(cards, h.card(s))
		}
	}
	h.render(w, "endpoints.html", struct {
		page
		Endpoints []endpointCard
	}{page{Title: h.cfg.Title, Nav: "endpoints", Listen: h.cfg.Specs == nil}, cards})
}

func (h *handler) card(s sim.EndpointSpec) endpointCard {
	c := endpointCard{ID: s.ID, Title: s.Title, Icon: s.Icon, Source: s.Source, URL: h.cfg.Target + sim.PathPrefix + url.PathEscape(s.ID),
		Examples: s.Examples, CanSend: h.cfg.Example != nil && h.cfg.Target != ""}
	if c.Title == "" {
		c.Title = s.ID
	}
	if c.Icon == "" {
		c.Icon = guessIcon(s)
	}
	c.Preset = "none (every request accepted unverified)"
	if v := s.Verify; v != nil {
		c.Verifies, c.Keys = true, len(v.Secrets)
		c.Preset = v.Preset
		if v.Scheme != nil {
			c.Preset = "custom scheme " + v.Scheme.Name
		}
	}
	if rw := s.RespondWith; rw != nil {
		resp, _ := json.MarshalIndent(rw.Response, "", "  ")
		c.RespondWith = &respondCard{Filter: indent(rw.Filter), Response: string(resp), Skip: rw.SkipTriggering}
	}
	for _, t := range s.Triggers {
		tc := triggerCard{ID: t.ID, Filter: indent(t.Filter), Deliver: "recorded only"}
		if len(bytes.TrimSpace(t.Filter)) == 0 || string(bytes.TrimSpace(t.Filter)) == "null" {
			tc.Filter = "(no filter: every verified request)"
		}
		if t.Deliver != "" {
			tc.Deliver = hostOnly(t.Deliver)
		}
		c.Triggers = append(c.Triggers, tc)
	}
	return c
}

// guessIcon is the icon of an endpoint without one: its preset, else the
// first label of its source ("github.com" → "github").
func guessIcon(s sim.EndpointSpec) string {
	if s.Verify != nil && s.Verify.Preset != "" {
		return s.Verify.Preset
	}
	if s.Source != "" {
		src := strings.TrimPrefix(s.Source, "www.")
		name, _, _ := strings.Cut(src, ".")
		return strings.ToLower(name)
	}
	return ""
}

// hostOnly shows a deliver URL as scheme://host/…: its path or query may
// hold a token.
func hostOnly(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(deliver URL)"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

func indent(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

func (h *handler) requests(w http.ResponseWriter, r *http.Request) {
	entries := h.cfg.Store.Recent(0)
	rows := make([]Row, len(entries))
	eps := map[string]bool{}
	for i := range entries {
		rows[i] = summarize(&entries[i])
		if rows[i].Endpoint != "" {
			eps[rows[i].Endpoint] = true
		}
	}
	if h.cfg.Specs != nil {
		for _, s := range h.cfg.Specs() {
			eps[s.ID] = true
		}
	}
	names := make([]string, 0, len(eps))
	for id := range eps {
		names = append(names, id)
	}
	sort.Strings(names)
	h.render(w, "requests.html", struct {
		page
		Rows      []Row
		Keep      int
		Endpoints []string
	}{page{Title: h.cfg.Title, Nav: "requests", Listen: h.cfg.Specs == nil}, rows, h.cfg.Store.Keep(), names})
}

func (h *handler) entry(w http.ResponseWriter, r *http.Request) (Entry, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		httpError(w, http.StatusNotFound, "no such request")
		return Entry{}, false
	}
	e, ok := h.cfg.Store.Get(id)
	if !ok {
		httpError(w, http.StatusNotFound, fmt.Sprintf("request %d is not kept (the inspector keeps the last %d)", id, h.cfg.Store.Keep()))
	}
	return e, ok
}

type headerLine struct{ Name, Value string }

type detailTrigger struct {
	sim.TriggerTrace
	FilterText string
	Row        TriggerRow
}

func (h *handler) detail(w http.ResponseWriter, r *http.Request) {
	e, ok := h.entry(w, r)
	if !ok {
		return
	}
	row := summarize(&e)
	t := &e.Trace
	var hdrs []headerLine
	for k, vs := range t.Header {
		for _, v := range vs {
			hdrs = append(hdrs, headerLine{k, v})
		}
	}
	sort.SliceStable(hdrs, func(i, j int) bool { return hdrs[i].Name < hdrs[j].Name })
	hits := map[string]bool{}
	var trig []detailTrigger
	for i, tt := range t.Triggers {
		if tt.Fired && tt.Filter != nil {
			filterPaths(tt.Filter, hits)
		}
		dt := detailTrigger{TriggerTrace: tt, FilterText: "(no filter)", Row: row.Triggers[i]}
		if tt.Filter != nil {
			dt.FilterText = indent(tt.Filter)
		}
		trig = append(trig, dt)
	}
	var lines []Line
	var text, hexDump string
	isJSON := false
	if len(t.Body) > 0 {
		if !e.Truncated {
			lines, isJSON = prettyJSON(t.Body, hits)
		}
		if !isJSON {
			if utf8.Valid(t.Body) && !bytes.ContainsAny(t.Body, "\x00") {
				text = visible(string(t.Body))
			} else {
				b := t.Body
				if len(b) > 4096 {
					b = b[:4096]
				}
				hexDump = hex.Dump(b)
			}
		}
	}
	var respond *sim.RespondWithTrace
	if t.RespondWith != nil {
		respond = t.RespondWith
	}
	h.render(w, "detail.html", struct {
		page
		E        Entry
		Row      Row
		Headers  []headerLine
		JSON     bool
		Lines    []Line
		Text     string
		Hex      string
		Triggers []detailTrigger
		Respond  *sim.RespondWithTrace
		RespondF string
		Curl     string
		CanReply bool
		Verify   sim.VerifyTrace
		SigValue string
		Skew     string
	}{page: page{Title: h.cfg.Title, Nav: "requests", Listen: h.cfg.Specs == nil}, E: e, Row: row, Headers: hdrs, JSON: isJSON, Lines: lines,
		Text: text, Hex: hexDump, Triggers: trig, Respond: respond, RespondF: respondFilter(respond), Curl: visible(curlCommand(&e, h.cfg.Target)),
		CanReply: e.Source == "ingress" && !e.Truncated && h.cfg.Target != "" && t.Endpoint != "",
		Verify:   t.Verification, SigValue: t.Header.Get(t.Verification.Header), Skew: skewText(t.Verification.Skew)})
}

func respondFilter(r *sim.RespondWithTrace) string {
	if r == nil {
		return ""
	}
	return indent(r.Filter)
}

// curlCommand is the request as a curl command line, every argument
// single-quoted for a POSIX shell.
func curlCommand(e *Entry, target string) string {
	t := &e.Trace
	u := t.URL
	if target != "" {
		u = target + t.Path
		if t.Query != "" {
			u += "?" + t.Query
		}
	}
	var b strings.Builder
	b.WriteString("curl -X " + shellQuote(t.Method) + " " + shellQuote(u))
	names := make([]string, 0, len(t.Header))
	for k := range t.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "Host" || k == "Content-Length" || k == "Accept-Encoding" {
			continue
		}
		for _, v := range t.Header[k] {
			b.WriteString(" \\\n  -H " + shellQuote(k+": "+v))
		}
	}
	if len(t.Body) > 0 {
		b.WriteString(" \\\n  --data-binary " + shellQuote(string(t.Body)))
		if e.Truncated {
			b.WriteString("  # body truncated")
		}
	}
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// raw answers the request as raw HTTP, sim/record's format.
func (h *handler) raw(w http.ResponseWriter, r *http.Request) {
	e, ok := h.entry(w, r)
	if !ok {
		return
	}
	if e.Source != "ingress" {
		httpError(w, http.StatusConflict, "hooklab listen keeps no headers nor body: use listen --record DIR")
		return
	}
	if e.Truncated {
		httpError(w, http.StatusConflict, fmt.Sprintf("the body was cut at %d of %d bytes: the inspector cannot give it whole", len(e.Trace.Body), e.BodyBytes))
		return
	}
	t := &e.Trace
	target := t.Path
	if t.Query != "" {
		target += "?" + t.Query
	}
	sum := sha256.Sum256(t.Body)
	rec := &record.Recording{Meta: record.Meta{Seq: int(e.ID), ReceivedAt: t.Received, Method: t.Method, Target: target,
		Host: t.Header.Get("Host"), BodyBytes: len(t.Body), BodySHA256: hex.EncodeToString(sum[:]), Status: t.Status}, Header: t.Header, Body: t.Body}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="request-%d.http"`, e.ID))
	w.Write(rec.MarshalHTTP())
}

// events streams new and updated requests as Server-Sent Events.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		httpError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	ch, cancel := h.cfg.Store.Subscribe()
	defer cancel()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "retry: 500\n\n")
	// A browser that reconnects says the last request it got: send what
	// it missed that the Store still holds, then what comes.
	var replayed int64
	if last, err := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64); err == nil && last >= 0 {
		for _, e := range h.cfg.Store.Since(last) {
			msg := sseMessage("request", summarize(&e))
			io.WriteString(w, "id: "+strconv.FormatInt(e.ID, 10)+"\n")
			if _, err := w.Write(msg); err != nil {
				return
			}
			replayed = e.ID
		}
	}
	fl.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		// The server's write timeout would end the stream: each write
		// gets its own deadline instead.
		rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		select {
		case <-r.Context().Done():
			return
		case msg, ok := <-ch:
			// Write what is waiting, then flush once.
			for more := true; more; {
				if !ok {
					// Dropped for falling behind (the browser reconnects
					// with Last-Event-ID), or the Store was closed.
					fl.Flush()
					return
				}
				if !replayedAlready(msg, replayed) {
					if _, err := w.Write(msg); err != nil {
						return
					}
				}
				select {
				case msg, ok = <-ch:
				default:
					more = false
				}
			}
		case <-ping.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return
			}
		}
		fl.Flush()
	}
}

// replayedAlready reports whether msg is a request event of an id the
// stream has already replayed.
func replayedAlready(msg []byte, replayed int64) bool {
	if replayed == 0 || !bytes.HasPrefix(msg, []byte("id: ")) {
		return false
	}
	end := bytes.IndexByte(msg, '\n')
	id, err := strconv.ParseInt(string(msg[4:end]), 10, 64)
	return err == nil && id <= replayed
}

func (h *handler) spec(id string) (sim.EndpointSpec, bool) {
	if h.cfg.Specs == nil {
		return sim.EndpointSpec{}, false
	}
	for _, s := range h.cfg.Specs() {
		if s.ID == id {
			return s, true
		}
	}
	return sim.EndpointSpec{}, false
}

// secret answers an endpoint's secrets: the reveal button, on click.
func (h *handler) secret(w http.ResponseWriter, r *http.Request) {
	s, ok := h.spec(r.URL.Query().Get("endpoint"))
	if !ok || s.Verify == nil {
		httpError(w, http.StatusNotFound, "no such endpoint with a secret")
		return
	}
	secrets := make([]string, len(s.Verify.Secrets))
	for i, k := range s.Verify.Secrets {
		secrets[i] = string(k.Bytes())
	}
	writeJSON(w, http.StatusOK, map[string][]string{"secrets": secrets})
}

// outcome is the answer of send and replay.
type outcome struct {
	Status    int      `json:"status"`
	Triggered []string `json:"triggered"`
	Text      string   `json:"text"`
	Error     string   `json:"error,omitempty"`
}

func (h *handler) do(req *http.Request) outcome {
	resp, err := h.cfg.Client.Do(req)
	if err != nil {
		return outcome{Error: err.Error(), Text: "failed: " + err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	o := outcome{Status: resp.StatusCode}
	var ans struct {
		Triggered []string `json:"triggered"`
		Reason    string   `json:"reason"`
	}
	json.Unmarshal(body, &ans)
	o.Triggered = ans.Triggered
	o.Text = strconv.Itoa(resp.StatusCode)
	switch {
	case ans.Reason != "":
		o.Text += " · " + ans.Reason
	case len(ans.Triggered) > 0:
		o.Text += " · woke " + strings.Join(ans.Triggered, ", ")
	case ans.Triggered != nil:
		o.Text += " · woke none"
	}
	return o
}

// send fires an example of an endpoint, signed for it.
func (h *handler) send(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s, ok := h.spec(q.Get("endpoint"))
	if !ok || h.cfg.Example == nil || h.cfg.Target == "" {
		httpError(w, http.StatusNotFound, "no such endpoint to send to")
		return
	}
	if _, ok := s.Example(q.Get("example")); !ok {
		httpError(w, http.StatusNotFound, "no such example")
		return
	}
	req, err := h.cfg.Example(r.Context(), s, q.Get("example"), h.cfg.Target+sim.PathPrefix+url.PathEscape(s.ID))
	if err != nil {
		writeJSON(w, http.StatusOK, outcome{Error: err.Error(), Text: "not sent: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, h.do(req))
}

// replay sends a kept request again to its endpoint, signed anew with
// the endpoint's newest secret.
func (h *handler) replay(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
	e, ok := h.cfg.Store.Get(id)
	if !ok || e.Source != "ingress" || h.cfg.Target == "" {
		httpError(w, http.StatusNotFound, "no such request to replay")
		return
	}
	if e.Truncated {
		httpError(w, http.StatusConflict, "the body was cut: the inspector cannot replay it")
		return
	}
	s, ok := h.spec(e.Trace.Endpoint)
	if !ok {
		httpError(w, http.StatusNotFound, "its endpoint is no longer served")
		return
	}
	req, err := Resign(r.Context(), s, &e.Trace, h.cfg.Target, h.cfg.Now())
	if err != nil {
		writeJSON(w, http.StatusOK, outcome{Error: err.Error(), Text: "not sent: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, h.do(req))
}

// Resign makes the request of trace t into a new one to target (the
// ingress's base URL) at the same path, signed at time at for endpoint
// spec with its newest secret (sent as it was when the endpoint verifies
// nothing).
func Resign(ctx context.Context, spec sim.EndpointSpec, t *sim.Trace, target string, at time.Time) (*http.Request, error) {
	u := target + t.Path
	if t.Query != "" {
		u += "?" + t.Query
	}
	h := t.Header.Clone()
	for _, k := range []string{"Host", "Content-Length", "Transfer-Encoding", "Connection"} {
		h.Del(k)
	}
	p := signer.Payload{Method: t.Method, URL: u, Header: h, Body: t.Body}
	if v := spec.Verify; v != nil {
		var scheme signer.Scheme
		switch {
		case v.Preset != "":
			var err error
			if scheme, err = signer.Preset(v.Preset); err != nil {
				return nil, err
			}
		case v.Scheme != nil:
			scheme = *v.Scheme
		}
		if len(v.Secrets) == 0 {
			return nil, fmt.Errorf("endpoint %s verifies with no secret", spec.ID)
		}
		var err error
		if p, err = signer.Sign(scheme, v.Secrets[:1], p, signer.At(at)); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, p.Method, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		return nil, err
	}
	req.Header = p.Header
	return req, nil
}

// visible shows the control characters of s (but newline and tab) as
// \xNN, so that none reaches the page as is.
func visible(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// skewText says how far a signature's timestamp is from the request's
// arrival: "312s", "-4s" (signed in the future).
func skewText(d time.Duration) string { return d.Round(time.Second).String() }
