// Package matcher evaluates Trigger.dev v2 EventFilters and RequestFilters
// exactly as the reference does (@trigger.dev/core 2.3.x
// eventFilterMatches and requestFilterMatches), and explains why a filter
// did not match.
//
// A filter is parsed once from JSON into an immutable compiled form that
// is safe for concurrent use:
//
//	f, err := matcher.ParseEventFilter([]byte(`{"action":["opened","synchronize"],"pull_request":{"draft":[false]}}`))
//	...
//	ok, err := f.MatchJSON(body)            // raw bytes: one validating pass, no allocation
//	ok = f.Match(decoded)                   // a value from encoding/json, no allocation
//	fmt.Println(f.Explain(decoded))         // body.action: ["opened","synchronize"] does not contain "labeled"
//
// A payload matched against many filters (an ingress with N triggers) is
// parsed once with ParseDocument, which validates it as MatchJSON does and
// hashes every object key once; MatchDocument then answers what Match
// answers on encoding/json's decoding, looking up each filter key (hashed
// when the filter was compiled) without maps or allocation:
//
//	doc, err := matcher.ParseDocument(body)
//	...
//	for _, t := range triggers { if t.Filter.MatchDocument(doc) { ... } }
//
// A request matched against many RequestFilters shares one Scan: the
// first filter that reads the body validates it and indexes its top-level
// members, in one pass that also tells whether the body needs a UTF-8
// check at all; every filter then answers what Match answers, reading
// only the members it names:
//
//	var s matcher.Scan // one per request, by value
//	for _, t := range triggers { if t.Filter.MatchScan(req, &s) { ... } }
//
// MatchJSONL matches a stream of JSON lines, each a filter and a payload
// or request, in parallel, answering each line in order (the protocol of
// hooklab match --jsonl, for differential tests and other languages).
//
// The semantics (hooklab's reference, shared/reference/triggerdev-v2.md §5):
// keys of a filter are ANDed; a list of literals is an OR with strict
// typing (30 never equals "30"; numbers compare as float64, as JSON.parse
// reads them); a list of operator objects is an AND; a nested object
// recurses, and over an array in the payload matches when some element
// does, while a literal list never unpacks an array; an empty list always
// passes; a missing key is undefined, which null is not. The thirteen
// operators are $endsWith, $startsWith, $anythingBut (a value or a list),
// $exists, $gt, $lt, $gte, $lte, $between (inclusive), $includes (array
// membership, not substring), $ignoreCaseEquals (ICU "accent"
// sensitivity: case- and width-insensitive, accent-sensitive), $isNull and
// $not. A RequestFilter checks method (as the Fetch Request normalizes
// it), headers (lower-cased names, repeated headers joined with ", "),
// query (URLSearchParams; the last of a repeated name wins) and body
// (parsed as JSON whatever the content type; a body filter never matches a
// body that is not JSON).
//
// Parsing validates like the reference's zod schemas and names the JSON
// path of every problem ("address.city[1]: $between wants [number,
// number], got a list"). Where the reference silently narrows or drops,
// hooklab rejects by default and the Compat option does what the
// reference does: an operator object with several operators (the
// reference keeps one), unknown RequestFilter keys (the reference drops
// them, so the docs' typo "header" filters nothing) and header names that
// are not lower-case (the reference never matches them).
//
// Deliberate differences from the reference, each rare in practice:
//   - Only a JSON value's own properties exist. In JavaScript, a filter key
//     such as "constructor" or "toString" finds an inherited property of
//     every object; here it is undefined. A string's and an array's
//     "length" and indices are reproduced.
//   - A JSON string with a lone surrogate escape ("\ud800") decodes to
//     U+FFFD, as Go strings must be valid text to compare; JavaScript
//     keeps the lone surrogate.
//   - $ignoreCaseEquals uses golang.org/x/text/collate's CLDR root
//     collation. Node's localeCompare uses the process's locale (under a
//     Turkish locale "I" equals "ı") and its own ICU version; hooklab
//     agrees with Node under an English or root locale, which the
//     differential test uses, on every case it generates.
//   - An empty operator object {} is skipped (matches) by the 2.3.19 code;
//     the schema rejects it, and so does hooklab when parsing.
//   - A "__proto__" filter key is dropped by the reference's schema, so
//     such a filter matches everything there; hooklab keeps the key.
//
// Every behaviour is checked against the published package by the
// differential tests in this package (they run Node.js when it and the
// interop packages are installed).
package matcher
