package conformance

import (
	"net/http"
)

// The Filter cases check trigger filters: a Trigger.dev v2 RequestFilter
// (method, headers, query, body) decides, request by request, which
// triggers get a delivery. Every case gives its endpoint triggers that must
// fire and triggers that must not, so that a receiver that matches too
// much fails as surely as one that matches too little. Each expectation
// is the result of the reference's requestFilterMatches /
// eventFilterMatches (conformance/RULES.md F1–F3), as matcher computes
// it; the strict profile applies these semantics to trigger filters too,
// not the quirks of the v2 dispatcher.
var filterCases = []check{
	def(GroupFilter, "Method",
		"a method filter is a list: a trigger fires for a request whose method is any one in its list and for no other method",
		refTriggerFilter+", F3 (filter.method.includes(request.method))",
		presetSpec(targetPreset,
			trig("all", ""),
			trig("post-or-put", `{"method":["POST","PUT"]}`),
			trig("get", `{"method":["GET"]}`),
			trig("patch-or-delete", `{"method":["PATCH","DELETE"]}`)),
		fltTD(tdNoteGetRuns, []tdRuns{tdVerified("all", "post-or-put"), tdVerified("all", "post-or-put"), tdGetRuns("all")},
			fltProbe{fltWake("all", "post-or-put"), []request{
				fltJSON("POST", `{"action":"opened"}`),
				{Label: "PUT, valid signature", Method: http.MethodPut, Body: []byte(`{"action":"opened"}`)},
			}},
			fltProbe{fltWake("all", "get"), []request{
				{Label: "GET, no body, valid signature", Method: http.MethodGet},
			}},
		)),
	def(GroupFilter, "QueryParameter",
		"a query filter matches the URL's query parameters by name, every named parameter must match, and a request without the parameter does not match",
		refTriggerFilter+", F3 (query from new URL(request.url).searchParams); the strict profile honours it for triggers (v2 dispatchers never match a query filter, conformance/RULES.md T5)",
		presetSpec(targetPreset,
			trig("subscribe", `{"query":{"hub.mode":["subscribe"]}}`),
			trig("unsubscribe", `{"query":{"hub.mode":["unsubscribe"]}}`),
			trig("subscribe-orders", `{"query":{"hub.mode":["subscribe"],"topic":["orders"]}}`),
			trig("other-name", `{"query":{"mode":["subscribe"]}}`)),
		fltTD(tdNoteQuery, []tdRuns{tdVerified(), tdVerified(), tdVerified()},
			fltProbe{fltWake("subscribe"), []request{
				{Label: "?hub.mode=subscribe&topic=refunds", Query: "hub.mode=subscribe&topic=refunds", Body: []byte(`{}`)},
			}},
			fltProbe{fltWake("subscribe", "subscribe-orders"), []request{
				{Label: "?hub.mode=subscribe&topic=orders", Query: "hub.mode=subscribe&topic=orders", Body: []byte(`{}`)},
			}},
			fltProbe{nil, []request{
				{Label: "no query string", Body: []byte(`{}`)},
			}},
		)),
	def(GroupFilter, "QueryValueDecoding",
		"query values are matched decoded, as URLSearchParams reads them: percent-escapes decoded, '+' read as a space, and the last value of a repeated name wins",
		refTriggerFilter+", F3; WHATWG URL Standard, application/x-www-form-urlencoded parsing, https://url.spec.whatwg.org/#application/x-www-form-urlencoded",
		presetSpec(targetPreset,
			trig("last-value", `{"query":{"a":["2"]}}`),
			trig("first-value", `{"query":{"a":["1"]}}`),
			trig("plus-is-space", `{"query":{"q":["hello world"]}}`),
			trig("plus-literal", `{"query":{"q":["hello+world"]}}`),
			trig("percent-decoded", `{"query":{"p":["a/b&c"]}}`),
			trig("percent-raw", `{"query":{"p":["a%2Fb%26c"]}}`)),
		fltTD(tdNoteQuery, []tdRuns{tdVerified()},
			fltProbe{fltWake("last-value", "plus-is-space", "percent-decoded"), []request{
				{Label: "?a=1&a=2&q=hello+world&p=a%2Fb%26c", Query: "a=1&a=2&q=hello+world&p=a%2Fb%26c", Body: []byte(`{}`)},
			}},
		)),
	def(GroupFilter, "QueryOperators",
		"query values take $startsWith and $endsWith (case-sensitive) and $ignoreCaseEquals; a literal value is compared exactly",
		refTriggerFilter+", F3 (StringMatch) and F2",
		presetSpec(targetPreset,
			trig("starts", `{"query":{"ref":[{"$startsWith":"refs/heads/"}]}}`),
			trig("starts-miss", `{"query":{"ref":[{"$startsWith":"refs/tags/"}]}}`),
			trig("ends", `{"query":{"ref":[{"$endsWith":"/main"}]}}`),
			trig("ends-case", `{"query":{"ref":[{"$endsWith":"/MAIN"}]}}`),
			trig("ignore-case", `{"query":{"env":[{"$ignoreCaseEquals":"production"}]}}`),
			trig("exact-case", `{"query":{"env":["production"]}}`)),
		fltTD(tdNoteQuery, []tdRuns{tdVerified()},
			fltProbe{fltWake("starts", "ends", "ignore-case"), []request{
				{Label: "?ref=refs/heads/main&env=Production", Query: "ref=refs/heads/main&env=Production", Body: []byte(`{}`)},
			}},
		)),
	def(GroupFilter, "HeaderNameCaseInsensitive",
		"header names match case-insensitively: a filter on x-github-event matches a request that sends X-GitHub-Event, whatever the spelling on the wire",
		refTriggerFilter+", F3 (Object.fromEntries(request.headers): names lower-cased); Fetch Standard, Headers, https://fetch.spec.whatwg.org/#headers-class",
		presetSpec(targetPreset,
			trig("all", ""),
			trig("issues", `{"headers":{"x-github-event":["issues"]}}`),
			trig("push", `{"headers":{"x-github-event":["push"]}}`)),
		fltProbes(
			fltProbe{fltWake("all", "issues"), []request{
				fltHeader("X-GitHub-Event", "issues", `{"action":"opened"}`),
				fltHeader("x-github-event", "issues", `{"action":"opened"}`),
				fltHeader("X-GITHUB-EVENT", "issues", `{"action":"opened"}`),
			}},
		)),
	def(GroupFilter, "HeaderValueList",
		"a header filter's list of strings is an OR of exact, case-sensitive values",
		refTriggerFilter+", F1 item 3 (string lists: pattern.includes(actual))",
		presetSpec(targetPreset,
			trig("push-or-issues", `{"headers":{"x-github-event":["push","issues"]}}`),
			trig("push-or-release", `{"headers":{"x-github-event":["push","release"]}}`),
			trig("wrong-case", `{"headers":{"x-github-event":["Issues"]}}`),
			trig("other-header", `{"headers":{"x-gitlab-event":["issues"]}}`)),
		fltProbes(
			fltProbe{fltWake("push-or-issues"), []request{
				fltHeader("X-GitHub-Event", "issues", `{"action":"opened"}`),
			}},
		)),
	def(GroupFilter, "HeaderOperators",
		"header values take $startsWith and $endsWith (case-sensitive) and $ignoreCaseEquals; several operators must all hold; an absent header matches none of them",
		refTriggerFilter+", F2 and F3 (StringMatch)",
		presetSpec(targetPreset,
			trig("starts", `{"headers":{"x-shop-domain":[{"$startsWith":"Example."}]}}`),
			trig("starts-case", `{"headers":{"x-shop-domain":[{"$startsWith":"example."}]}}`),
			trig("ends", `{"headers":{"x-shop-domain":[{"$endsWith":".MyShopify.com"}]}}`),
			trig("ends-case", `{"headers":{"x-shop-domain":[{"$endsWith":".myshopify.com"}]}}`),
			trig("ignore-case", `{"headers":{"x-shop-domain":[{"$ignoreCaseEquals":"example.myshopify.com"}]}}`),
			trig("ignore-case-miss", `{"headers":{"x-shop-domain":[{"$ignoreCaseEquals":"example.shopify.com"}]}}`),
			trig("both", `{"headers":{"x-shop-domain":[{"$startsWith":"Example."},{"$endsWith":".com"}]}}`),
			trig("both-miss", `{"headers":{"x-shop-domain":[{"$startsWith":"Example."},{"$endsWith":".org"}]}}`),
			trig("absent", `{"headers":{"x-shop-id":[{"$startsWith":""}]}}`)),
		fltProbes(
			fltProbe{fltWake("starts", "ends", "ignore-case", "both"), []request{
				fltHeader("X-Shop-Domain", "Example.MyShopify.com", `{"id":1}`),
			}},
		)),
	def(GroupFilter, "HeaderRepeated",
		`a header sent twice is matched as its values joined with ", ", not as either value alone`,
		refTriggerFilter+", F3 (duplicates joined with \", \"); Fetch Standard, combine a header value, https://fetch.spec.whatwg.org/#concept-header-list-combine",
		presetSpec(targetPreset,
			trig("joined", `{"headers":{"x-tag":["a, b"]}}`),
			trig("joined-prefix", `{"headers":{"x-tag":[{"$startsWith":"a, "}]}}`),
			trig("first", `{"headers":{"x-tag":["a"]}}`),
			trig("last", `{"headers":{"x-tag":["b"]}}`)),
		fltProbes(
			fltProbe{fltWake("joined", "joined-prefix"), []request{
				{Label: "X-Tag: a and X-Tag: b", Header: http.Header{"X-Tag": {"a", "b"}}, Body: []byte(`{}`)},
			}},
		)),
	def(GroupFilter, "BodyStringList",
		"a body key with a list of strings matches when the value is exactly, case-sensitively, one of them (OR)",
		refTriggerFilter+", F1 item 3, the v2 unit tests",
		presetSpec(targetPreset,
			trig("closed-or-opened", `{"body":{"action":["closed","opened"]}}`),
			trig("opened", `{"body":{"action":["opened"]}}`),
			trig("closed-or-reopened", `{"body":{"action":["closed","reopened"]}}`),
			trig("wrong-case", `{"body":{"action":["Opened"]}}`),
			trig("prefix-only", `{"body":{"action":["open"]}}`)),
		fltProbes(
			fltProbe{fltWake("closed-or-opened", "opened"), []request{
				fltJSON("POST", `{"action":"opened","number":1}`),
			}},
		)),
	def(GroupFilter, "BodyNumber",
		"a list of numbers matches a JSON number equal to one of them; a number never equals a string",
		refTriggerFilter+", F1 item 3, the v2 unit tests, v2 results ({a:1} vs [\"1\"])",
		presetSpec(targetPreset,
			trig("thirty", `{"body":{"n":[30]}}`),
			trig("one-or-thirty", `{"body":{"n":[1,30]}}`),
			trig("fraction", `{"body":{"f":[2.5]}}`),
			trig("number-as-string", `{"body":{"n":["30"]}}`),
			trig("string-as-number", `{"body":{"s":[30]}}`),
			trig("neighbours", `{"body":{"n":[29,31]}}`)),
		fltProbes(
			fltProbe{fltWake("thirty", "one-or-thirty", "fraction"), []request{
				fltJSON("POST", `{"n":30,"s":"30","f":2.5}`),
			}},
		)),
	def(GroupFilter, "BodyBoolean",
		"a list of booleans matches a JSON boolean equal to one of them; the string \"false\" and the number 1 are not booleans",
		refTriggerFilter+", F1 item 3, the v2 unit tests",
		presetSpec(targetPreset,
			trig("draft-false", `{"body":{"draft":[false]}}`),
			trig("merged-true", `{"body":{"merged":[true]}}`),
			trig("draft-true", `{"body":{"draft":[true]}}`),
			trig("draft-string", `{"body":{"draft":["false"]}}`),
			trig("merged-number", `{"body":{"merged":[1]}}`)),
		fltProbes(
			fltProbe{fltWake("draft-false", "merged-true"), []request{
				fltJSON("POST", `{"draft":false,"merged":true}`),
			}},
		)),
	def(GroupFilter, "BodyStartsWith",
		"$startsWith matches a string value with that prefix, case-sensitively, and never a non-string",
		refTriggerFilter+", F2 ($startsWith), the v2 unit tests",
		presetSpec(targetPreset,
			trig("heads", `{"body":{"ref":[{"$startsWith":"refs/heads/"}]}}`),
			trig("whole", `{"body":{"ref":[{"$startsWith":"refs/heads/main"}]}}`),
			trig("tags", `{"body":{"ref":[{"$startsWith":"refs/tags/"}]}}`),
			trig("wrong-case", `{"body":{"ref":[{"$startsWith":"Refs/"}]}}`),
			trig("on-number", `{"body":{"n":[{"$startsWith":"5"}]}}`),
			trig("on-missing", `{"body":{"missing":[{"$startsWith":""}]}}`)),
		fltProbes(
			fltProbe{fltWake("heads", "whole"), []request{
				fltJSON("POST", `{"ref":"refs/heads/main","n":5}`),
			}},
		)),
	def(GroupFilter, "BodyEndsWith",
		"$endsWith matches a string value with that suffix, case-sensitively, and never a missing key",
		refTriggerFilter+", F2 ($endsWith), the v2 unit tests",
		presetSpec(targetPreset,
			trig("main", `{"body":{"ref":[{"$endsWith":"/main"}]}}`),
			trig("whole", `{"body":{"ref":[{"$endsWith":"refs/heads/main"}]}}`),
			trig("wrong-case", `{"body":{"ref":[{"$endsWith":"/Main"}]}}`),
			trig("dev", `{"body":{"ref":[{"$endsWith":"/dev"}]}}`),
			trig("on-missing", `{"body":{"missing":[{"$endsWith":""}]}}`)),
		fltProbes(
			fltProbe{fltWake("main", "whole"), []request{
				fltJSON("POST", `{"ref":"refs/heads/main"}`),
			}},
		)),
	def(GroupFilter, "BodyIgnoreCaseEquals",
		"$ignoreCaseEquals ignores case but not accents: HELLO equals hello and Zürich equals ZÜRICH, but Zürich is not ZURICH",
		refTriggerFilter+", F2 ($ignoreCaseEquals: localeCompare, sensitivity \"accent\"), v2 results",
		presetSpec(targetPreset,
			trig("hello", `{"body":{"name":[{"$ignoreCaseEquals":"hello"}]}}`),
			trig("hello-bang", `{"body":{"name":[{"$ignoreCaseEquals":"hello!"}]}}`),
			trig("upper-umlaut", `{"body":{"city":[{"$ignoreCaseEquals":"ZÜRICH"}]}}`),
			trig("no-umlaut", `{"body":{"city":[{"$ignoreCaseEquals":"ZURICH"}]}}`),
			trig("on-number", `{"body":{"n":[{"$ignoreCaseEquals":"1"}]}}`)),
		fltProbes(
			fltProbe{fltWake("hello", "upper-umlaut"), []request{
				fltJSON("POST", `{"name":"HELLO","city":"Zürich","n":1}`),
			}},
		)),
	def(GroupFilter, "BodyExists",
		"$exists: true matches a present key, null included, and not a missing one; $exists: false the reverse",
		refTriggerFilter+", F2 ($exists), the v2 unit tests, v2 results",
		presetSpec(targetPreset,
			trig("present", `{"body":{"a":[{"$exists":true}]}}`),
			trig("null-exists", `{"body":{"n":[{"$exists":true}]}}`),
			trig("missing-absent", `{"body":{"missing":[{"$exists":false}]}}`),
			trig("missing-exists", `{"body":{"missing":[{"$exists":true}]}}`),
			trig("present-absent", `{"body":{"a":[{"$exists":false}]}}`),
			trig("null-absent", `{"body":{"n":[{"$exists":false}]}}`)),
		fltProbes(
			fltProbe{fltWake("present", "null-exists", "missing-absent"), []request{
				fltJSON("POST", `{"a":1,"n":null}`),
			}},
		)),
	def(GroupFilter, "BodyIsNull",
		"$isNull: true matches only a JSON null (a missing key is not null); $isNull: false matches anything else, a missing key included",
		refTriggerFilter+", F2 ($isNull), the v2 unit tests, v2 results",
		presetSpec(targetPreset,
			trig("null-is-null", `{"body":{"n":[{"$isNull":true}]}}`),
			trig("value-not-null", `{"body":{"a":[{"$isNull":false}]}}`),
			trig("missing-not-null", `{"body":{"missing":[{"$isNull":false}]}}`),
			trig("value-is-null", `{"body":{"a":[{"$isNull":true}]}}`),
			trig("missing-is-null", `{"body":{"missing":[{"$isNull":true}]}}`),
			trig("null-not-null", `{"body":{"n":[{"$isNull":false}]}}`)),
		fltProbes(
			fltProbe{fltWake("null-is-null", "value-not-null", "missing-not-null"), []request{
				fltJSON("POST", `{"a":1,"n":null}`),
			}},
		)),
	def(GroupFilter, "BodyAnythingBut",
		"$anythingBut matches every value except the one given (or any in the list given), with no type coercion, and matches a missing key",
		refTriggerFilter+", F2 ($anythingBut), the v2 unit tests, v2 results",
		presetSpec(targetPreset,
			trig("not-closed", `{"body":{"state":[{"$anythingBut":"closed"}]}}`),
			trig("not-in-list", `{"body":{"state":[{"$anythingBut":["closed","merged"]}]}}`),
			trig("missing", `{"body":{"missing":[{"$anythingBut":"x"}]}}`),
			trig("number-vs-string", `{"body":{"n":[{"$anythingBut":"1"}]}}`),
			trig("not-open", `{"body":{"state":[{"$anythingBut":"open"}]}}`),
			trig("in-list", `{"body":{"state":[{"$anythingBut":["closed","open"]}]}}`),
			trig("not-one", `{"body":{"n":[{"$anythingBut":1}]}}`)),
		fltProbes(
			fltProbe{fltWake("not-closed", "not-in-list", "missing", "number-vs-string"), []request{
				fltJSON("POST", `{"state":"open","n":1}`),
			}},
		)),
	def(GroupFilter, "BodyGreaterLess",
		"$gt, $gte, $lt and $lte compare JSON numbers, strictly or inclusively as named; a numeric string or a missing key never matches",
		refTriggerFilter+", F2 ($gt, $lt, $gte, $lte), the v2 unit tests, v2 results ({a:\"50\"} vs $gt)",
		presetSpec(targetPreset,
			trig("gt-9", `{"body":{"n":[{"$gt":9}]}}`),
			trig("gte-10", `{"body":{"n":[{"$gte":10}]}}`),
			trig("lt-11", `{"body":{"n":[{"$lt":11}]}}`),
			trig("lte-10", `{"body":{"n":[{"$lte":10}]}}`),
			trig("gt-10", `{"body":{"n":[{"$gt":10}]}}`),
			trig("gte-11", `{"body":{"n":[{"$gte":11}]}}`),
			trig("lt-10", `{"body":{"n":[{"$lt":10}]}}`),
			trig("lte-9", `{"body":{"n":[{"$lte":9}]}}`),
			trig("string-gt", `{"body":{"s":[{"$gt":1}]}}`),
			trig("missing-gt", `{"body":{"missing":[{"$gt":0}]}}`)),
		fltProbes(
			fltProbe{fltWake("gt-9", "gte-10", "lt-11", "lte-10"), []request{
				fltJSON("POST", `{"n":10,"s":"50"}`),
			}},
		)),
	def(GroupFilter, "BodyBetween",
		"$between [lo, hi] matches a JSON number with lo <= n <= hi, both ends inclusive; a reversed range and a numeric string never match",
		refTriggerFilter+", F2 ($between), the v2 unit tests, v2 results",
		presetSpec(targetPreset,
			trig("upper-end", `{"body":{"n":[{"$between":[1,10]}]}}`),
			trig("lower-end", `{"body":{"n":[{"$between":[10,20]}]}}`),
			trig("above", `{"body":{"n":[{"$between":[11,20]}]}}`),
			trig("below", `{"body":{"n":[{"$between":[0,9.5]}]}}`),
			trig("reversed", `{"body":{"n":[{"$between":[20,1]}]}}`),
			trig("string", `{"body":{"s":[{"$between":[1,20]}]}}`)),
		fltProbes(
			fltProbe{fltWake("upper-end", "lower-end"), []request{
				fltJSON("POST", `{"n":10,"s":"10"}`),
			}},
		)),
	def(GroupFilter, "BodyIncludes",
		"$includes matches an array holding that exact value (no type coercion); on a string it is not a substring test",
		refTriggerFilter+", F2 ($includes), the v2 unit tests, v2 results ({a:\"abc\"} vs $includes \"a\")",
		presetSpec(targetPreset,
			trig("bug", `{"body":{"labels":[{"$includes":"bug"}]}}`),
			trig("two", `{"body":{"nums":[{"$includes":2}]}}`),
			trig("feature", `{"body":{"labels":[{"$includes":"feature"}]}}`),
			trig("two-as-string", `{"body":{"nums":[{"$includes":"2"}]}}`),
			trig("substring", `{"body":{"title":[{"$includes":"bug"}]}}`)),
		fltProbes(
			fltProbe{fltWake("bug", "two"), []request{
				fltJSON("POST", `{"labels":["bug","p1"],"nums":[1,2],"title":"bug report"}`),
			}},
		)),
	def(GroupFilter, "BodyNot",
		"$not matches an array that lacks the value and a string, number or boolean that differs from it; null and a missing key never match",
		refTriggerFilter+", F2 ($not), the v2 unit tests, v2 results",
		presetSpec(targetPreset,
			trig("array-lacks", `{"body":{"labels":[{"$not":"feature"}]}}`),
			trig("number-differs", `{"body":{"n":[{"$not":2}]}}`),
			trig("string-differs", `{"body":{"s":[{"$not":"y"}]}}`),
			trig("bool-differs", `{"body":{"b":[{"$not":false}]}}`),
			trig("array-has", `{"body":{"labels":[{"$not":"bug"}]}}`),
			trig("number-same", `{"body":{"n":[{"$not":1}]}}`),
			trig("on-null", `{"body":{"nul":[{"$not":"x"}]}}`),
			trig("on-missing", `{"body":{"missing":[{"$not":"x"}]}}`)),
		fltProbes(
			fltProbe{fltWake("array-lacks", "number-differs", "string-differs", "bool-differs"), []request{
				fltJSON("POST", `{"labels":["bug"],"n":1,"s":"x","b":true,"nul":null}`),
			}},
		)),
	def(GroupFilter, "BodyNestedObject",
		"a nested filter object matches the object at that key, key by key at any depth; a nested filter on a missing key matches only when it is empty",
		refTriggerFilter+", F1 item 4, the v2 unit tests, v2 results ({} vs {a:{b:[\"x\"]}} and {a:{}})",
		presetSpec(targetPreset,
			trig("base-main", `{"body":{"pull_request":{"base":{"ref":["main"]}}}}`),
			trig("two-levels", `{"body":{"pull_request":{"merged":[true],"base":{"ref":[{"$startsWith":"ma"}]}}}}`),
			trig("empty-on-missing", `{"body":{"issue":{}}}`),
			trig("base-dev", `{"body":{"pull_request":{"base":{"ref":["dev"]}}}}`),
			trig("missing-path", `{"body":{"pull_request":{"head":{"ref":["main"]}}}}`),
			trig("flattened", `{"body":{"ref":["main"]}}`)),
		fltProbes(
			fltProbe{fltWake("base-main", "two-levels", "empty-on-missing"), []request{
				fltJSON("POST", `{"pull_request":{"base":{"ref":"main"},"merged":true}}`),
			}},
		)),
	def(GroupFilter, "BodyArrayOfObjects",
		"a nested filter on an array of objects matches when some one element matches all of it; an empty array matches no nested filter, not even {}",
		refTriggerFilter+", F1 item 4 ([].some), v2 results ({a:[{b:\"x\"},{b:\"y\"}]} vs {a:{b:[\"y\"]}}, {a:[]} vs {a:{}})",
		presetSpec(targetPreset,
			trig("some-id", `{"body":{"commits":{"id":["b"]}}}`),
			trig("same-element", `{"body":{"commits":{"id":["a"],"added":[{"$includes":"x.go"}]}}}`),
			trig("no-such-id", `{"body":{"commits":{"id":["c"]}}}`),
			trig("split-elements", `{"body":{"commits":{"id":["b"],"added":[{"$includes":"x.go"}]}}}`),
			trig("empty-array", `{"body":{"empty":{}}}`)),
		fltProbes(
			fltProbe{fltWake("some-id", "same-element"), []request{
				fltJSON("POST", `{"commits":[{"id":"a","added":["x.go"]},{"id":"b","added":[]}],"empty":[]}`),
			}},
		)),
	def(GroupFilter, "BodyLiteralAgainstArray",
		"a list of literals is compared with the value itself and is not unpacked against an array value: [\"bug\"] does not match [\"bug\",\"p1\"]; $includes does",
		refTriggerFilter+", F1 item 3 (a payload array is not unpacked), v2 results ({a:[\"x\",\"y\"]} vs {a:[\"x\"]}, {a:[1,2]} vs {a:[1]})",
		presetSpec(targetPreset,
			trig("includes", `{"body":{"labels":[{"$includes":"bug"}]}}`),
			trig("number-includes", `{"body":{"nums":[{"$includes":1}]}}`),
			trig("literal", `{"body":{"labels":["bug"]}}`),
			trig("literal-both", `{"body":{"labels":["bug","p1"]}}`),
			trig("number-literal", `{"body":{"nums":[1]}}`)),
		fltProbes(
			fltProbe{fltWake("includes", "number-includes"), []request{
				fltJSON("POST", `{"labels":["bug","p1"],"nums":[1,2]}`),
			}},
		)),
	def(GroupFilter, "BodyMissingKey",
		"a filter key the body lacks fails a literal list and a non-empty nested filter; an empty list [] is skipped and matches",
		refTriggerFilter+", F1 items 3 and 4, v2 results ({} vs {a:[]})",
		presetSpec(targetPreset,
			trig("empty-list", `{"body":{"missing":[]}}`),
			trig("empty-list-present", `{"body":{"a":[]}}`),
			trig("literal", `{"body":{"missing":["x"]}}`),
			trig("nested", `{"body":{"missing":{"b":["x"]}}}`),
			trig("present-and-missing", `{"body":{"a":["x"],"missing":["x"]}}`)),
		fltProbes(
			fltProbe{fltWake("empty-list", "empty-list-present"), []request{
				fltJSON("POST", `{"a":"x"}`),
			}},
		)),
	def(GroupFilter, "BodyOperatorListIsAnd",
		"a list of operator objects is an AND (every operator must hold), while a list of literals is an OR",
		refTriggerFilter+", F1 item 3 (contentFiltersMatches), the v2 unit tests",
		presetSpec(targetPreset,
			trig("both-hold", `{"body":{"name":[{"$startsWith":"Jo"},{"$endsWith":"hn"}]}}`),
			trig("literal-or", `{"body":{"name":["Jane","John"]}}`),
			trig("first-fails", `{"body":{"name":[{"$startsWith":"Ja"},{"$endsWith":"hn"}]}}`),
			trig("second-fails", `{"body":{"name":[{"$startsWith":"Jo"},{"$endsWith":"xx"}]}}`)),
		fltProbes(
			fltProbe{fltWake("both-hold", "literal-or"), []request{
				fltJSON("POST", `{"name":"John"}`),
			}},
		)),
	def(GroupFilter, "AllPartsAnded",
		"method, headers, query and body, and every key inside each, must all match: one failing part or key stops the trigger",
		refTriggerFilter+", F3 (an AND of the checks), F1 item 2 (AND across keys)",
		presetSpec(targetPreset,
			trig("all-parts", `{"method":["POST"],"headers":{"x-github-event":["issues"]},"query":{"mode":["live"]},"body":{"action":["opened"],"n":[3]}}`),
			trig("two-body-keys", `{"body":{"action":["opened"],"n":[3]}}`),
			trig("wrong-method", `{"method":["PUT"],"headers":{"x-github-event":["issues"]},"query":{"mode":["live"]},"body":{"action":["opened"]}}`),
			trig("wrong-header", `{"method":["POST"],"headers":{"x-github-event":["push"]},"query":{"mode":["live"]},"body":{"action":["opened"]}}`),
			trig("wrong-query", `{"method":["POST"],"headers":{"x-github-event":["issues"]},"query":{"mode":["test"]},"body":{"action":["opened"]}}`),
			trig("wrong-body", `{"method":["POST"],"headers":{"x-github-event":["issues"]},"query":{"mode":["live"]},"body":{"action":["closed"]}}`),
			trig("one-body-key-wrong", `{"body":{"action":["opened"],"n":[4]}}`),
			trig("one-header-wrong", `{"headers":{"x-github-event":["issues"],"x-github-hook-id":["1"]}}`)),
		fltTD(tdNoteQuery, []tdRuns{tdVerified("two-body-keys")},
			fltProbe{fltWake("all-parts", "two-body-keys"), []request{
				{Label: "POST ?mode=live, X-GitHub-Event: issues, X-GitHub-Hook-Id: 2", Query: "mode=live",
					Header: http.Header{"X-GitHub-Event": {"issues"}, "X-GitHub-Hook-Id": {"2"}},
					Body:   []byte(`{"action":"opened","n":3}`)},
			}},
		)),
	def(GroupFilter, "NonJSONBody",
		"a body that is not JSON (form-encoded) fails every body filter, even {}, while filters on method and headers still match it",
		refTriggerFilter+", F3 (request.json() fails: false when filter.body is set); the strict profile does not copy the v2 dispatcher's non-JSON quirk (conformance/RULES.md T5)",
		presetSpec(targetPreset,
			trig("all", ""),
			trig("method", `{"method":["POST"]}`),
			trig("content-type", `{"headers":{"content-type":[{"$startsWith":"application/x-www-form-urlencoded"}]}}`),
			trig("body-field", `{"body":{"action":["opened"]}}`),
			trig("body-empty", `{"body":{}}`),
			trig("method-and-body", `{"method":["POST"],"body":{}}`)),
		fltTD(tdNoteNotJSON, []tdRuns{tdVerified("all")},
			fltProbe{fltWake("all", "method", "content-type"), []request{
				{Label: "form-encoded body action=opened&n=1", ContentType: "application/x-www-form-urlencoded", Body: []byte("action=opened&n=1")},
			}},
		)),
	def(GroupFilter, "EmptyFilter",
		"a trigger with no filter, with {}, or with empty headers and query records fires for every request, whatever its method or body; an empty method list matches no request",
		refTriggerFilter+", F3 (the empty filter {} matches every request; filter.method.includes)",
		presetSpec(targetPreset,
			trig("none", ""),
			trig("empty-object", `{}`),
			trig("empty-records", `{"headers":{},"query":{}}`),
			trig("empty-method-list", `{"method":[]}`)),
		fltTD(tdNoteNotJSON+"; "+tdNoteGetRuns+"; and an empty list in a filter matches anything, an empty method list included (conformance/RULES.md F1 item 3)",
			[]tdRuns{tdVerified("none", "empty-object", "empty-records", "empty-method-list"), tdGetRuns("none", "empty-object"), tdVerified("none", "empty-object")},
			fltProbe{fltWake("none", "empty-object", "empty-records"), []request{
				fltJSON("POST", `{"action":"opened"}`),
				{Label: "GET ?a=1, no body", Method: http.MethodGet, Query: "a=1"},
				{Label: "PUT, form-encoded body", Method: http.MethodPut, ContentType: "application/x-www-form-urlencoded", Body: []byte("a=1")},
			}},
		)),
}

// fltProbe is a set of requests that must each be accepted (2xx) and wake
// exactly the triggers in want, once each (nil: none).
type fltProbe struct {
	want map[string]int
	reqs []request
}

// fltProbes returns a case body that sends every probe's requests, checks
// the answers, then checks each probe's deliveries with one WantDeliveries
// call per probe.
func fltProbes(ps ...fltProbe) func(x *exchange) {
	return func(x *exchange) {
		sent := make([][]*response, len(ps))
		for i, p := range ps {
			for _, r := range p.reqs {
				resp := x.Send(r)
				x.WantAccepted(resp)
				sent[i] = append(sent[i], resp)
			}
		}
		for i, p := range ps {
			x.WantDeliveries(p.want, sent[i]...)
		}
	}
}

// fltWake is the expectation that each named trigger fires once.
func fltWake(ids ...string) map[string]int {
	m := make(map[string]int, len(ids))
	for _, id := range ids {
		m[id] = 1
	}
	return m
}

// fltJSON is a signed request with a JSON body.
func fltJSON(method, body string) request {
	return request{Label: method + " " + body + ", valid signature", Method: method, Body: []byte(body)}
}

// fltHeader is a signed POST with a JSON body and one extra header, whose
// name is sent exactly as spelt (not canonicalised).
func fltHeader(name, value, body string) request {
	return request{Label: name + ": " + value + ", valid signature", Header: http.Header{name: {value}}, Body: []byte(body)}
}

// Body filters and the content type: the strict profile reads the body as
// JSON whatever the content type says.
// noContentType removes the request's Content-Type after signing.
func noContentType(r *http.Request) { r.Header.Del("Content-Type") }

var filterBodyCases = []check{
	def(GroupFilter, "BodyWithoutContentType",
		"a body filter is evaluated on a JSON body sent without a Content-Type header: the body is parsed as JSON whatever the content type says",
		refTriggerFilter+", F3 (request.json() ignores the content type); Trigger.dev v2 dispatchers instead need a JSON content type (conformance/RULES.md T5), which loses deliveries",
		presetSpec(targetPreset,
			trig("opened", `{"body":{"action":["opened"]}}`),
			trig("closed", `{"body":{"action":["closed"]}}`),
			trig("post", `{"method":["POST"]}`)),
		fltTD(tdNoteNotJSON, []tdRuns{tdVerified()},
			fltProbe{fltWake("opened", "post"), []request{
				{Label: `{"action":"opened"} with no Content-Type, valid signature`, Body: []byte(`{"action":"opened"}`), After: noContentType},
			}},
		)),
	def(GroupFilter, "BodyContentTypeCase",
		"a body filter is evaluated on a JSON body whatever the case or variant of its media type (Application/JSON, application/vnd.api+json, text/plain)",
		refTriggerFilter+"; RFC 9110 §8.3.1 (media types are case-insensitive), https://www.rfc-editor.org/rfc/rfc9110#section-8.3.1; Trigger.dev v2 dispatchers compare \"application/json\" case-sensitively (conformance/RULES.md T5)",
		presetSpec(targetPreset,
			trig("opened", `{"body":{"action":["opened"]}}`),
			trig("closed", `{"body":{"action":["closed"]}}`)),
		fltTD(tdNoteNotJSON, []tdRuns{tdVerified(), tdVerified(), tdVerified()},
			fltProbe{fltWake("opened"), []request{
				{Label: "Content-Type: Application/JSON", ContentType: "Application/JSON", Body: []byte(`{"action":"opened"}`)},
				{Label: "Content-Type: application/vnd.api+json", ContentType: "application/vnd.api+json", Body: []byte(`{"action":"opened"}`)},
				{Label: "Content-Type: text/plain", ContentType: "text/plain", Body: []byte(`{"action":"opened"}`)},
			}},
		)),
}
