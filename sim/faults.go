package sim

import (
	"fmt"
	"sort"
	"strings"
)

// A Fault is a named defect the reference Ingress can be built with, to
// test the tester: the conformance suite must fail against each one. Every
// fault is a mistake real webhook receivers make.
type Fault string

// The faults.
const (
	// SkipVerify accepts every request without checking its signature.
	SkipVerify Fault = "skip-verify"
	// VerifyAfterTrigger delivers to the triggers first and only then
	// verifies, so a forged request still wakes consumers before its 401.
	VerifyAfterTrigger Fault = "verify-after-trigger"
	// CaseSensitiveHeaders looks header names up exactly as the filter or
	// scheme spells them, as a map lookup on Go's canonicalised header map
	// does, so "x-github-event" never matches.
	CaseSensitiveHeaders Fault = "case-sensitive-headers"
	// FirstMatchOnly delivers to the first matching trigger only.
	FirstMatchOnly Fault = "first-match-only"
	// IgnoreSkipTriggering answers with the respondWith response and
	// triggers anyway.
	IgnoreSkipTriggering Fault = "ignore-skip-triggering"
	// NoRespondWith ignores respondWith: handshakes get the normal path.
	NoRespondWith Fault = "no-respond-with"
	// QueryFilterIgnored treats every filter's query part as matching.
	QueryFilterIgnored Fault = "query-filter-ignored"
	// DropUnderConcurrency silently drops deliveries while more than a few
	// requests are in flight.
	DropUnderConcurrency Fault = "drop-under-concurrency"
	// DuplicateDelivery delivers every matching trigger twice.
	DuplicateDelivery Fault = "duplicate-delivery"
	// ReserializeBody verifies the body re-encoded from parsed JSON
	// instead of the raw bytes.
	ReserializeBody Fault = "reserialize-body"
	// NoTolerance never checks the timestamp's age.
	NoTolerance Fault = "no-tolerance"
	// FirstKeyOnly verifies with the newest secret only, so a delivery
	// signed with the previous key during rotation is rejected.
	FirstKeyOnly Fault = "first-key-only"
	// FirstHeaderValueOnly reads only the first value of a repeated
	// signature header, as http.Header.Get does.
	FirstHeaderValueOnly Fault = "first-header-value-only"
	// AnyMethod accepts every method, TRACE and made-up ones included.
	AnyMethod Fault = "any-method"
	// UnknownEndpointOK answers 200 for an endpoint id it does not serve,
	// as a catch-all route does, so a sender never learns its URL is wrong.
	UnknownEndpointOK Fault = "unknown-endpoint-ok"
	// ParseJSONFirst parses a body with a JSON content type before
	// anything else and answers 400 when it does not parse, so nothing is
	// triggered, as body-parsing middleware in front of a handler does.
	ParseJSONFirst Fault = "parse-json-first"
	// UTF8DecodeBody verifies the body decoded as UTF-8 with replacement
	// characters (Fetch's Request.text(), as Trigger.dev v2 stores it)
	// instead of the raw bytes.
	UTF8DecodeBody Fault = "utf8-decode-body"
	// LeakExpectedSignature puts the signature it expected in the 401
	// answer, as debugging code often does.
	LeakExpectedSignature Fault = "leak-expected-signature"
	// JSONContentTypeOnly evaluates body filters only when the content
	// type contains "application/json", compared case-sensitively, as
	// Trigger.dev v2's trigger matching does.
	JSONContentTypeOnly Fault = "json-content-type-only"
	// URLWithoutQuery verifies URL-signed schemes (Twilio, Square …) over
	// the URL without its query string.
	URLWithoutQuery Fault = "url-without-query"
	// SHA1Fallback accepts a GitHub delivery whose X-Hub-Signature-256
	// header is missing when the legacy SHA-1 X-Hub-Signature verifies, an
	// algorithm downgrade (go-github's ValidatePayload did this).
	SHA1Fallback Fault = "sha1-fallback"
	// NoContentLimit reads bodies of any size instead of answering 413.
	NoContentLimit Fault = "no-content-limit"
)

var faultDocs = map[Fault]string{
	SkipVerify:            "accepts every request without checking its signature",
	VerifyAfterTrigger:    "delivers to the triggers, then verifies and rejects",
	CaseSensitiveHeaders:  "looks header names up case-sensitively",
	FirstMatchOnly:        "delivers to the first matching trigger only",
	IgnoreSkipTriggering:  "triggers even when respondWith says skipTriggering",
	NoRespondWith:         "ignores respondWith",
	QueryFilterIgnored:    "treats the query part of every filter as matching",
	DropUnderConcurrency:  "drops deliveries while more than 4 requests are in flight",
	DuplicateDelivery:     "delivers every matching trigger twice",
	ReserializeBody:       "verifies re-encoded JSON instead of the raw body",
	NoTolerance:           "never checks the timestamp's age",
	FirstKeyOnly:          "verifies with the newest secret only",
	FirstHeaderValueOnly:  "reads only the first value of a repeated signature header",
	AnyMethod:             "accepts every method, TRACE and made-up ones included",
	UnknownEndpointOK:     "answers 200 for an endpoint it does not serve",
	ParseJSONFirst:        "answers 400 to a body with a JSON content type that does not parse",
	UTF8DecodeBody:        "verifies the body decoded as UTF-8 text, not the raw bytes",
	LeakExpectedSignature: "puts the expected signature in its 401 answer",
	JSONContentTypeOnly:   "evaluates body filters only for a case-sensitive application/json content type",
	URLWithoutQuery:       "verifies URL-signed schemes over the URL without its query",
	SHA1Fallback:          "falls back to GitHub's SHA-1 signature when the SHA-256 one is missing",
	NoContentLimit:        "reads bodies of any size instead of answering 413",
}

// Faults returns every fault, sorted by name.
func Faults() []Fault {
	fs := make([]Fault, 0, len(faultDocs))
	for f := range faultDocs {
		fs = append(fs, f)
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i] < fs[j] })
	return fs
}

// Doc says what the fault does, in a phrase.
func (f Fault) Doc() string { return faultDocs[f] }

// ParseFault returns the fault named s.
func ParseFault(s string) (Fault, error) {
	f := Fault(s)
	if _, ok := faultDocs[f]; !ok {
		names := make([]string, 0, len(faultDocs))
		for _, f := range Faults() {
			names = append(names, string(f))
		}
		return "", fmt.Errorf("sim: unknown fault %q (want one of %s)", s, strings.Join(names, ", "))
	}
	return f, nil
}

// faultSet is a set of faults.
type faultSet map[Fault]bool

func newFaultSet(fs []Fault) (faultSet, error) {
	set := faultSet{}
	for _, f := range fs {
		if _, err := ParseFault(string(f)); err != nil {
			return nil, err
		}
		set[f] = true
	}
	return set, nil
}
