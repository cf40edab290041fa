package specdoc_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/internal/specdoc"
)

// TestDecodeConvertsYAMLToJSON checks the conversion of each kind of YAML
// value, aliases included, and that JSON comes back as given.
func TestDecodeConvertsYAMLToJSON(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"scalars", "s: text\nq: \"1\"\ni: 12\nf: 1.5\nb: true\nn: null\ne: ~\n", `{"s":"text","q":"1","i":12,"f":1.5,"b":true,"n":null,"e":null}`},
		{"YAML-only numbers", "hex: 0x1F\ninf: 1e3\n", `{"hex":31,"inf":1e3}`},
		{"YAML-only booleans", "a: True\nb: FALSE\n", `{"a":true,"b":false}`},
		{"nested", "a:\n  - {b: [1, 2]}\n  - c\n", `{"a":[{"b":[1,2]},"c"]}`},
		{"aliases", "a: &x {k: [v]}\nb: *x\nc: [*x, *x]\n", `{"a":{"k":["v"]},"b":{"k":["v"]},"c":[{"k":["v"]},{"k":["v"]}]}`},
		{"key order kept", "z: 1\na: 2\n", `{"z":1,"a":2}`},
		{"escapes", "s: \"tab\\there \\\"q\\\" \\u00e9\"\n", `{"s":"tab\there \"q\" é"}`},
		{"top-level list", "- 1\n- two\n", `[1,"two"]`},
		{"empty", "# nothing\n", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := specdoc.Decode([]byte(tt.yaml), true)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(doc.JSON))
		})
	}
	js := []byte(" {\"a\": [1, {\"b\": null}]}\n")
	doc, err := specdoc.Decode(js, false)
	require.NoError(t, err)
	assert.Equal(t, js, doc.JSON, "Decode(JSON).JSON, want the input as given")
}

// TestDecodeErrors checks every bound and rule, in JSON and YAML alike:
// the error's line and path, and why.
func TestDecodeErrors(t *testing.T) {
	deep := func(open, close string, n int) string { return strings.Repeat(open, n) + strings.Repeat(close, n) }
	big := strings.Repeat("x", specdoc.MaxAliasBytes/4)
	tests := []struct {
		name string
		yaml bool
		data string
		want string
	}{
		{"JSON too large", false, `"` + strings.Repeat("x", specdoc.MaxBytes) + `"`, "the document has more than 1048576 bytes"},
		{"YAML too large", true, strings.Repeat("# comment\n", specdoc.MaxBytes/10+1), "the document has more than 1048576 bytes"},
		{"JSON syntax", false, "{\n\"a\": 1,\n}", "line 3: invalid character '}' looking for beginning of object key string"},
		{"YAML syntax", true, "a: [1, 2\nb: 3\n", "line 1: did not find expected ',' or ']'"},
		{"second YAML document", true, "a: 1\n---\nb: 2\n", "line 2: a second YAML document: want everything in one document"},
		{"JSON duplicate key", false, "{\"a\": 1,\n\"b\": {\"c\": 1,\n \"c\": 2}}", "line 3: b.c: duplicate key (first at line 2)"},
		{"JSON duplicate key in a list", false, `[{"a": 1}, {"a": 1, "a": 2}]`, "line 1: [1].a: duplicate key (first at line 1)"},
		{"JSON duplicate escaped key", false, `{"\u0061": 1, "a": 2}`, "line 1: a: duplicate key (first at line 1)"},
		{"YAML duplicate key", true, "a: 1\nb:\n  c: 1\n  c: 2\n", "line 4: b.c: duplicate key (first at line 3)"},
		{"YAML duplicate key through an alias", true, "x: &m {k: 1}\ny: [*m, {k: 1, k: 2}]\n", "line 2: y[1].k: duplicate key (first at line 2)"},
		{"YAML non-scalar key", true, "? [a]\n: 1\n", "line 1: a mapping key must be a scalar"},
		{"JSON nested 65 deep", false, deep("[", "]", 65), "line 1: " + strings.Repeat("[0]", 64) + ": nested deeper than 64 levels"},
		{"YAML nested 65 deep", true, deep("[", "]", 65), "line 1: " + strings.Repeat("[0]", 64) + ": nested deeper than 64 levels"},
		{"YAML nested deep through aliases", true, "a: &a " + deep("[", "]", 40) + "\nb: " + deep("[", "]", 30)[:30] + "*a" + deep("[", "]", 30)[30:] + "\n",
			// The line is the anchor's, where the too deep list is.
			"line 1: b" + strings.Repeat("[0]", 30) + strings.Repeat("[0]", 33) + ": nested deeper than 64 levels"},
		{"alias inside its anchor", true, "a: &a [1, {b: *a}]\n", "line 1: a[1].b: alias *a contains itself"},
		{"alias past the budget", true, "a: &a " + big + "\nb: [*a, *a, *a, *a, *a]\n",
			"line 2: b[3]: YAML aliases expand past 1048576 bytes (alias *a, anchored at line 1); write the value out or use fewer aliases"},
		{"nested aliases past the budget", true, laughs(6),
			"line 5: x4[0]: YAML aliases expand past 1048576 bytes (alias *a3, anchored at line 4); write the value out or use fewer aliases"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := specdoc.Decode([]byte(tt.data), tt.yaml)
			require.Error(t, err, "Decode = %q, want an error", doc)
			assert.Equal(t, tt.want, err.Error())
			var de *specdoc.Error
			assert.True(t, errors.As(err, &de), "errors.As(%T, *specdoc.Error) = false", err)
		})
	}
}

// laughs is the "billion laughs": a 1 KB string, then levels of lists of
// nine aliases of the level below.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("s: &a0 " + strings.Repeat("lol", 340) + "\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [", i, i)
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// TestDecodeAliasBudgetIsInclusive checks the edge of the alias budget:
// aliases adding exactly MaxAliasBytes are accepted, one more byte is not.
func TestDecodeAliasBudgetIsInclusive(t *testing.T) {
	// Each use of *a adds the JSON string: the value and two quotes.
	value := func(n int) string { return strings.Repeat("y", n-2) }
	exact := "a: &a " + value(specdoc.MaxAliasBytes/2) + "\nb: [*a, *a]\n"
	_, err := specdoc.Decode([]byte(exact), true)
	assert.NoError(t, err, "aliases adding exactly %d bytes", specdoc.MaxAliasBytes)
	over := "a: &a " + value(specdoc.MaxAliasBytes/2) + "\nb: [*a, *a, z]\nc: *a\n"
	_, err = specdoc.Decode([]byte(over), true)
	assert.Error(t, err, "aliases adding more than %d bytes", specdoc.MaxAliasBytes)
	deepest := strings.Repeat("[", specdoc.MaxDepth) + strings.Repeat("]", specdoc.MaxDepth)
	for _, isYAML := range []bool{false, true} {
		_, err = specdoc.Decode([]byte(deepest), isYAML)
		assert.NoError(t, err, "lists nested exactly %d deep (YAML %t)", specdoc.MaxDepth, isYAML)
	}
}

// TestDocLine checks that Line finds the line of a path, or of the
// deepest part of it that exists, through aliases too.
func TestDocLine(t *testing.T) {
	y := "# head\nendpoints:\n  - id: a\n    triggers:\n      - id: t\n        filter: &f\n          method: [POST]\n  - id: b\n    filter: *f\n"
	j := "\n{\"endpoints\": [\n  {\"id\": \"a\",\n   \"triggers\": [{\"id\": \"t\",\n     \"filter\": {\"method\": [\"POST\"]}}]},\n  {\"id\": \"b\", \"filter\": {}}]}"
	tests := []struct {
		path           string
		wantY, wantJSN int
	}{
		{"", 2, 2},
		{"endpoints", 3, 2},
		{"endpoints[0].id", 3, 3},
		{"endpoints[0].triggers[0].filter.method[0]", 7, 5},
		{"endpoints[0].triggers[0].nope", 5, 4},
		{"endpoints[1].filter", 9, 6},
		{"endpoints[1].filter.method", 7, 6},
		{"endpoints[9].id", 3, 2},
		{"nope", 0, 0},
	}
	ydoc, err := specdoc.Decode([]byte(y), true)
	require.NoError(t, err)
	jdoc, err := specdoc.Decode([]byte(j), false)
	require.NoError(t, err)
	for _, tt := range tests {
		assert.Equal(t, tt.wantY, ydoc.Line(tt.path), "YAML Line(%q)", tt.path)
		assert.Equal(t, tt.wantJSN, jdoc.Line(tt.path), "JSON Line(%q)", tt.path)
	}
}

// TestIsYAML checks how a document's format is chosen.
func TestIsYAML(t *testing.T) {
	tests := []struct {
		name, data string
		want       bool
	}{
		{"a.yaml", `{"a":1}`, true},
		{"a.yml", `[]`, true},
		{"a.json", `{"a":1}`, false},
		{"request body", "  \n[1]", false},
		{"request body", "a: 1", true},
		{"request body", "", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, specdoc.IsYAML(tt.name, []byte(tt.data)), "IsYAML(%q, %q)", tt.name, tt.data)
	}
}

// FuzzDecode feeds documents to Decode, as JSON and as YAML. It must not
// panic, and must return within a bounded time (the fuzzer's hang
// detection). Its errors are *Error values. What it accepts is valid JSON
// within the bounds: nested at most MaxDepth deep, no key twice, as large
// as the input allows plus the alias budget; a JSON document comes back
// unchanged; and decoding the JSON again gives the same JSON.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"id":"gh","triggers":[{"id":"a","filter":{"body":{"action":["opened"]}}}]}`,
		"id: gh\ntriggers:\n  - id: a\n    filter: &f {headers: {x-github-event: [issues]}}\n  - id: b\n    filter: *f\n",
		"a: &a [1, {b: *a}]\n",
		"a: 1\na: 2\n",
		`{"a": 1, "a": 2}`,
		"a: &a xxxxxxxx\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c]\n",
		"[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
		"? [a]\n: 1\n",
		"a: 0x1F\nb: .inf\nc: !!binary aGk=\nd: 2001-12-14t21:59:43.10-05:00\n",
		"---\na: 1\n---\nb: 2\n",
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, isYAML bool) {
		doc, err := decodeWithDeadline(t, data, isYAML)
		if err != nil {
			var de *specdoc.Error
			if !errors.As(err, &de) {
				t.Fatalf("Decode(%q) error %T %q, want a *specdoc.Error", data, err, err)
			}
			if doc != nil {
				t.Fatalf("Decode(%q) returned a document with its error", data)
			}
			return
		}
		if !isYAML && string(doc.JSON) != string(data) {
			t.Fatalf("Decode(%q).JSON = %q, want the JSON as given", data, doc.JSON)
		}
		if strings.TrimSpace(string(doc.JSON)) == "" {
			return
		}
		if !json.Valid(doc.JSON) {
			t.Fatalf("Decode(%q).JSON = %q, not JSON", data, doc.JSON)
		}
		if max := 6*len(data) + specdoc.MaxAliasBytes + 2; len(doc.JSON) > max {
			t.Fatalf("Decode(%q).JSON has %d bytes, want at most %d", data, len(doc.JSON), max)
		}
		again, err := specdoc.Decode(doc.JSON, false)
		if err != nil {
			t.Fatalf("Decode(%q).JSON = %q does not decode again: %v", data, doc.JSON, err)
		}
		if string(again.JSON) != string(doc.JSON) {
			t.Fatalf("Decode(%q) is not stable:\n\t%s\n\t%s", data, doc.JSON, again.JSON)
		}
		_ = doc.Line("a.b[0]")
	})
}

// decodeDeadline bounds one Decode call in FuzzDecode: past it the input
// is reported as a hang (the fuzzer itself would only stall).
const decodeDeadline = 10 * time.Second

func decodeWithDeadline(t *testing.T, data []byte, isYAML bool) (*specdoc.Doc, error) {
	type result struct {
		doc *specdoc.Doc
		err error
	}
	done := make(chan result, 1)
	go func() {
		doc, err := specdoc.Decode(data, isYAML)
		done <- result{doc, err}
	}()
	select {
	case r := <-done:
		return r.doc, r.err
	case <-time.After(decodeDeadline):
		t.Fatalf("Decode(%q, %t) has not returned after %s", data, isYAML, decodeDeadline)
		return nil, nil
	}
}
