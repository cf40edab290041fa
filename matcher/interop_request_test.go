package matcher_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hooklab/hooklab/matcher"
)

type tdRequestCase struct {
	method  string
	url     string
	headers [][2]string // name, value bytes
	body    []byte      // nil: no body
	filter  []byte
}

func (c tdRequestCase) describe() map[string]any {
	h := make([][2]string, len(c.headers))
	for i, kv := range c.headers {
		h[i] = [2]string{kv[0], strconv.Quote(kv[1])}
	}
	m := map[string]any{"method": c.method, "url": c.url, "headers": h, "filter": json.RawMessage(c.filter)}
	if c.body == nil {
		m["body"] = nil
	} else {
		m["body"] = strconv.Quote(string(c.body))
	}
	return m
}

var (
	tdRequestMethods = []string{
		"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "post", "patch", "get", "Post", "delete",
		"put", "options", "head", "PROPFIND", "Patch", "pOST",
	}
	tdHeaderNames = []string{
		"Content-Type", "content-type", "X-GitHub-Event", "x-github-event", "X-Hub-Signature-256", "User-Agent",
		"Set-Cookie", "set-cookie", "X-Custom", "x-CUSTOM", "Accept",
	}
	tdHeaderValues = []string{
		"application/json", "application/JSON", "push", "Push", "pull_request", "sha256=abc", " padded ",
		"\tx\t", "a, b", "", "GitHub-Hookshot/044aadd", "ä", "\xe4", "\xc3\xa4", "x y", "1", "true",
	}
	tdQueryKeys   = []string{"a", "b", "hub.mode", "q", "A", "a b", "ä", "x[]", ""}
	tdQueryValues = []string{"1", "2", "x y", "subscribe", "Sub", "", "a+b", "=", "é", "100%", "&", "#", "a\tb", "?", "/"}
)

// queryEncode spells s in a query string, randomly: raw, percent-encoded,
// '+' for spaces.
func (g *tdGen) queryEncode(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ':
			b.WriteString(tdPick(g, []string{"+", "%20"}))
		case r == '+' || r == '&' || r == '=' || r == '#' || r == '%':
			fmt.Fprintf(&b, "%%%02X", r)
		case r >= 0x80 && g.p(0.2), r < 0x80 && !g.p(0.1):
			b.WriteRune(r) // raw; the URL parser percent-encodes what it must
		default:
			var buf [utf8.UTFMax]byte
			for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
				if g.p(0.5) {
					fmt.Fprintf(&b, "%%%02X", c)
				} else {
					fmt.Fprintf(&b, "%%%02x", c)
				}
			}
		}
	}
	return b.String()
}

func (g *tdGen) request() (tdRequestCase, map[string]string, map[string]string, tdObj) {
	c := tdRequestCase{method: tdPick(g, tdRequestMethods)}
	// Query.
	var parts []string
	query := map[string]string{} // decoded values, last wins
	for range g.n(5) {
		k, v := tdPick(g, tdQueryKeys), tdPick(g, tdQueryValues)
		if g.p(0.4) {
			v = g.str()
		}
		switch x := g.n(100); {
		case x < 80:
			parts = append(parts, g.queryEncode(k)+"="+g.queryEncode(v))
			query[k] = v
		case x < 85:
			parts = append(parts, g.queryEncode(k))
			query[k] = ""
		case x < 95:
			bad := tdPick(g, []string{"%zz", "%ff", "%", "%2", "%e2%82", "%E2%82%AC", "%C3%A4", "%00", "%fe%ff", "+%2B+"})
			parts = append(parts, g.queryEncode(k)+"="+g.queryEncode(v)+bad)
			query[k] = v + bad
		default:
			parts = append(parts, tdPick(g, []string{"", "&", "=x", ";a=1"}))
		}
	}
	c.url = "http://localhost:3030/api/v1/endpoints/hook"
	if len(parts) > 0 || g.p(0.2) {
		c.url += "?" + strings.Join(parts, "&")
	}
	if g.p(0.05) {
		c.url += "#a=frag"
	}
	// Headers.
	headers := map[string]string{} // lower-case name: a likely Fetch value
	for range g.n(5) {
		name, value := tdPick(g, tdHeaderNames), tdPick(g, tdHeaderValues)
		if g.p(0.2) {
			value = g.str()
			if strings.ContainsAny(value, "\x00\r\n") {
				value = "x"
			}
		}
		c.headers = append(c.headers, [2]string{name, value})
		ln := strings.ToLower(name)
		if old, ok := headers[ln]; ok && ln != "set-cookie" {
			headers[ln] = old + ", " + strings.Trim(value, " \t")
		} else {
			headers[ln] = strings.Trim(value, " \t")
		}
	}
	// Body.
	bodyFilter := g.filter(0, g.p(0.2))
	upper := strings.ToUpper(c.method)
	if upper != "GET" && upper != "HEAD" {
		payload := g.payload(bodyFilter, 0)
		switch x := g.n(100); {
		case x < 40:
			c.body = tdEncodeJSON(payload, g)
		case x < 47:
			c.body = tdEncodeJSON([]any{payload, g.random(1)}, g)
		case x < 53:
			c.body = []byte(tdPick(g, []string{"{", `{'a':1}`, "undefined", "NaN", `{"a":1,}`, "[1,]", `{"a":01}`, "\"\\x\"", "{}}", "nul"}))
		case x < 58:
			c.body = []byte{}
		case x < 63:
			c.body = []byte(tdPick(g, []string{"a=1&b=2", "name=John", "payload=%7B%22a%22%3A1%7D"}))
		case x < 70:
			c.body = append([]byte("\xef\xbb\xbf"), tdEncodeJSON(payload, g)...)
		case x < 72:
			c.body = append([]byte(tdPick(g, []string{"\xef\xbb\xbf\xef\xbb\xbf", "\xff\xfe", "\xfe\xff"})), tdEncodeJSON(payload, nil)...)
		case x < 78:
			o, _ := payload.(tdObj)
			if len(o) > 0 {
				o = append(tdObj{{o[0].k, g.random(1)}}, o...)
			}
			c.body = tdEncodeJSON(o, g)
		case x < 83:
			c.body = tdEncodeJSON(g.scalar(), nil)
		case x < 88:
			c.body = []byte(tdPick(g, []string{" \n\t", "\r\n "}) + string(tdEncodeJSON(payload, nil)) + tdPick(g, []string{"\n", " \t\r\n", ""}))
		case x < 92:
			o, _ := payload.(tdObj)
			o = append(o, tdKV{"name", tdPick(g, []string{"Jo\xffhn", "\xc3", "a\xed\xa0\x80b", "\xf0\x9f\x98"})})
			c.body = tdEncodeJSON(o, nil)
		case x < 96:
			o, _ := payload.(tdObj)
			o = append(o, tdKV{"name", "😀"})
			c.body = tdEncodeJSON(o, g)
		default:
			c.body = []byte(string(tdEncodeJSON(payload, nil)) + tdPick(g, []string{"x", "{}", "\x00", "\u00a0", "\u2028"}))
		}
	} else if g.p(0.5) {
		c.body = nil
	}
	if c.body == nil && upper != "GET" && upper != "HEAD" && g.p(0.5) {
		c.body = []byte{}
	}
	return c, headers, query, bodyFilter
}

// stringMatchFor returns a StringMatch built to collide with value.
func (g *tdGen) stringMatchFor(value string, ok bool) []any {
	if !ok {
		value = g.str()
	}
	switch x := g.n(100); {
	case x < 10:
		return []any{}
	case x < 50:
		l := []any{value}
		if g.p(0.5) {
			l = append(l, g.nearMiss(value))
		}
		if g.p(0.5) {
			l = []any{g.nearMiss(value)}
		}
		return l
	default:
		var l []any
		for range 1 + g.n(2) {
			op := tdPick(g, []string{"$endsWith", "$startsWith", "$ignoreCaseEquals"})
			rs := []rune(value)
			operand := value
			switch {
			case op == "$startsWith" && len(rs) > 1 && g.p(0.5):
				operand = string(rs[:1+g.n(len(rs)-1)])
			case op == "$endsWith" && len(rs) > 1 && g.p(0.5):
				operand = string(rs[g.n(len(rs)):])
			case g.p(0.4):
				operand = g.nearMiss(value)
			}
			l = append(l, tdObj{{op, operand}})
		}
		return l
	}
}

func (g *tdGen) requestFilterFor(c tdRequestCase, headers, query map[string]string, body tdObj) []byte {
	rf := tdObj{}
	if g.p(0.4) {
		l := []any{}
		for range g.n(3) {
			l = append(l, tdPick(g, tdMethods))
		}
		if m := strings.ToUpper(c.method); g.p(0.5) && slices.Contains(tdMethods, m) {
			l = append(l, m)
		}
		rf = append(rf, tdKV{"method", l})
	}
	names := func(m map[string]string, pool []string) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		for range 1 + g.n(2) {
			ks = append(ks, tdPick(g, pool))
		}
		return ks
	}
	if g.p(0.5) {
		hs := tdObj{}
		ks := names(headers, []string{"content-type", "x-github-event", "x-absent", "set-cookie", "user-agent"})
		for range 1 + g.n(3) {
			k := tdPick(g, ks)
			v, ok := headers[k]
			if g.p(0.07) {
				k = tdPick(g, []string{"Content-Type", "X-GitHub-Event", "X-Custom"}) // Compat keeps it; it never matches
			}
			hs = append(hs, tdKV{k, g.stringMatchFor(v, ok)})
		}
		rf = append(rf, tdKV{"headers", hs})
	}
	if g.p(0.5) {
		qs := tdObj{}
		ks := names(query, []string{"a", "hub.mode", "absent"})
		for range 1 + g.n(3) {
			k := tdPick(g, ks)
			v, ok := query[k]
			qs = append(qs, tdKV{k, g.stringMatchFor(v, ok)})
		}
		rf = append(rf, tdKV{"query", qs})
	}
	if g.p(0.6) {
		rf = append(rf, tdKV{"body", body})
	}
	if g.p(0.04) {
		rf = append(rf, tdKV{"header", tdObj{{"x", []any{"y"}}}})
	}
	g.r.Shuffle(len(rf), func(i, j int) { rf[i], rf[j] = rf[j], rf[i] })
	return tdEncodeJSON(rf, nil)
}

func TestTriggerDevRequestFilterDifferential(t *testing.T) {
	dir := tdInteropDir(t)
	seed := tdSeed(t)
	g := newTDGen(seed, 3)
	const generated = 20000
	cases := make([]tdRequestCase, 0, generated+8)
	cases = append(cases, []tdRequestCase{
		{method: "POST", url: "http://localhost/h", filter: []byte(`{}`), body: []byte("x")},
		{method: "post", url: "http://localhost/h", filter: []byte(`{"method":["POST"]}`)},
		{method: "patch", url: "http://localhost/h", filter: []byte(`{"method":["PATCH"]}`)},
		{method: "POST", url: "http://localhost/h?a=1&a=2", filter: []byte(`{"query":{"a":["2"]}}`)},
		{method: "POST", url: "http://localhost/h?a=%zz&b=%ff", filter: []byte(`{"query":{"a":["%zz"],"b":["\ufffd"]}}`)},
		{method: "POST", url: "http://localhost/h?a=x+y", filter: []byte(`{"query":{"a":["x y"]}}`)},
		{method: "POST", url: "http://localhost/h", headers: [][2]string{{"X-A", "1"}, {"x-a", "2"}}, filter: []byte(`{"headers":{"x-a":["1, 2"]}}`)},
		{method: "POST", url: "http://localhost/h", headers: [][2]string{{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}}, filter: []byte(`{"headers":{"set-cookie":["b=2"]}}`)},
		{method: "POST", url: "http://localhost/h", headers: [][2]string{{"X-A", " v "}}, filter: []byte(`{"headers":{"x-a":["v"]}}`)},
		{method: "POST", url: "http://localhost/h", headers: [][2]string{{"X-A", "\xe4"}}, filter: []byte(`{"headers":{"x-a":["ä"]}}`)},
		{method: "POST", url: "http://localhost/h", body: []byte("\xef\xbb\xbf{\"a\":1}"), filter: []byte(`{"body":{"a":[1]}}`)},
		{method: "POST", url: "http://localhost/h", body: []byte(`{"a":1,"a":2}`), filter: []byte(`{"body":{"a":[2]}}`)},
		{method: "POST", url: "http://localhost/h", body: []byte(`{"a\b":"x"}`), filter: []byte(`{"body":{"a\\b":["x"]}}`)}, // the key is "a" U+0008, not a\b
		{method: "POST", url: "http://localhost/h", body: []byte("a=1"), filter: []byte(`{"body":{}}`)},
		{method: "POST", url: "http://localhost/h", body: []byte("a=1"), filter: []byte(`{"method":["POST"]}`)},
		{method: "GET", url: "http://localhost/h", filter: []byte(`{"body":{}}`)},
		{method: "POST", url: "http://localhost/h", body: []byte(`null`), filter: []byte(`{"body":{}}`)},
		{method: "POST", url: "http://localhost/h", body: []byte(`null`), filter: []byte(`{"body":{"a":[{"$exists":false}]}}`)},
	}...)
	explicit := len(cases)
	for range generated {
		c, headers, query, body := g.request()
		c.filter = g.requestFilterFor(c, headers, query, body)
		cases = append(cases, c)
	}

	inputs := make([]any, len(cases))
	for i, c := range cases {
		h := make([][2]string, len(c.headers))
		for j, kv := range c.headers {
			h[j] = [2]string{kv[0], tdLatin1(kv[1])}
		}
		var body *string
		if c.body != nil {
			s := base64.StdEncoding.EncodeToString(c.body)
			body = &s
		}
		inputs[i] = map[string]any{"op": "request", "filter": json.RawMessage(c.filter), "request": map[string]any{
			"method": c.method, "url": c.url, "headers": h, "body_base64": body,
		}}
	}
	start := time.Now()
	outs := tdRunNode(t, dir, inputs)
	t.Logf("node: %d requests in %v", len(outs), time.Since(start).Round(time.Millisecond))

	d := &tdDisagreements{name: "request filters"}
	var compared, matches, harness int
	var mismatches []int
	harnessWhy := map[string]int{}
	for i, c := range cases {
		node := tdDecodeResult(t, outs[i])
		if node.HarnessError != nil {
			harness++
			harnessWhy[*node.HarnessError]++
			if i < explicit {
				t.Errorf("explicit request case %d: harness error %s", i, *node.HarnessError)
			}
			continue
		}
		if node.Throw != nil || node.Match == nil {
			d.add("node-error", tdMerge(c.describe(), map[string]any{"node": json.RawMessage(outs[i])}))
			continue
		}
		want := *node.Match
		var f *matcher.RequestFilter
		var err error
		if msg := tdCatch(func() { f, err = matcher.ParseRequestFilter(c.filter, matcher.Compat()) }); msg != "" || err != nil {
			d.add("parse-rejects-valid", tdMerge(c.describe(), map[string]any{"go_error": fmt.Sprint(msg, err)}))
			continue
		}
		compared++
		if want {
			matches++
		}
		r := matcher.Request{Method: c.method, URL: c.url, Header: tdRequestHeader(c), Body: c.body}
		var got bool
		if msg := tdCatch(func() { got = f.Match(r) }); msg != "" {
			d.add("Match-panic", tdMerge(c.describe(), map[string]any{"panic": msg}))
			continue
		}
		if got != want {
			mismatches = append(mismatches, i)
			continue
		}
		if msg := tdCatch(func() {
			if e := f.Explain(r); (e == nil) != got {
				extra := map[string]any{"match": got, "explain": nil}
				if e != nil {
					extra["explain"] = e.String()
				}
				d.add("Explain-inconsistent", tdMerge(c.describe(), extra))
			}
		}); msg != "" {
			d.add("Explain-panic", tdMerge(c.describe(), map[string]any{"panic": msg}))
		}
	}
	// Split every mismatching filter into one-condition filters and ask both
	// sides again, to name the conditions that disagree.
	culprits := tdRequestCulprits(t, dir, cases, mismatches)
	for k, i := range mismatches {
		kind := "Match"
		if len(culprits[k]) > 0 {
			kind += "/" + culprits[k][0].component
		}
		d.add(kind, tdMerge(cases[i].describe(), map[string]any{
			"node": !tdRequestMatchGo(cases[i], cases[i].filter), "go": tdRequestMatchGo(cases[i], cases[i].filter),
			"culprits": culprits[k],
		}))
	}
	t.Logf("%d requests (%d explicit, %d generated): %d compared (%d matching in Node), %d refused by Fetch (harness errors)",
		len(cases), explicit, generated, compared, matches, harness)
	for why, n := range harnessWhy {
		t.Logf("refused by Fetch %d times: %q", n, why)
	}
	d.report(t, len(cases))
}

func tdRequestHeader(c tdRequestCase) http.Header {
	h := http.Header{}
	for _, kv := range c.headers {
		h.Add(kv[0], kv[1])
	}
	return h
}

// tdRequestMatchGo parses filter in Compat mode and matches c against it;
// it panics if the filter does not parse.
func tdRequestMatchGo(c tdRequestCase, filter []byte) bool {
	f, err := matcher.ParseRequestFilter(filter, matcher.Compat())
	if err != nil {
		panic(err)
	}
	return f.Match(matcher.Request{Method: c.method, URL: c.url, Header: tdRequestHeader(c), Body: c.body})
}

// tdCulprit is a one-condition part of a request filter on which hooklab
// and Node disagree.
type tdCulprit struct {
	component string
	Filter    json.RawMessage `json:"filter"`
	Node      bool            `json:"node"`
	Go        bool            `json:"go"`
}

func (c tdCulprit) MarshalJSON() ([]byte, error) {
	type plain tdCulprit
	return json.Marshal(struct {
		Component string `json:"component"`
		plain
	}{c.component, plain(c)})
}

// tdRequestCulprits splits each mismatching case's filter into one-condition
// filters ({"method":…}, {"headers":{name:…}}, {"query":{key:…}},
// {"body":{key:…}}) and returns, per case, those on which the two sides
// disagree (at most 500 cases are split).
func tdRequestCulprits(t *testing.T, dir string, cases []tdRequestCase, mismatches []int) [][]tdCulprit {
	t.Helper()
	type variant struct {
		k         int
		component string
		filter    []byte
	}
	var variants []variant
	var inputs []any
	for k, i := range mismatches {
		if k == 500 {
			break
		}
		c := cases[i]
		var top map[string]json.RawMessage
		if json.Unmarshal(c.filter, &top) != nil {
			continue
		}
		for _, key := range []string{"method", "headers", "query", "body"} {
			v, ok := top[key]
			if !ok {
				continue
			}
			var sub map[string]json.RawMessage
			if key == "method" || json.Unmarshal(v, &sub) != nil || len(sub) == 0 {
				b, _ := json.Marshal(map[string]json.RawMessage{key: v})
				variants = append(variants, variant{k, key, b})
				continue
			}
			for name, sv := range sub {
				b, _ := json.Marshal(map[string]map[string]json.RawMessage{key: {name: sv}})
				variants = append(variants, variant{k, key, b})
			}
		}
	}
	for _, v := range variants {
		c := cases[mismatches[v.k]]
		h := make([][2]string, len(c.headers))
		for j, kv := range c.headers {
			h[j] = [2]string{kv[0], tdLatin1(kv[1])}
		}
		var body *string
		if c.body != nil {
			s := base64.StdEncoding.EncodeToString(c.body)
			body = &s
		}
		inputs = append(inputs, map[string]any{"op": "request", "filter": json.RawMessage(v.filter), "request": map[string]any{
			"method": c.method, "url": c.url, "headers": h, "body_base64": body,
		}})
	}
	outs := tdRunNode(t, dir, inputs)
	res := make([][]tdCulprit, len(mismatches))
	for j, v := range variants {
		node := tdDecodeResult(t, outs[j])
		if node.Match == nil {
			continue
		}
		var got bool
		if tdCatch(func() { got = tdRequestMatchGo(cases[mismatches[v.k]], v.filter) }) != "" {
			continue
		}
		if got != *node.Match {
			res[v.k] = append(res[v.k], tdCulprit{v.component, v.filter, *node.Match, got})
		}
	}
	return res
}

// tdLatin1 spells a byte string as a JavaScript byte string: one character
// U+0000-U+00FF per byte. Fetch header values are byte strings.
func tdLatin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}
