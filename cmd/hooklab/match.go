package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/hooklab/hooklab/matcher"
)

const matchUsage = `Usage: hooklab match --filter JSON|@FILE --payload JSON|@FILE [--explain] [--compat]
       hooklab match --request-filter JSON|@FILE [--request PATH|-] [--explain] [--compat]
       hooklab match --jsonl [--compat] < LINES

Match tests a Trigger.dev v2 EventFilter against a JSON payload exactly as
eventFilterMatches does, and prints "true" (exit 0) or "false" (exit 1);
--explain then prints one line per mismatch after "false". A filter the
reference's schema rejects, or a payload that is not JSON, exits 2 with an
error naming the path inside the filter and where: FILE:LINE:COLUMN for
@FILE (columns count bytes), else the column. @- reads stdin.

--request-filter tests a RequestFilter ({"method", "headers", "query",
"body"}) against a raw HTTP/1.1 request, as 'hooklab sign' prints it, read
from --request PATH (or @PATH) or stdin, as requestFilterMatches does. The
Host header is kept among the headers, and the query is read from the
request target.

--jsonl reads JSON lines from stdin and writes exactly one line per input
line, in order, as soon as it is known. An input line is either

	{"filter": F, "payload": P}            (no "payload" means undefined)
	{"request_filter": RF, "request": {"method": "POST", "url": "/hook?a=1",
	    "headers": {"Name": "value"}, "body": "raw text"}}

("headers" and "body" may be left out), and its output line is
{"match": true}, {"match": false} or {"error": "…"}: for an invalid filter,
a line that is not JSON or has an unknown key, and a blank line ("empty
line"). A bad line never stops the stream; --jsonl exits 0 once stdin ends.

--compat parses filters as the reference's zod schemas do: an operator
object with several operators keeps only the first in zod's order, unknown
RequestFilter keys are dropped, and mixed-case header names are kept (they
never match) rather than rejected.

Examples:

	hooklab match --filter '{"action":["opened","closed"]}' --payload '{"action":"opened"}'
	hooklab match --filter @filter.json --payload @event.json --explain
	hooklab sign --preset github --secret s3cret --header 'X-GitHub-Event: issues' --body '{"action":"opened"}' |
		hooklab match --request-filter '{"headers":{"x-github-event":["issues"]},"body":{"action":["opened"]}}'
	hooklab match --jsonl < cases.jsonl`

func newMatchCmd() *command {
	fs := flag.NewFlagSet("match", flag.ContinueOnError)
	var filter, payload, requestFilter, request stringFlag
	fs.Var(&filter, "filter", "the EventFilter: `JSON`, or @FILE (@- for stdin)")
	fs.Var(&payload, "payload", "the payload to test: `JSON`, or @FILE (@- for stdin)")
	fs.Var(&requestFilter, "request-filter", "the RequestFilter: `JSON`, or @FILE (@- for stdin)")
	fs.Var(&request, "request", "with -request-filter: read the raw HTTP request from `PATH` (- for stdin, the default)")
	explain := fs.Bool("explain", false, "after false, print why: one line per mismatch")
	compat := fs.Bool("compat", false, "parse filters as the reference's zod schemas do (see above)")
	jsonl := fs.Bool("jsonl", false, "match JSON lines from stdin, one output line per input line")

	return &command{
		name:    "match",
		summary: "test a Trigger.dev EventFilter or RequestFilter (exit 1 when it does not match)",
		usage:   matchUsage,
		fs:      fs,
		run: func(std *stdio) error {
			var opts []matcher.Option
			if *compat {
				opts = append(opts, matcher.Compat())
			}
			given := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
			switch {
			case *jsonl:
				for _, name := range []string{"filter", "payload", "request-filter", "request", "explain"} {
					if given[name] {
						return usageErrorf("-%s does not apply with -jsonl (each line carries its own)", name)
					}
				}
				if err := matchJSONL(std.stdin, std.stdout, opts, runtime.GOMAXPROCS(0)); err != nil {
					return usageErrorf("%v", err)
				}
				return nil
			case filter.set && requestFilter.set:
				return usageErrorf("give -filter or -request-filter, not both")
			case filter.set:
				if request.set {
					return usageErrorf("-request goes with -request-filter; give -payload with -filter")
				}
				if !payload.set {
					return usageErrorf("no payload: give -payload JSON or -payload @FILE")
				}
				if filter.value == "@-" && payload.value == "@-" {
					return usageErrorf("-filter and -payload cannot both read stdin")
				}
				return matchEvent(std, filter.value, payload.value, *explain, opts)
			case requestFilter.set:
				if payload.set {
					return usageErrorf("-payload goes with -filter; give -request with -request-filter")
				}
				path := strings.TrimPrefix(request.value, "@")
				if !request.set {
					path = "-"
				}
				if requestFilter.value == "@-" && path == "-" {
					return usageErrorf("-request-filter @- and the request cannot both read stdin; give -request PATH")
				}
				return matchRequest(std, requestFilter.value, path, *explain, opts)
			}
			if payload.set {
				return usageErrorf("no filter: give -filter JSON or -filter @FILE with -payload")
			}
			if request.set {
				return usageErrorf("no request filter: give -request-filter JSON or -request-filter @FILE with -request")
			}
			return usageErrorf("nothing to match: give -filter and -payload, -request-filter, or -jsonl")
		},
	}
}

// printResult prints true or false and, with explain, the mismatches.
func printResult(std *stdio, ok bool, explain func() *matcher.Explanation) error {
	if ok {
		_, err := fmt.Fprintln(std.stdout, "true")
		return err
	}
	out := "false\n"
	if explain != nil {
		if e := explain(); e != nil {
			if s := strings.TrimRight(e.String(), "\n"); s != "" {
				out += s + "\n"
			}
		}
	}
	if _, err := io.WriteString(std.stdout, out); err != nil {
		return err
	}
	return failed
}

func matchEvent(std *stdio, filterArg, payloadArg string, explain bool, opts []matcher.Option) error {
	fin, err := readJSONArg(std, "filter", filterArg)
	if err != nil {
		return err
	}
	f, err := matcher.ParseEventFilter(fin.data, opts...)
	if err != nil {
		return fin.filterError(err)
	}
	pin, err := readJSONArg(std, "payload", payloadArg)
	if err != nil {
		return err
	}
	ok, err := f.MatchJSON(pin.data)
	if err != nil {
		return pin.jsonError(err)
	}
	var ex func() *matcher.Explanation
	if explain {
		ex = func() *matcher.Explanation {
			e, _ := f.ExplainJSON(pin.data)
			return e
		}
	}
	return printResult(std, ok, ex)
}

func matchRequest(std *stdio, filterArg, requestPath string, explain bool, opts []matcher.Option) error {
	fin, err := readJSONArg(std, "request-filter", filterArg)
	if err != nil {
		return err
	}
	f, err := matcher.ParseRequestFilter(fin.data, opts...)
	if err != nil {
		return fin.filterError(err)
	}
	r, err := readMatchRequest(std, requestPath)
	if err != nil {
		return err
	}
	var ex func() *matcher.Explanation
	if explain {
		ex = func() *matcher.Explanation { return f.Explain(r) }
	}
	return printResult(std, f.Match(r), ex)
}

// readMatchRequest reads one raw HTTP/1.1 request from path or stdin, as
// readRequest does for verify, and captures it as a server would
// (matcher.CaptureRequest): Host back among the headers, and the URL
// rebuilt as http://<Host><request target>.
func readMatchRequest(std *stdio, path string) (matcher.Request, error) {
	r, err := readRequest(std, "match", path)
	if err != nil {
		return matcher.Request{}, err
	}
	c, err := matcher.CaptureRequest(r, math.MaxInt64-1)
	if err != nil {
		return matcher.Request{}, usageErrorf("%s: %v", requestName(path), err)
	}
	return c, nil
}

// A jsonArg is the value of a JSON|@FILE flag.
type jsonArg struct {
	flag string // the flag's name, without the dash
	file string // the file it was read from ("stdin" for @-), or "" for inline JSON
	data []byte
}

func readJSONArg(std *stdio, flagName, value string) (jsonArg, error) {
	a := jsonArg{flag: flagName}
	path, ok := strings.CutPrefix(value, "@")
	if !ok {
		a.data = []byte(value)
		return a, nil
	}
	var err error
	switch path {
	case "":
		return a, usageErrorf("-%s: @ needs a file name (@FILE, or @- for stdin)", flagName)
	case "-":
		a.file = "stdin"
		if a.data, err = io.ReadAll(std.stdin); err != nil {
			return a, usageErrorf("-%s: stdin: %v", flagName, err)
		}
	default:
		a.file = path
		if a.data, err = os.ReadFile(path); err != nil {
			return a, usageErrorf("-%s: %v", flagName, pathError(err))
		}
	}
	return a, nil
}

// errorAt is an exit-2 error about the byte at offset off of the value:
// "FILE:LINE:COL: msg" for a file, "-flag: msg (column N)" inline.
func (a jsonArg) errorAt(off int, msg string) error {
	if a.file != "" {
		line, col := lineCol(a.data, off)
		return usageErrorf("%s:%d:%d: %s", a.file, line, col, msg)
	}
	return usageErrorf("-%s: %s (%s)", a.flag, msg, inlinePos(a.data, off))
}

// filterError reports a filter that does not parse.
func (a jsonArg) filterError(err error) error {
	var pe *matcher.ParseError
	if !errors.As(err, &pe) {
		return usageErrorf("-%s: %v", a.flag, err)
	}
	if errors.Is(err, matcher.ErrInvalidJSON) {
		return a.jsonError(err)
	}
	return a.errorAt(pe.Offset, parseErrorMsg(pe))
}

// jsonError reports a payload that the matcher refused.
func (a jsonArg) jsonError(err error) error {
	if off, msg, ok := jsonSyntaxError(a.data); ok {
		return a.errorAt(off, msg)
	}
	return usageErrorf("-%s: %v", a.flag, err)
}

// parseErrorMsg is a ParseError without its "matcher: " prefix: the path
// in the filter, if any, and what is wrong there.
func parseErrorMsg(pe *matcher.ParseError) string {
	if pe.Path == "" {
		return pe.Msg
	}
	return pe.Path + ": " + pe.Msg
}

// jsonSyntaxError says where and why data is not one JSON value, as
// encoding/json sees it; ok is false if encoding/json accepts it.
func jsonSyntaxError(data []byte) (off int, msg string, ok bool) {
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

// lineCol converts a byte offset into data to a 1-based line and byte
// column.
func lineCol(data []byte, off int) (line, col int) {
	off = max(0, min(off, len(data)))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = off - (bytes.LastIndexByte(data[:off], '\n') + 1) + 1
	return line, col
}

// inlinePos describes a byte offset into a flag's value.
func inlinePos(data []byte, off int) string {
	line, col := lineCol(data, off)
	if bytes.IndexByte(data, '\n') < 0 {
		return fmt.Sprintf("column %d", col)
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

// --jsonl

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

var batchPool = sync.Pool{New: func() any { return new(jsonlBatch) }}

func getBatch() *jsonlBatch {
	b := batchPool.Get().(*jsonlBatch)
	b.buf, b.lines, b.out = b.buf[:0], b.lines[:0], b.out[:0]
	b.done = make(chan struct{})
	return b
}

// matchJSONL is hooklab match --jsonl: it reads JSON lines from in and
// writes one result line per input line to out, in order. Batches of lines
// are matched by workers goroutines in parallel; each batch's output is
// written, and flushed when no later batch is ready, as soon as it and
// every batch before it are done. The error is a read or write error; bad
// lines are results.
func matchJSONL(in io.Reader, out io.Writer, opts []matcher.Option, workers int) error {
	workers = max(workers, 1)
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
		batchPool.Put(b)
		if err != nil {
			// Let the reader and workers run to the end of the input.
			go func() {
				for b := range order {
					<-b.done
				}
			}()
			return fmt.Errorf("stdout: %v", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("stdout: %v", err)
	}
	if err := <-readErr; err != nil {
		return fmt.Errorf("stdin: %v", err)
	}
	return nil
}

// readJSONLBatches splits in into lines and sends them in batches to work
// and, in the same order, to order.
func readJSONLBatches(in io.Reader, work, order chan<- *jsonlBatch) error {
	br := bufio.NewReaderSize(in, jsonlReadBuffer)
	b := getBatch()
	send := func() {
		if len(b.lines) > 0 {
			work <- b
			order <- b
			b = getBatch()
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
			batchPool.Put(b)
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
	opts     []matcher.Option
	events   map[string]eventEntry
	requests map[string]requestEntry
}

type eventEntry struct {
	f   *matcher.EventFilter
	err error
}

type requestEntry struct {
	f   *matcher.RequestFilter
	err error
}

func newJSONLWorker(opts []matcher.Option) *jsonlWorker {
	return &jsonlWorker{opts: opts, events: map[string]eventEntry{}, requests: map[string]requestEntry{}}
}

func (w *jsonlWorker) eventFilter(raw string) eventEntry {
	if e, ok := w.events[raw]; ok {
		return e
	}
	if len(w.events) >= jsonlCacheSize {
		clear(w.events)
	}
	f, err := matcher.ParseEventFilter([]byte(raw), w.opts...)
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
	f, err := matcher.ParseRequestFilter([]byte(raw), w.opts...)
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
		off, msg, ok := jsonSyntaxError(trimmed)
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
	var pe *matcher.ParseError
	if !errors.As(err, &pe) {
		return fmt.Sprintf("%s: %v (column %d)", key, err, col)
	}
	return fmt.Sprintf("%s: %s (column %d)", key, parseErrorMsg(pe), col+pe.Offset)
}

// jsonlRequest converts the "request" object of a line.
func jsonlRequest(v gjson.Result) (r matcher.Request, msg string) {
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
