package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hooklab/hooklab/signer"
)

// Defaults of hooklab sign.
const (
	defaultURL    = "http://127.0.0.1:8080/webhook"
	defaultMethod = http.MethodPost
	// defaultContentType is the Content-Type of a signed body, unless the
	// preset signs form parameters ({params}: Twilio, Mandrill), which
	// default to defaultFormContentType.
	defaultContentType     = "application/json"
	defaultFormContentType = "application/x-www-form-urlencoded"
)

// now is the clock sign uses when no --timestamp is given.
var now = time.Now

const signUsage = `Usage: hooklab sign --preset NAME --secret S (--body TEXT | --body-file PATH|-) [flags]
       hooklab sign --fixture NAME [--seed N] --secret S [flags]

Sign signs a body as the provider of preset NAME would and prints the whole
request: as raw HTTP/1.1 (--format http, the default, which 'hooklab verify'
reads back), as a curl command (--format curl), or as JSON (--format json:
{"method", "url", "headers", "body"}, where "body" is omitted and
"body_base64" given when the body is not valid UTF-8). The JSON "headers"
and the curl command leave out Content-Length, and Host unless given with
--header: they follow from the body and the URL.

Asymmetric presets (discord, sendgrid, standard-webhooks-ed25519) take the
private key as the secret. Repeat --secret to sign with several keys (key
rotation, newest first) where the preset carries several signatures.

With --fixture NAME (see hooklab fixtures list) a provider's sample
delivery is signed instead of a body: the fixture gives the preset (which
--preset may replace), the method, the path (used when --url has none),
its headers and the body, generated from --seed. The message id comes from
the seed too, so a fixed --seed and --timestamp give the same bytes.
--set PATH=VALUE sets a field of its JSON body (a JSON path:
data.object.customer, pull_request.labels[0].name, creating missing
keys; VALUE is a JSON literal if it parses as one, else a string),
--query NAME=VALUE replaces a query parameter and --header a header,
all before signing, so the signature covers them. --param NAME=VALUE
sets a parameter the fixture names (Stripe's customer, GitHub's
repository, Meta's verify_token: see hooklab fixtures show NAME
--params) everywhere the fixture puts it; parameters are set first, so
a --set, --query or --header of the same place wins there.

Examples:

	hooklab sign --preset github --secret s3cret --body '{"zen":"hi"}'
	hooklab sign --preset stripe --secret-env STRIPE_SECRET --body-file event.json --format curl
	hooklab sign --preset github --secret s3cret --body '{"zen":"hi"}' | hooklab verify --preset github --secret s3cret
	hooklab sign --fixture stripe/invoice.paid --seed 3 --secret whsec_test --url https://example.com --format curl
	hooklab sign --fixture stripe/invoice.paid --secret whsec_test --set data.object.customer=cus_123 --set 'data.object.metadata={"order":"42"}'`

func newSignCmd() *command {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	var (
		secrets     secretFlags
		headers     headerFlags
		overrides   overrideFlags
		body        stringFlag
		bodyFile    stringFlag
		timestamp   unixFlag
		contentType stringFlag
		format      = choiceFlag{value: "http", choices: []string{"http", "curl", "json"}}
	)
	preset := fs.String("preset", "", "sign as preset `NAME` (see hooklab presets); with -fixture, instead of the fixture's")
	fixtureName := fs.String("fixture", "", "sign fixture `NAME` (see hooklab fixtures list): it gives the preset, method, path, headers and body")
	seed := fs.Int64("seed", 1, "with -fixture: generate the fixture's ids, names and amounts from seed `N`")
	secrets.register(fs, "to sign with (the private key for asymmetric presets)")
	fs.Var(&timestamp, "timestamp", "sign at `UNIX_SECONDS` instead of now")
	id := fs.String("id", "", "message `ID` for presets that send one (default a fresh random id)")
	// The flag's own default stays empty: the default depends on -fixture,
	// and the text below names both (the flag package would add a second).
	rawURL := fs.String("url", "", "the `URL` the request is addressed to (default "+defaultURL+"; with -fixture, "+fixtureBaseURL+" and the fixture's path, and a URL without a path gets the fixture's)")
	method := fs.String("method", defaultMethod, "the request `METHOD`")
	fs.Var(&headers, "header", "add a header `'Name: value'` (repeatable; with -fixture, replacing the fixture's before signing)")
	fs.Var(&contentType, "content-type", "the Content-Type `TYPE` (default "+defaultContentType+", or "+defaultFormContentType+" for twilio and mandrill)")
	fs.Var(&body, "body", "the body `TEXT`")
	fs.Var(&bodyFile, "body-file", "read the body from `PATH` (- for stdin)")
	fs.Var(&format, "format", "output `FORMAT`: http, curl or json")
	overrides.register(fs)

	return &command{
		name:    "sign",
		summary: "sign a webhook and print the request (raw HTTP, curl or JSON)",
		usage:   signUsage,
		fs:      fs,
		run: func(std *stdio) error {
			given := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
			if *fixtureName != "" {
				switch {
				case given["body"] || given["body-file"]:
					return usageErrorf("give -fixture or -body/-body-file, not both")
				case given["method"], given["content-type"]:
					return usageErrorf("-method and -content-type cannot be used with -fixture: the fixture gives them (use -header 'Content-Type: …' to replace its content type)")
				case given["id"]:
					return usageErrorf("-id cannot be used with -fixture: the message id comes from -seed")
				}
				target := fixtureBaseURL
				if *rawURL != "" {
					target = *rawURL
				}
				at := now().UTC()
				if timestamp.set {
					at = timestamp.t
				}
				signed, host, err := signFixture(std, *fixtureName, *preset, &secrets, headers, &overrides, target, *seed, at)
				if err != nil {
					return err
				}
				u, _ := url.Parse(signed.URL)
				return writeRequest(std.stdout, format.value, signed, host, u.Host)
			}
			if given["seed"] {
				return usageErrorf("-seed applies only with -fixture")
			}
			if overrides.given() {
				return overrides.withoutFixture()
			}
			if *preset == "" {
				return usageErrorf("no preset: give -preset NAME (see hooklab presets)")
			}
			scheme, err := signer.Preset(*preset)
			if err != nil {
				return usageErrorf("%v", err)
			}
			keys, notes, err := secrets.keys()
			if err != nil {
				return err
			}
			b, err := readBody(std.stdin, body, bodyFile)
			if err != nil {
				return err
			}
			if *rawURL == "" {
				*rawURL = defaultURL
			}
			target, targetHost, err := parseTarget(*rawURL)
			if err != nil {
				return usageErrorf("-url: %v", err)
			}
			if !isToken(*method) {
				return usageErrorf("-method: not an HTTP method token")
			}
			h, host, err := buildHeader(headers, contentType, scheme)
			if err != nil {
				return err
			}

			clock := signer.At(now().UTC())
			if timestamp.set {
				clock = signer.At(timestamp.t)
			}
			opts := []signer.Option{clock}
			if *id != "" {
				opts = append(opts, signer.ID(*id))
			}
			signed, err := signer.Sign(scheme, keys, signer.Payload{Method: *method, URL: target, Header: h, Body: b}, opts...)
			if err != nil {
				return usageErrorf("%v", withNotes(err, notes))
			}
			return writeRequest(std.stdout, format.value, signed, host, targetHost)
		},
	}
}

// signFixture renders fixture name from seed and signs it at time at for
// target (a URL without a path gets the fixture's path), with preset
// instead of the fixture's own when not empty. The overrides and the
// --header fields are made before signing; a Host among the headers is
// returned apart.
func signFixture(std *stdio, name, preset string, secrets *secretFlags, headers headerFlags, overrides *overrideFlags, target string, seed int64, at time.Time) (signer.Payload, string, error) {
	target, _, err := parseTarget(target)
	if err != nil {
		return signer.Payload{}, "", usageErrorf("-url: %v", err)
	}
	fsg, err := newFixtureSigner(std, "sign", name, preset, secrets)
	if err != nil {
		return signer.Payload{}, "", err
	}
	extra, host, err := afterSigning(headers, fsg.scheme, fsg.signed)
	if err != nil {
		return signer.Payload{}, "", err
	}
	fsg.override(overrides, extra)
	p, err := fsg.sign(target, seed, at)
	if err != nil {
		return signer.Payload{}, "", err
	}
	return p, host, nil
}

// writeRequest prints a signed request in format (http, curl or json).
// host is a Host given with --header, or empty; the raw HTTP output falls
// back to targetHost, the URL's.
func writeRequest(w io.Writer, format string, signed signer.Payload, host, targetHost string) error {
	var out []byte
	var err error
	switch format {
	case "curl", "json":
		if host != "" { // an explicit --header 'Host: …' is kept
			signed.Header = signed.Header.Clone()
			signed.Header.Set("Host", host)
		}
		if format == "curl" {
			out = formatCurl(signed)
		} else {
			out, err = formatJSON(signed)
		}
	default:
		if host == "" {
			host = targetHost
		}
		out, err = formatHTTP(signed, host)
	}
	if err != nil {
		return usageErrorf("%v", err)
	}
	_, err = w.Write(out)
	return err
}

// sortedHeaderNames returns the names of h, sorted.
func sortedHeaderNames(h http.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// formatHTTP writes p as a raw HTTP/1.1 request with CRLF line ends: the
// request line with the path and query, Host, the headers sorted by name
// (Content-Length among them), a blank line, and the body exactly.
func formatHTTP(p signer.Payload, host string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", p.Method, requestTarget(p.URL))
	fmt.Fprintf(&b, "Host: %s\r\n", host)
	h := p.Header.Clone()
	h.Set("Content-Length", strconv.Itoa(len(p.Body)))
	for _, name := range sortedHeaderNames(h) {
		for _, v := range h[name] {
			if strings.ContainsAny(v, "\r\n\x00") {
				return nil, fmt.Errorf("header %s: the value contains a line break", name)
			}
			fmt.Fprintf(&b, "%s: %s\r\n", name, v)
		}
	}
	b.WriteString("\r\n")
	b.Write(p.Body)
	return b.Bytes(), nil
}

// jsonRequest is the --format json output.
type jsonRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	// Headers holds every header but Content-Length, and Host unless it
	// was given with --header; the values of a repeated header are joined
	// with ", ".
	Headers map[string]string `json:"headers"`
	// Body is the body when it is valid UTF-8, else omitted.
	Body *string `json:"body,omitempty"`
	// BodyBase64 is the body, base64, when it is not valid UTF-8.
	BodyBase64 string `json:"body_base64,omitempty"`
}

func formatJSON(p signer.Payload) ([]byte, error) {
	out := jsonRequest{Method: p.Method, URL: p.URL, Headers: make(map[string]string, len(p.Header))}
	for name, vs := range p.Header {
		out.Headers[name] = strings.Join(vs, ", ")
	}
	if utf8.Valid(p.Body) {
		s := string(p.Body)
		out.Body = &s
	} else {
		out.BodyBase64 = base64.StdEncoding.EncodeToString(p.Body)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// formatCurl writes p as a curl command, one argument per line. The body
// goes in --data-binary in single quotes; a body that is not valid UTF-8
// or holds control characters other than newline and tab is piped in from
// a POSIX printf instead, so the command stays pasteable and exact.
func formatCurl(p signer.Payload) []byte {
	var b bytes.Buffer
	printable := isPrintable(p.Body)
	if !printable {
		b.WriteString("printf " + shellQuote(printfFormat(p.Body)) + " |\n  ")
	}
	b.WriteString("curl " + shellQuote(p.URL))
	if p.Method != http.MethodPost {
		b.WriteString(" \\\n  -X " + shellQuote(p.Method))
	}
	for _, name := range sortedHeaderNames(p.Header) {
		for _, v := range p.Header[name] {
			arg := name + ": " + v
			if v == "" {
				arg = name + ";" // curl's way to send a header with an empty value
			}
			b.WriteString(" \\\n  -H " + shellQuote(arg))
		}
	}
	if printable {
		b.WriteString(" \\\n  --data-binary " + shellQuote(string(p.Body)) + "\n")
	} else {
		b.WriteString(" \\\n  --data-binary @-\n")
	}
	return b.Bytes()
}

// shellQuote quotes s for a POSIX shell: inside single quotes every byte
// is literal, and a single quote is closed, escaped and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isPrintable reports whether b is valid UTF-8 without control characters
// other than newline and tab.
func isPrintable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if (r < ' ' && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// printfFormat writes b as a printf format string that prints b exactly:
// printable ASCII as itself (with \ and % escaped) and every other byte as
// a three-digit octal escape.
func printfFormat(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		switch {
		case c == '\\':
			s.WriteString(`\\`)
		case c == '%':
			s.WriteString("%%")
		case c >= ' ' && c < 0x7f:
			s.WriteByte(c)
		default:
			fmt.Fprintf(&s, `\%03o`, c)
		}
	}
	return s.String()
}
