package view

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hooklab/hooklab/sim/load"
)

// Paths the View serves. The page is at Path; the others are relative to
// it.
const (
	// Path is the page.
	Path = "/_hooklab/load"
	// EventsPath streams snapshots as Server-Sent Events ("snapshot"
	// events, one JSON load.Snapshot each; the stream ends after the one
	// whose state is done).
	EventsPath = Path + "/events"
	// SnapshotPath answers the latest snapshot, every point of its series,
	// as JSON.
	SnapshotPath = Path + "/snapshot"
	// StaticPath prefixes the embedded script and style sheet.
	StaticPath = Path + "/static/"
)

// Defaults.
const (
	// DefaultMaxClients bounds the event streams open at once.
	DefaultMaxClients = 64
	// DefaultWriteTimeout bounds one write to a browser: a stream that
	// cannot take a snapshot in that time is closed (the browser
	// reconnects and gets the whole state).
	DefaultWriteTimeout = 10 * time.Second
	// keepAlive is how often an idle stream gets a comment line.
	keepAlive = 15 * time.Second
)

// csp is the page's Content-Security-Policy: nothing but its own script,
// style sheet and event stream.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed assets
var assets embed.FS

var page = template.Must(template.New("load.html").Funcs(template.FuncMap{
	"rate": func(v float64) string { return fixed(v, 2) + "/s" },
	// requested is the requested rate; closed loop requests none (0).
	"requested": func(v float64) string {
		if v <= 0 {
			return "none (closed loop)"
		}
		return fixed(v, 2) + "/s"
	},
	"pct":    func(v float64) string { return fixed(100*v, 2) + "%" },
	"ms":     latency,
	"counts": counts,
	"deliveries": func(s *load.Snapshot) string {
		if s.Delivered == nil || s.Lost == nil || s.Duplicated == nil {
			return "no sink"
		}
		return fmt.Sprintf("%d delivered, %d lost, %d doubled", *s.Delivered, *s.Lost, *s.Duplicated)
	},
	"elapsed": func(s *load.Snapshot) string { return fixed(s.ElapsedS, 1) + "s" },
}).ParseFS(assets, "assets/load.html"))

// An Option configures a View.
type Option func(*options)

type options struct {
	title, target string
	maxClients    int
	writeTimeout  time.Duration
}

// Title sets the page's title. Default "hooklab load".
func Title(t string) Option { return func(o *options) { o.title = t } }

// Target sets the line under the title: the URL under load, or the
// report's file name. Default none.
func Target(t string) Option { return func(o *options) { o.target = t } }

// MaxClients bounds the event streams open at once; a browser past it is
// answered 503. Values below 1 mean 1. Default DefaultMaxClients.
func MaxClients(n int) Option { return func(o *options) { o.maxClients = max(n, 1) } }

// WriteTimeout bounds one write to a browser. Default DefaultWriteTimeout.
func WriteTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.writeTimeout = d
		}
	}
}

// A View is the live load view of one run, an http.Handler serving Path
// and the paths under it. Publish its snapshots. It keeps the latest
// snapshot and the plot's points (at most one per series bucket, so at
// most 1024), whatever the number of snapshots. It is safe for concurrent
// use. Close ends the event streams.
type View struct {
	o options

	mu       sync.Mutex
	cur      *load.Snapshot // latest; its Series is not used
	width    float64
	start    time.Time
	points   []load.PlotPoint
	ver      []uint64 // the Seq that last changed each point
	resetSeq uint64   // the Seq of the last reset
	clients  map[chan struct{}]struct{}
	closed   chan struct{}
	isClosed bool
}

var _ http.Handler = (*View)(nil)

// New returns a View showing "waiting for the first snapshot" until
// Publish is called.
func New(opts ...Option) *View {
	o := options{title: "hooklab load", maxClients: DefaultMaxClients, writeTimeout: DefaultWriteTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return &View{o: o, clients: map[chan struct{}]struct{}{}, closed: make(chan struct{})}
}

// Publish makes s the latest snapshot and applies its series delta. It
// never waits for a browser: each stream is only told that there is news,
// and sends the latest state when it can, so a slow browser skips
// snapshots but never misses a point. A snapshot with a Seq not above the
// latest one's is ignored. s must not be changed afterwards.
func (v *View) Publish(s *load.Snapshot) {
	if s == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cur != nil && s.Seq <= v.cur.Seq {
		return
	}
	d := s.Series
	if d.Reset || v.cur == nil {
		v.points, v.ver, v.resetSeq = v.points[:0], v.ver[:0], s.Seq
	}
	from := min(max(d.From, 0), len(v.points))
	v.points, v.ver = v.points[:from], v.ver[:from]
	v.points = append(v.points, d.Points...)
	for range d.Points {
		v.ver = append(v.ver, s.Seq)
	}
	v.width, v.start, v.cur = d.WidthS, d.Start, s
	for ch := range v.clients {
		select {
		case ch <- struct{}{}:
		default: // the stream has news waiting already
		}
	}
}

// Snapshot returns the latest snapshot with every point of its series
// (Reset, From 0), or nil before the first Publish.
func (v *View) Snapshot() *load.Snapshot {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, _ := v.since(0)
	return s
}

// since returns the latest snapshot with the points changed after seq
// (all of them after a reset), and its Seq; nil when there is no
// snapshot. v.mu must be held.
func (v *View) since(seq uint64) (*load.Snapshot, uint64) {
	if v.cur == nil {
		return nil, 0
	}
	s := *v.cur
	d := load.SeriesDelta{WidthS: v.width, Start: v.start}
	if seq < v.resetSeq {
		d.Reset = true
	} else {
		d.From = len(v.points)
		for i, ver := range v.ver {
			if ver > seq {
				d.From = i
				break
			}
		}
	}
	d.Points = slices.Clone(v.points[d.From:])
	if d.Points == nil {
		d.Points = []load.PlotPoint{}
	}
	s.Series = d
	return &s, v.cur.Seq
}

// Close ends every event stream; the page and the snapshot stay served.
func (v *View) Close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.isClosed {
		v.isClosed = true
		close(v.closed)
	}
}

// ServeHTTP serves the page at Path, the event stream, the snapshot and
// the static files; anything else is 404. Only GET and HEAD are allowed.
func (v *View) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch p := r.URL.Path; {
	case p == Path || p == Path+"/":
		v.servePage(w)
	case p == EventsPath:
		v.serveEvents(w, r)
	case p == SnapshotPath:
		v.serveSnapshot(w)
	case p == StaticPath+"load.js":
		serveAsset(w, "assets/load.js", "text/javascript; charset=utf-8")
	case p == StaticPath+"load.css":
		serveAsset(w, "assets/load.css", "text/css; charset=utf-8")
	case p == "/":
		http.Redirect(w, r, Path, http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

// pageData is what load.html renders.
type pageData struct {
	Title, Target string
	S             *load.Snapshot
	Events        string
}

func (v *View) servePage(w http.ResponseWriter) {
	s := v.Snapshot()
	if s == nil {
		s = &load.Snapshot{State: "waiting", StatusCodes: map[string]uint64{}, Errors: map[string]uint64{}}
	}
	var b bytes.Buffer
	if err := page.Execute(&b, pageData{Title: v.o.title, Target: v.o.target, S: s, Events: EventsPath}); err != nil {
		http.Error(w, "load view: rendering the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

func (v *View) serveSnapshot(w http.ResponseWriter) {
	s := v.Snapshot()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if s == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":"no snapshot yet"}` + "\n"))
		return
	}
	json.NewEncoder(w).Encode(s)
}

func serveAsset(w http.ResponseWriter, name, ctype string) {
	b, err := assets.ReadFile(name)
	if err != nil {
		http.Error(w, "load view: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// serveEvents streams snapshots: the whole state first, then each change,
// until the snapshot whose state is done, Close, or the browser leaves.
func (v *View) serveEvents(w http.ResponseWriter, r *http.Request) {
	ch := make(chan struct{}, 1)
	v.mu.Lock()
	if len(v.clients) >= v.o.maxClients {
		v.mu.Unlock()
		w.Header().Set("Retry-After", "5")
		http.Error(w, fmt.Sprintf("load view: %d event streams open already", v.o.maxClients), http.StatusServiceUnavailable)
		return
	}
	v.clients[ch] = struct{}{}
	ch <- struct{}{} // send the whole state at once
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		delete(v.clients, ch)
		v.mu.Unlock()
	}()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		rc.SetWriteDeadline(time.Now().Add(v.o.writeTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 2000\n\n")) {
		return
	}
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	var seq uint64
	for {
		select {
		case <-ch:
		case <-ping.C:
			if !write([]byte(": keep-alive\n\n")) {
				return
			}
			continue
		case <-v.closed:
			return
		case <-r.Context().Done():
			return
		}
		v.mu.Lock()
		s, latest := v.since(seq)
		v.mu.Unlock()
		if s == nil || latest == seq {
			continue
		}
		seq = latest
		data, err := json.Marshal(s)
		if err != nil {
			return
		}
		var b bytes.Buffer
		b.WriteString("id: ")
		b.WriteString(strconv.FormatUint(s.Seq, 10))
		b.WriteString("\nevent: snapshot\ndata: ")
		b.Write(data) // JSON has no raw newline
		b.WriteString("\n\n")
		if !write(b.Bytes()) || s.State == load.StateDone {
			return
		}
	}
}

// fixed formats v with prec decimals; NaN and ±Inf are 0.
func fixed(v float64, prec int) string {
	if v != v || v > 1e300 || v < -1e300 || v == 0 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// latency formats milliseconds as the page's script does: "12.345 ms",
// or "-" when nothing was measured.
func latency(count int64, ms float64) string {
	if count == 0 {
		return "-"
	}
	return fixed(ms, 3) + " ms"
}

// counts formats "k: n" pairs sorted by key, or "-".
func counts(m map[string]uint64) string {
	if len(m) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+": "+strconv.FormatUint(m[k], 10))
	}
	return strings.Join(parts, ", ")
}
