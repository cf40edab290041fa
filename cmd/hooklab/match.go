package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"strings"

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
				if err := matcher.MatchJSONL(std.stdin, std.stdout, 0, opts...); err != nil {
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
