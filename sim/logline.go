package sim

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// NewLogHandler returns the slog.Handler of hooklab serve: one line per
// record on w, written with a single Write, as
//
//	15:04:05.678 WARN delivery failed endpoint=orders trigger=all err="POST \"x\": refused"
//
// that is the time to the millisecond (left out when zero), the level
// unless INFO, the message, then each attribute as key=value, a group's
// attributes as group.key=value. Attributes with an empty value are left
// out; records below INFO are dropped.
//
// Nothing logged can break the line or reach the terminal as a control
// sequence: a value or key that is empty or holds a space, '=', '"', a
// control character, any other rune strconv.IsPrint rejects, or invalid
// UTF-8 is written quoted and escaped as strconv.Quote does; the
// message likewise, except that it may hold single ASCII spaces ("POST
// /hooks/orders"). So a request path with "%0a" or "%1b[31m" in it stays
// one escaped field of one line.
//
// The handler is safe for concurrent use; writes to w are serialized.
func NewLogHandler(w io.Writer) slog.Handler {
	return &lineHandler{mu: new(sync.Mutex), w: w}
}

// lineHandler implements NewLogHandler.
type lineHandler struct {
	mu     *sync.Mutex
	w      io.Writer
	attrs  string // attributes from WithAttrs, already formatted
	prefix string // group prefix for attributes added later, "g." or ""
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.Grow(128)
	if !r.Time.IsZero() {
		var buf [16]byte
		b.Write(r.Time.AppendFormat(buf[:0], "15:04:05.000 "))
	}
	if r.Level != slog.LevelInfo {
		b.WriteString(r.Level.String())
		b.WriteByte(' ')
	}
	writeEscaped(&b, r.Message, true)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, h.prefix, a)
		return true
	})
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range as {
		writeAttr(&b, h.prefix, a)
	}
	h2 := *h
	h2.attrs = b.String()
	return &h2
}

func (h *lineHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	return &h2
}

// writeAttr writes " key=value", both escaped; empty values and
// attributes are left out, and a group's attributes are written with its
// name as a prefix ("req.status=200").
func writeAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix + a.Key + "."
		if a.Key == "" {
			p = prefix
		}
		for _, g := range a.Value.Group() {
			writeAttr(b, p, g)
		}
		return
	}
	v := a.Value.String()
	if v == "" {
		return
	}
	b.WriteByte(' ')
	if prefix == "" {
		writeEscaped(b, a.Key, false)
	} else {
		writeEscaped(b, prefix+a.Key, false)
	}
	b.WriteByte('=')
	writeEscaped(b, v, false)
}

// writeEscaped writes s to b as it is when it is safe in a log line, and
// as strconv.Quote writes it otherwise; see escape.
func writeEscaped(b *strings.Builder, s string, message bool) {
	if safe(s, message) {
		b.WriteString(s)
		return
	}
	var buf [64]byte
	b.Write(strconv.AppendQuote(buf[:0], s))
}

// safe reports whether s can be written in a log line as it is: when it
// is not empty, is valid UTF-8 and holds only runes strconv.IsPrint
// accepts other than '"' and '='; a space is accepted only when message
// is true.
func safe(s string, message bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf { // ASCII fast path
			if c < ' ' || c == 0x7f || c == '"' || c == '=' || (c == ' ' && !message) {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !strconv.IsPrint(r) {
			return false
		}
		i += size
	}
	return true
}

// logRequests logs, one line each, the requests that h answers and the
// Ingress does not log itself: the control API's and those to paths that
// name no endpoint. Requests to PathPrefix go to h unlogged.
func logRequests(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isIngressPath(r.URL.Path) {
			h.ServeHTTP(w, r) // the Ingress logs it
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		log.Info(r.Method+" "+r.URL.Path, "status", sw.status, "took", time.Since(start).Round(time.Microsecond))
	})
}

// statusWriter records the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
