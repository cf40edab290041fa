package matcher

// This file holds the JSON lines protocol of hooklab match --jsonl, used
// by differential tests and other programs that match many filters in one
// process: see MatchJSONL.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/tidwall/gjson"
)

// Batching limits: a batch is dispatched when it holds this many lines or
// bytes, or as soon as no complete line is buffered (so that an
// interactive writer gets each answer before sending its next line).
const (
	jsonlBatchLines = 1024
	jsonlBatchBytes = 256 << 10
	jsonlReadBuffer = 1 << 20
	jsonlCacheSize  = 4096 // parsed filters kept per worker
)

// A jsonlBatch is a run of consecutive input lines and their output.
type jsonlBatch struct {
	buf   []byte   // the input lines back to back
	lines [][2]int // each line's [start, end) in buf, without its line end
	out   []byte   // one output line per input line
	done  chan struct{}
}

var jsonlBatchPool = sync.Pool{New: func() any { return new(jsonlBatch) }}

func getJSONLBatch() *jsonlBatch {
	b := jsonlBatchPool.Get().(*jsonlBatch)
	b.buf, b.lines, b.out = b.buf[:0], b.lines[:0], b.out[:0]
	b.done = make(chan struct{})
	return b
}

// MatchJSONL runs the JSON lines protocol of hooklab match --jsonl: it
// reads lines from in and writes exactly one line per input line to out,
// in order, each as soon as it and every line before it are known (so a
// caller can write a line and read its answer before writing the next).
// An input line is either
//
//	{"filter": F, "payload": P}            (no "payload" means undefined)
//	{"request_filter": RF, "request": {"method": "POST", "url": "/hook?a=1",
//	    "headers": {"Name": "value" or ["v1", "v2"]}, "body": "raw text"}}
//
// ("headers" and "body" may be left out; a line may end in "\r\n"), and
// its output line is {"match": true}, {"match": false} or {"error": "…"}.
// The error line says what is wrong and at which byte column of the
// input line: a filter that does not parse (with the path inside it), a
// line that is not JSON, an unknown or duplicate key, an empty line. A bad
// line never stops the stream.
//
// Every filter is parsed with opts (Compat, say). Batches of lines are
// matched by workers goroutines in parallel; workers < 1 means
// runtime.GOMAXPROCS(0). Each worker keeps the last few thousand filters
// it has parsed, so a stream that repeats filters parses each once.
//
// MatchJSONL returns when in ends (nil) or when reading in or writing out
// fails; the error then says which, wrapping the reader's or writer's.
// It does not close in or out. After a write error it returns at once,
// and a goroutine goes on reading in to its end, discarding the lines
// (a Read cannot be interrupted): close in to end it sooner. Calls with
// different readers and writers may run concurrently.
func MatchJSONL(in io.Reader, out io.Writer, workers int, opts ...Option) error {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	work := make(chan *jsonlBatch, workers)
	order := make(chan *jsonlBatch, 2*workers+2)
	for range workers {
		go func() {
			w := newJSONLWorker(opts)
			for b := range work {
				for _, l := range b.lines {
					b.out = w.matchLine(b.out, b.buf[l[0]:l[1]])
				}
				close(b.done)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		err := readJSONLBatches(in, work, order)
		close(work)
		close(order)
		readErr <- err
	}()

	bw := bufio.NewWriterSize(out, 256<<10)
	var err error
	for b := range order {
		<-b.done
		if _, err = bw.Write(b.out); err == nil && len(order) == 0 {
			err = bw.Flush()
		}
		jsonlBatchPool.Put(b)
		if err != nil {
			// Let the reader and workers run to the end of the input.
			go func() {
				for b := range order {
					<-b.done
				}
			}()
			return fmt.Errorf("matcher: writing JSON lines: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("matcher: writing JSON lines: %w", err)
	}
	if err := <-readErr; err != nil {
		return fmt.Errorf("matcher: reading JSON lines: %w", err)
	}
	return nil
}

// readJSONLBatches splits in into lines and sends them in batches to work
// and, in the same order, to order.
func readJSONLBatches(in io.Reader, work, order chan<- *jsonlBatch) error {
	br := bufio.NewReaderSize(in, jsonlReadBuffer)
	b := getJSONLBatch()
	send := func() {
		if len(b.lines) > 0 {
			work <- b
			order <- b
			b = getJSONLBatch()
		}
	}
	for {
		start := len(b.buf)
		line, err := br.ReadSlice('\n')
		b.buf = append(b.buf, line...)
		for err == bufio.ErrBufferFull { // a long line
			line, err = br.ReadSlice('\n')
			b.buf = append(b.buf, line...)
		}
		if end := len(b.buf); end > start {
			if b.buf[end-1] == '\n' {
				end--
				if end > start && b.buf[end-1] == '\r' {
					end--
				}
			}
			b.lines = append(b.lines, [2]int{start, end})
		}
		if err != nil {
			send()
			jsonlBatchPool.Put(b)
			if err == io.EOF {
				return nil
			}
			return err
		}
		if len(b.lines) >= jsonlBatchLines || len(b.buf) >= jsonlBatchBytes || !lineBuffered(br) {
			send()
		}
	}
}

// lineBuffered reports whether br holds a whole line, i.e. whether the
// next ReadSlice returns without reading (and maybe blocking).
func lineBuffered(br *bufio.Reader) bool {
	n := br.Buffered()
	if n == 0 {
		return false
	}
	p, _ := br.Peek(n)
	return bytes.IndexByte(p, '\n') >= 0
}

// A jsonlWorker matches lines; it caches the filters it has parsed.
type jsonlWorker struct {
	opts     []Option
	events   map[string]eventEntry
	requests map[string]requestEntry
}

type eventEntry struct {
	f   *EventFilter
	err error
}

type requestEntry struct {
	f   *RequestFilter
	err error
}

func newJSONLWorker(opts []Option) *jsonlWorker {
	return &jsonlWorker{opts: opts, events: map[string]eventEntry{}, requests: map[string]requestEntry{}}
}

func (w *jsonlWorker) eventFilter(raw string) eventEntry {
	if e, ok := w.events[raw]; ok {
		return e
	}
	if len(w.events) >= jsonlCacheSize {
		clear(w.events)
	}
	f, err := ParseEventFilter([]byte(raw), w.opts...)
	e := eventEntry{f, err}
	w.events[strings.Clone(raw)] = e
	return e
}

func (w *jsonlWorker) requestFilter(raw string) requestEntry {
	if e, ok := w.requests[raw]; ok {
		return e
	}
	if len(w.requests) >= jsonlCacheSize {
		clear(w.requests)
	}
	f, err := ParseRequestFilter([]byte(raw), w.opts...)
	e := requestEntry{f, err}
	w.requests[strings.Clone(raw)] = e
	return e
}

// matchLine appends the output line for one input line to dst.
func (w *jsonlWorker) matchLine(dst, line []byte) []byte {
	ok, msg := w.match(line)
	switch {
	case msg != "":
		dst = append(dst, `{"error": `...)
		dst = appendJSONString(dst, msg)
		return append(dst, "}\n"...)
	case ok:
		return append(dst, "{\"match\": true}\n"...)
	}
	return append(dst, "{\"match\": false}\n"...)
}

// match matches one line; msg is the error, if any.
func (w *jsonlWorker) match(line []byte) (ok bool, msg string) {
	trimmed := bytes.TrimLeft(line, " \t\r\n")
	lead := len(line) - len(trimmed) // to turn offsets in trimmed into columns
	trimmed = bytes.TrimRight(trimmed, " \t\r\n")
	if len(trimmed) == 0 {
		return false, "empty line"
	}
	if !gjson.ValidBytes(trimmed) {
		off, msg, ok := jsonlSyntaxError(trimmed)
		if !ok {
			return false, "invalid JSON"
		}
		return false, fmt.Sprintf("%s (column %d)", msg, lead+off+1)
	}
	if trimmed[0] != '{' {
		return false, `want a JSON object with "filter" or "request_filter"`
	}
	// The Results point into line, which outlives this call.
	s := unsafe.String(&trimmed[0], len(trimmed))
	var filter, payload, reqFilter, req gjson.Result
	gjson.Parse(s).ForEach(func(k, v gjson.Result) bool {
		var slot *gjson.Result
		switch k.Str {
		case "filter":
			slot = &filter
		case "payload":
			slot = &payload
		case "request_filter":
			slot = &reqFilter
		case "request":
			slot = &req
		default:
			msg = fmt.Sprintf("unknown key %q (want filter and payload, or request_filter and request)", k.Str)
			return false
		}
		if slot.Exists() {
			msg = fmt.Sprintf("duplicate key %q", k.Str)
			return false
		}
		*slot = v
		return true
	})
	if msg != "" {
		return false, msg
	}
	column := func(v gjson.Result, off int) int { return lead + v.Index + off + 1 }
	switch {
	case filter.Exists() && reqFilter.Exists():
		return false, `give "filter" or "request_filter", not both`
	case filter.Exists():
		if req.Exists() {
			return false, `"request" goes with "request_filter"; give "payload" with "filter"`
		}
		e := w.eventFilter(filter.Raw)
		if e.err != nil {
			return false, lineFilterError("filter", e.err, column(filter, 0))
		}
		if !payload.Exists() {
			return e.f.Match(nil), ""
		}
		ok, err := e.f.MatchJSON(trimmed[payload.Index : payload.Index+len(payload.Raw)])
		if err != nil {
			return false, fmt.Sprintf("payload: %v (column %d)", err, column(payload, 0))
		}
		return ok, ""
	case reqFilter.Exists():
		if payload.Exists() {
			return false, `"payload" goes with "filter"; give "request" with "request_filter"`
		}
		if !req.Exists() {
			return false, `"request_filter" needs a "request"`
		}
		e := w.requestFilter(reqFilter.Raw)
		if e.err != nil {
			return false, lineFilterError("request_filter", e.err, column(reqFilter, 0))
		}
		r, msg := jsonlRequest(req)
		if msg != "" {
			return false, msg
		}
		return e.f.Match(r), ""
	}
	return false, `no "filter" or "request_filter"`
}

// lineFilterError describes a filter that does not parse; col is the
// column where the filter starts in the line.
func lineFilterError(key string, err error, col int) string {
	var pe *ParseError
	if !errors.As(err, &pe) {
		return fmt.Sprintf("%s: %v (column %d)", key, err, col)
	}
	return fmt.Sprintf("%s: %s (column %d)", key, strings.TrimPrefix(pe.Error(), "matcher: "), col+pe.Offset)
}

// jsonlRequest converts the "request" object of a line.
func jsonlRequest(v gjson.Result) (r Request, msg string) {
	if !v.IsObject() {
		return r, `"request" must be an object {"method", "url", "headers", "body"}`
	}
	var method, url bool
	v.ForEach(func(k, x gjson.Result) bool {
		switch k.Str {
		case "method", "url", "body":
			if x.Type != gjson.String {
				msg = fmt.Sprintf("request.%s must be a string", k.Str)
				return false
			}
			switch k.Str {
			case "method":
				r.Method, method = strings.Clone(x.Str), true
			case "url":
				r.URL, url = strings.Clone(x.Str), true
			default:
				r.Body = []byte(x.Str)
			}
		case "headers":
			if !x.IsObject() {
				msg = `request.headers must be an object {"Name": "value"}`
				return false
			}
			r.Header = make(http.Header)
			x.ForEach(func(name, val gjson.Result) bool {
				switch {
				case val.Type == gjson.String:
					r.Header.Add(name.Str, val.Str)
				case val.IsArray():
					for _, s := range val.Array() {
						if s.Type != gjson.String {
							msg = fmt.Sprintf("request.headers.%s must be a string or an array of strings", name.Str)
							return false
						}
						r.Header.Add(name.Str, s.Str)
					}
				default:
					msg = fmt.Sprintf("request.headers.%s must be a string or an array of strings", name.Str)
					return false
				}
				return true
			})
			return msg == ""
		default:
			msg = fmt.Sprintf("unknown key request.%s (want method, url, headers, body)", k.Str)
			return false
		}
		return true
	})
	switch {
	case msg != "":
	case !method:
		msg = "request.method is missing"
	case !url:
		msg = "request.url is missing"
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	return r, msg
}

// appendJSONString appends s as a JSON string, without escaping HTML
// characters.
func appendJSONString(dst []byte, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return append(dst, `"?"`...)
	}
	return append(dst, bytes.TrimRight(b.Bytes(), "\n")...)
}

// jsonlSyntaxError says where and why data is not one JSON value, as
// encoding/json sees it; ok is false if encoding/json accepts it.
func jsonlSyntaxError(data []byte) (off int, msg string, ok bool) {
	var v json.RawMessage
	err := json.Unmarshal(data, &v)
	if err == nil {
		return 0, "", false
	}
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return 0, "invalid JSON: " + err.Error(), true
	}
	off = int(se.Offset)
	// Offset counts the bytes read, the offending one included.
	if strings.HasPrefix(se.Error(), "invalid character") && off > 0 {
		off--
	}
	if strings.TrimSpace(string(data)) == "" {
		return off, "invalid JSON: empty", true
	}
	return off, "invalid JSON: " + se.Error(), true
}
