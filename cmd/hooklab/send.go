package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// Response body bytes send keeps: shown on the text line, and in --json.
const (
	sendShowBody = 200
	sendJSONBody = 64 << 10
)

const sendUsage = `Usage: hooklab send --fixture NAME --secret S --to URL [flags]
       hooklab send --preset NAME --secret S (--body TEXT | --body-file PATH|-) --to URL [flags]
       hooklab send --spec FILE [--endpoint ID] --example ID --to URL [flags]

Send renders fixture NAME (see hooklab fixtures list), signs it with its
preset (or --preset) and sends it to URL; a URL without a path gets the
fixture's path, unless URL is a 'hooklab serve' that serves exactly one
endpoint for the fixture's provider (id PROVIDER or PROVIDER-…, as its 404
to GET /hooks/ lists them): then its /hooks/<id>, said on stderr. --count sends that many, from seeds N, N+1, … (--seed N),
each signed as it is sent. With --preset and --body or --body-file instead
of --fixture it sends a body of your own, signed as 'hooklab sign' does.

For each request it prints "#i status latency bytes" (bytes: the response
body's size), then the response body's first 200 bytes on the next line,
indented, and at the end a summary. --json prints one JSON object a line
per request instead: {"seq", "status", "latency_ms", "timings": {"dns_ms",
"connect_ms", "tls_ms", "first_byte_ms", "total_ms"}, "bytes_in",
"response_body", "response_truncated", "conn_reused"} (the body's first
64 KiB; "response_body_base64" instead when it is not UTF-8), or
{"seq", "error"} for a request that got no response.

--set PATH=VALUE sets a field of the fixture's JSON body (a JSON path:
data.object.customer, pull_request.labels[0].name; VALUE is a JSON
literal if it parses as one, else a string), --query NAME=VALUE replaces
a query parameter, and --header replaces the fixture's header of that
name, all before signing, so the signature covers them. A header the
signature writes (signature, timestamp, message id) is refused.
--param NAME=VALUE sets a parameter the fixture names (customer,
repository, verify_token: see hooklab fixtures show NAME --params)
everywhere the fixture puts it, before the other overrides. Redirects are not followed. The secret is never printed.

--example ID sends example ID of an endpoint of spec FILE (its
"examples"), signed as that endpoint verifies: its preset or scheme and
its first secret. --endpoint may be left out when one endpoint of the
file has that example. A URL without a path gets /hooks/<endpoint id>.

Delivery chaos, as providers cause it, to test a receiver's idempotency:
--duplicate RATIO sends that share of the deliveries a second time, byte
for byte (same signature, id and Hooklab-Request-Id), after the first;
--reorder N sends the --count deliveries shuffled within each window of
N; both are chosen by --seed, so a run repeats. --retry-on non-2xx
retries an attempt that got no 2xx answer (or none) on the documented
schedule of the preset's provider (Stripe, Standard Webhooks, Svix,
Clerk, Resend, Shopify, Slack, Zoom, Mailgun; GitHub does not retry;
'go doc sim.RetryPolicyFor' has the sources), signed anew with
the same message id and the provider's retry headers (Slack's
X-Slack-Retry-Num and X-Slack-Retry-Reason); --time-scale 0.001 makes
its minutes milliseconds. Each attempt and copy gets a line ("#3 attempt
2 (after http_error)", "#3 duplicate"; in --json "attempt",
"retry_reason", "duplicate"), and a last line counts what was injected
(--json: {"chaos": {"duplicates", "reordered", "retries", "gave_up"}}).

Exit codes: 0 every response was 2xx (with chaos: every delivery's last
attempt and every copy), 1 a response was not 2xx or a request got no
response (refused, timed out), 2 bad usage.

Examples:

	hooklab send --fixture github/push --secret s3cret --to http://localhost:3000
	hooklab send --fixture stripe/invoice.paid --secret-env STRIPE_SECRET --to http://localhost:3000/api/stripe --count 20 --json
	hooklab send --preset github --secret s3cret --body '{"zen":"hi"}' --to http://localhost:3000/webhook
	hooklab send --spec examples/specs/stripe.json --example checkout-cus-123 --to http://127.0.0.1:8080
	hooklab send --fixture stripe/invoice.paid --secret whsec_x --to http://localhost:3000/api/stripe --count 10 --duplicate 0.3 --reorder 5 --retry-on non-2xx --time-scale 0.001`

// sendResultJSON is one line of "hooklab send --json" for a request that
// got a response.
type sendResultJSON struct {
	Seq       int         `json:"seq"`
	Status    int         `json:"status"`
	LatencyMS float64     `json:"latency_ms"`
	Timings   timingsJSON `json:"timings"`
	BytesIn   int64       `json:"bytes_in"`
	// ResponseBody is the body's first sendJSONBody bytes when they are
	// valid UTF-8, else omitted for ResponseBodyBase64.
	ResponseBody       *string `json:"response_body,omitempty"`
	ResponseBodyBase64 string  `json:"response_body_base64,omitempty"`
	ResponseTruncated  bool    `json:"response_truncated"`
	ConnReused         bool    `json:"conn_reused"`
	sendAttemptJSON
}

// sendAttemptJSON says, under chaos, which attempt a line is.
type sendAttemptJSON struct {
	// Delivery is, under --reorder, the delivery (1…) sent in this place
	// when it is not seq.
	Delivery    int    `json:"delivery,omitempty"`
	Attempt     int    `json:"attempt,omitempty"`
	Duplicate   bool   `json:"duplicate,omitempty"`
	RetryReason string `json:"retry_reason,omitempty"`
}

type timingsJSON struct {
	DNS       float64 `json:"dns_ms"`
	Connect   float64 `json:"connect_ms"`
	TLS       float64 `json:"tls_ms"`
	FirstByte float64 `json:"first_byte_ms"`
	Total     float64 `json:"total_ms"`
}

// sendErrorJSON is one line of "hooklab send --json" for a request that
// got no response.
type sendErrorJSON struct {
	Seq   int    `json:"seq"`
	Error string `json:"error"`
	sendAttemptJSON
}

func newSendCmd() *command {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	var (
		secrets     secretFlags
		headers     headerFlags
		overrides   overrideFlags
		body        stringFlag
		bodyFile    stringFlag
		contentType stringFlag
		timeout     durationFlag
	)
	fixtureName := fs.String("fixture", "", "send fixture `NAME` (see hooklab fixtures list)")
	preset := fs.String("preset", "", "sign as preset `NAME`: with -body or -body-file, or instead of the fixture's")
	secrets.register(fs, "to sign with (the private key for asymmetric presets)")
	to := fs.String("to", "", "send to `URL` (http:// when written host[:port][/path]; with -fixture, a URL without a path gets the fixture's)")
	seed := fs.Int64("seed", 1, "with -fixture: the seed `N` of the first request; the next ones take N+1, N+2, …")
	count := fs.Int("count", 1, "send `N` requests, one after the other")
	fs.Var(&headers, "header", "add a header `'Name: value'` (repeatable; with -fixture, replacing the fixture's before signing; with -body, after signing)")
	fs.Var(&timeout, "timeout", "give up on a request after `DURATION` (0 for never; default 30s)")
	asJSON := fs.Bool("json", false, "print one JSON object a line per request")
	fs.Var(&body, "body", "with -preset: the body `TEXT`")
	fs.Var(&bodyFile, "body-file", "with -preset: read the body from `PATH` (- for stdin)")
	fs.Var(&contentType, "content-type", "with -body: the Content-Type `TYPE` (default as hooklab sign)")
	overrides.register(fs)
	specFile := fs.String("spec", "", "with -example: the spec `FILE` the example is in")
	endpointID := fs.String("endpoint", "", "with -example: the endpoint `ID` (default: the one endpoint with that example)")
	exampleID := fs.String("example", "", "send example `ID` of the endpoint, signed as it verifies")
	var chaos chaosFlags
	chaos.register(fs)

	return &command{
		name:    "send",
		summary: "sign a fixture (or a body) and send it to a URL, printing status and timings",
		usage:   sendUsage,
		fs:      fs,
		run: func(std *stdio) error {
			given := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
			if *to == "" {
				return usageErrorf("no target: give -to URL")
			}
			target, _, err := parseTarget(*to)
			if err != nil {
				return usageErrorf("-to: %v", err)
			}
			if *count < 1 {
				return usageErrorf("-count: want 1 or more")
			}

			// An example of a spec: signed for its endpoint.
			var ex *exampleSender
			if *exampleID != "" || given["spec"] || given["endpoint"] {
				for _, f := range []string{"fixture", "preset", "body", "body-file", "content-type", "header", "set", "query", "secret", "secret-env", "secret-file", "retry-on"} {
					if given[f] {
						return usageErrorf("-%s cannot be used with -example: the spec gives it", f)
					}
				}
				if ex, err = newExampleSender(*specFile, *endpointID, *exampleID); err != nil {
					return err
				}
				if targetHasNoPath(target) {
					target = withServedPath(target, "/hooks/"+ex.spec.ID)
				}
			}

			// What to send: a fixture, or a body of one's own.
			var (
				fsg    *fixtureSigner
				scheme signer.Scheme
				signed = true
				keys   signer.KeySet
				notes  []string
				own    signer.Payload
			)
			if ex != nil {
				signed = false // the example's own headers are made before signing
			} else if *fixtureName != "" {
				switch {
				case given["body"] || given["body-file"]:
					return usageErrorf("give -fixture or -body/-body-file, not both")
				case given["content-type"]:
					return usageErrorf("-content-type cannot be used with -fixture: the fixture gives it (use -header 'Content-Type: …' to replace it)")
				}
				if fsg, err = newFixtureSigner(std, "send", *fixtureName, *preset, &secrets); err != nil {
					return err
				}
				scheme, signed = fsg.scheme, fsg.signed
			} else {
				switch {
				case given["seed"] && !chaosGiven(given):
					return usageErrorf("-seed applies only with -fixture, or with -duplicate or -reorder")
				case overrides.given():
					return overrides.withoutFixture()
				case *preset == "":
					return usageErrorf("nothing to send: give -fixture NAME, or -preset NAME with -body or -body-file")
				}
				if scheme, err = signer.Preset(*preset); err != nil {
					return usageErrorf("%v", err)
				}
				if keys, notes, err = secrets.keys(); err != nil {
					return err
				}
				b, err := readBody(std.stdin, body, bodyFile)
				if err != nil {
					return err
				}
				h, _, err := buildHeader(nil, contentType, scheme)
				if err != nil {
					return err
				}
				own = signer.Payload{Method: defaultMethod, URL: target, Header: h, Body: b}
			}
			extra, host, err := afterSigning(headers, scheme, signed)
			if err != nil {
				return err
			}
			if fsg != nil {
				// A fixture's overrides and headers are made before signing.
				fsg.override(&overrides, extra)
				extra = nil
			}
			chaosScheme, chaosKeys := scheme, keys
			if fsg != nil {
				chaosKeys = fsg.keys
			}
			ch, err := chaos.build(std, "send", given, chaosScheme, chaosKeys, *seed)
			if err != nil {
				return err
			}

			client := &http.Client{
				Timeout:       sim.DefaultTimeout,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
			if timeout.set {
				client.Timeout = timeout.d
			}
			maxBody := int64(sendShowBody)
			if *asJSON {
				maxBody = sendJSONBody
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			if fsg != nil && targetHasNoPath(target) {
				// A fixture that cannot be signed is bad usage, found
				// before anything is asked of the target.
				if _, err := fsg.sign(target, *seed, now().UTC()); err != nil {
					return err
				}
				if p := servedPath(ctx, client, target, fsg.f.Provider); p != "" {
					target = withServedPath(target, p)
					fmt.Fprintf(std.stderr, "hooklab send: -to has no path: sending to %s, the one endpoint served there for %s\n", p, fsg.f.Provider)
				}
			}

			var sum sendSummary
			var chaosSum *sendChaos
			if ch != nil {
				chaosSum = &sendChaos{Retries: map[string]uint64{}}
			}
			delivered, deliveryFailed := 0, 0
			for i := range *count {
				if ctx.Err() != nil {
					break
				}
				seq := int64(i)
				if ch != nil {
					if seq = int64(ch.OrderN(uint64(i), uint64(*count))); seq != int64(i) {
						chaosSum.Reordered++
					}
				}
				at := now().UTC()
				var req *http.Request
				switch {
				case ex != nil:
					if req, err = exampleRequest(ctx, ex.spec, ex.example, target, *seed+seq, at); err != nil {
						return usageErrorf("example %s: %v", ex.example.ID, err)
					}
				case fsg != nil:
					req, err = fsg.request(ctx, target, *seed+seq, at)
				default:
					req, err = signOwn(ctx, scheme, keys, notes, own, at)
				}
				if err != nil {
					return err
				}
				for k, vs := range extra {
					req.Header[k] = vs
				}
				if host != "" {
					req.Host = host
				}
				if ch == nil {
					res, err := sim.Send(ctx, req, sim.Client(client), sim.MaxResponseBody(maxBody))
					sum.add(res, err)
					if err := writeSendResult(std.stdout, i+1, res, err, *asJSON, nil, 0); err != nil {
						return err
					}
					continue
				}
				first, err := sim.RequestPayload(req)
				if err != nil {
					return err
				}
				ok, werr := true, error(nil)
				derr := ch.Deliver(ctx, uint64(seq), first, func(r *http.Request, a sim.Attempt) (string, bool) {
					if host != "" {
						r.Host = host
					}
					res, err := sim.Send(ctx, r, sim.Client(client), sim.MaxResponseBody(maxBody))
					sum.add(res, err)
					reason, bad := sim.Failed(res, err)
					switch {
					case a.Duplicate:
						chaosSum.Duplicates++
					case a.N > 1:
						chaosSum.Retries[strconv.Itoa(a.N)]++
					}
					if bad && a.Last && !a.Duplicate && ch.Retry != nil {
						chaosSum.GaveUp++
					}
					if bad && (a.Last || a.Duplicate) {
						ok = false
					}
					if werr == nil {
						werr = writeSendResult(std.stdout, i+1, res, err, *asJSON, &a, int(seq)+1)
					}
					return reason, bad
				})
				if werr != nil {
					return werr
				}
				if derr != nil {
					break // interrupted while waiting to retry
				}
				delivered++
				if !ok {
					deliveryFailed++
				}
			}
			if !*asJSON {
				if _, err := fmt.Fprintln(std.stdout, sum.String()); err != nil {
					return err
				}
				if chaosSum != nil {
					if _, err := fmt.Fprintln(std.stdout, chaosSum.String()); err != nil {
						return err
					}
				}
			} else if chaosSum != nil {
				b, err := json.Marshal(struct {
					Chaos *sendChaos `json:"chaos"`
				}{chaosSum})
				if err != nil {
					return err
				}
				if _, err := fmt.Fprintf(std.stdout, "%s\n", b); err != nil {
					return err
				}
			}
			if ch != nil {
				if deliveryFailed > 0 || delivered < *count {
					return failed
				}
				return nil
			}
			if sum.ok < *count {
				return failed
			}
			return nil
		},
	}
}

// signOwn signs a body of one's own at time at, as hooklab sign does, and
// makes it a request.
func signOwn(ctx context.Context, scheme signer.Scheme, keys signer.KeySet, notes []string, p signer.Payload, at time.Time) (*http.Request, error) {
	p, err := signer.Sign(scheme, keys, p, signer.At(at))
	if err != nil {
		return nil, usageErrorf("%v", withNotes(err, notes))
	}
	req, err := http.NewRequestWithContext(ctx, p.Method, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	for k, vs := range p.Header {
		req.Header[k] = vs
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "hooklab")
	}
	return req, nil
}

// sendSummary counts the outcomes of hooklab send.
type sendSummary struct {
	n, ok, notOK, errors int
	min, max, total      time.Duration
	timed                int
}

func (s *sendSummary) add(res *sim.Result, err error) {
	s.n++
	switch {
	case err != nil:
		s.errors++
		return
	case res.OK():
		s.ok++
	default:
		s.notOK++
	}
	d := res.Timings.Total
	if s.timed == 0 || d < s.min {
		s.min = d
	}
	s.max = max(s.max, d)
	s.total += d
	s.timed++
}

func (s *sendSummary) String() string {
	out := fmt.Sprintf("%d sent: %d ok, %d not 2xx, %d without response", s.n, s.ok, s.notOK, s.errors)
	if s.timed > 0 {
		out += fmt.Sprintf("; latency min %s, avg %s, max %s", millis(s.min), millis(s.total/time.Duration(s.timed)), millis(s.max))
	}
	return out
}

// writeSendResult prints one request's outcome, as text or a JSON line.
func writeSendResult(w io.Writer, seq int, res *sim.Result, sendErr error, asJSON bool, a *sim.Attempt, delivery int) error {
	var aj sendAttemptJSON
	label := fmt.Sprintf("#%d", seq)
	if delivery != 0 && delivery != seq {
		aj.Delivery = delivery
		label += fmt.Sprintf(" delivery %d", delivery)
	}
	if a != nil {
		switch {
		case a.Duplicate:
			aj.Duplicate = true
			label += " duplicate"
		case a.N > 1:
			aj.Attempt, aj.RetryReason = a.N, a.Reason
			label += fmt.Sprintf(" attempt %d (after %s)", a.N, a.Reason)
		}
	}
	if asJSON {
		var v any
		if sendErr != nil {
			v = sendErrorJSON{Seq: seq, Error: sendErr.Error(), sendAttemptJSON: aj}
		} else {
			t := res.Timings
			r := sendResultJSON{
				Seq: seq, Status: res.Status, LatencyMS: ms(t.Total), BytesIn: res.BytesIn,
				Timings:           timingsJSON{DNS: ms(t.DNS), Connect: ms(t.Connect), TLS: ms(t.TLS), FirstByte: ms(t.FirstByte), Total: ms(t.Total)},
				ResponseTruncated: res.Truncated, ConnReused: res.ConnReused, sendAttemptJSON: aj,
			}
			if utf8.Valid(res.Body) {
				s := string(res.Body)
				r.ResponseBody = &s
			} else {
				r.ResponseBodyBase64 = base64.StdEncoding.EncodeToString(res.Body)
			}
			v = r
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		_, err := w.Write(b.Bytes())
		return err
	}
	if sendErr != nil {
		_, err := fmt.Fprintf(w, "%s error: %v\n", label, sendErr)
		return err
	}
	if _, err := fmt.Fprintf(w, "%s %d %s %dB\n", label, res.Status, millis(res.Timings.Total), res.BytesIn); err != nil {
		return err
	}
	if len(res.Body) == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "  %s\n", oneLine(res.Body, res.Truncated))
	return err
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// millis writes d as milliseconds with one decimal ("1.3ms").
func millis(d time.Duration) string { return fmt.Sprintf("%.1fms", ms(d)) }

// oneLine writes a response body on one line: one final line break
// dropped, other line breaks, tabs and control characters escaped as in
// Go, bytes that are not UTF-8 as \xNN, and "…" after a body that was cut
// (a rune cut in two is dropped).
func oneLine(b []byte, truncated bool) string {
	if !truncated {
		b = bytes.TrimSuffix(b, []byte("\n"))
		b = bytes.TrimSuffix(b, []byte("\r"))
	} else {
		for k := 0; k < utf8.UTFMax-1 && len(b) > 0; k++ {
			if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size != 1 {
				break
			}
			b = b[:len(b)-1]
		}
	}
	var s strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&s, `\x%02x`, b[0])
		case r == '\n':
			s.WriteString(`\n`)
		case r == '\r':
			s.WriteString(`\r`)
		case r == '\t':
			s.WriteString(`\t`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&s, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&s, `\u%04x`, r)
		default:
			s.WriteRune(r)
		}
		b = b[size:]
	}
	if truncated {
		s.WriteString("…")
	}
	return s.String()
}

// chaosFlags are the delivery chaos flags of send and load.
type chaosFlags struct {
	duplicate float64
	reorder   int
	retryOn   string
	timeScale float64
}

var chaosFlagNames = []string{"duplicate", "reorder", "retry-on", "time-scale"}

func (c *chaosFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&c.duplicate, "duplicate", 0, "send a share `RATIO` (0 to 1) of the deliveries a second time, byte for byte (same id, same Hooklab-Request-Id)")
	fs.IntVar(&c.reorder, "reorder", 0, "shuffle the deliveries within each window of `N` (chosen by -seed)")
	fs.StringVar(&c.retryOn, "retry-on", "", "`non-2xx`: retry a failed attempt (not 2xx, or no answer) on the preset's documented schedule, re-signed")
	fs.Float64Var(&c.timeScale, "time-scale", 1, "with -retry-on: multiply the schedule's delays by `F` (0.001: minutes become tens of ms)")
}

// build returns the chaos the flags ask for, or nil when none was given.
// scheme and keys sign retries (keys may be empty: retries are then the
// first attempt's bytes); preset names the provider whose schedule is
// used. Notes about the schedule go to stderr.
func (c *chaosFlags) build(std *stdio, cmd string, given map[string]bool, scheme signer.Scheme, keys signer.KeySet, seed int64) (*sim.Chaos, error) {
	if !chaosGiven(given) {
		return nil, nil
	}
	ch := &sim.Chaos{Duplicate: c.duplicate, Reorder: c.reorder, TimeScale: c.timeScale, Seed: seed}
	switch {
	case given["time-scale"] && c.retryOn == "":
		return nil, usageErrorf("-time-scale applies only with -retry-on")
	case given["time-scale"] && !(c.timeScale > 0):
		return nil, usageErrorf("-time-scale: want a positive number, such as 0.001")
	case given["duplicate"] && !(c.duplicate >= 0 && c.duplicate <= 1):
		return nil, usageErrorf("-duplicate: want a ratio from 0 to 1, such as 0.1")
	case given["reorder"] && (c.reorder < 0 || c.reorder > sim.MaxReorder):
		return nil, usageErrorf("-reorder: want a window from 0 to %d", sim.MaxReorder)
	}
	switch c.retryOn {
	case "":
	case "non-2xx":
		if scheme.Name == "" {
			return nil, usageErrorf("-retry-on: the fixture's provider signs nothing, so it has no retry schedule: give -preset")
		}
		policy, ok := sim.RetryPolicyFor(scheme.Name)
		if !ok {
			var known []string
			for _, p := range sim.RetryPolicies() {
				known = append(known, p.Preset)
			}
			return nil, usageErrorf("-retry-on: %s documents no retry schedule that hooklab knows (known: %s)", scheme.Name, strings.Join(known, ", "))
		}
		if policy.MaxAttempts() == 1 {
			fmt.Fprintf(std.stderr, "hooklab %s: -retry-on: %s does not retry failed deliveries (%s)\n", cmd, scheme.Name, policy.Source)
		} else if policy.Approximate {
			fmt.Fprintf(std.stderr, "hooklab %s: -retry-on: %s publishes no intervals; hooklab's approximation: %d attempts over %s (%s)\n",
				cmd, scheme.Name, policy.MaxAttempts(), policy.Total(), policy.Source)
		}
		ch.Retry = &policy
		if len(keys) > 0 {
			sg, err := signer.NewSigner(scheme, keys)
			if err != nil {
				return nil, usageErrorf("-retry-on: %v", err)
			}
			ch.Signer = sg
		}
	default:
		return nil, usageErrorf("-retry-on %q: the only value is non-2xx", c.retryOn)
	}
	if err := ch.Validate(); err != nil {
		return nil, usageErrorf("%v", err)
	}
	return ch, nil
}

// sendChaos counts what send's chaos injected.
type sendChaos struct {
	Duplicates uint64            `json:"duplicates"`
	Reordered  uint64            `json:"reordered"`
	Retries    map[string]uint64 `json:"retries"`
	GaveUp     uint64            `json:"gave_up"`
}

func (c *sendChaos) String() string {
	retries := "-"
	if len(c.Retries) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(c.Retries)) {
			parts = append(parts, fmt.Sprintf("%s:%d", k, c.Retries[k]))
		}
		retries = strings.Join(parts, " ")
	}
	return fmt.Sprintf("chaos: %d duplicates sent, %d reordered, retries by attempt %s, %d gave up", c.Duplicates, c.Reordered, retries, c.GaveUp)
}

// chaosGiven reports whether a chaos flag was given.
func chaosGiven(given map[string]bool) bool {
	for _, f := range chaosFlagNames {
		if given[f] {
			return true
		}
	}
	return false
}
