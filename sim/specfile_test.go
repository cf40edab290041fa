package sim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim"
)

// aliasBomb is the spec of issue 10: a 200,000-byte source anchored once
// and aliased by the deliver URL of 2,000 triggers. The file is 257 KB;
// expanded, 400 MB. Before the parser bounded alias expansion it took
// 39 s and 1.8 GB when POSTed to the control API.
func aliasBomb() []byte {
	var b strings.Builder
	b.WriteString("id: bomb\nsource: &s \"")
	b.WriteString(strings.Repeat("x", 200_000))
	b.WriteString("\"\ntriggers:\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "  - {id: t%d, deliver: *s}\n", i)
	}
	return []byte(b.String())
}

// TestParseSpecsRefusesAliasAmplification checks that a spec whose YAML
// aliases would expand past the budget is refused with an error that
// names the file, the line and the path of the alias that crossed it,
// and that it is refused without expanding it (the measure of that is
// in the commit: time and RSS before and after).
func TestParseSpecsRefusesAliasAmplification(t *testing.T) {
	data := aliasBomb()
	require.Greater(t, len(data), 256_000, "the bomb is the issue's 257 KB file")
	specs, err := sim.ParseSpecs("bomb.yaml", data)
	require.Error(t, err, "ParseSpecs(bomb.yaml) = %d specs, want an error", len(specs))
	assert.Nil(t, specs)
	assert.ErrorIs(t, err, sim.ErrInvalidSpec)
	// Each use of *s adds 200,002 bytes of JSON: the sixth crosses 1 MiB.
	assert.EqualError(t, err, "bomb.yaml:9: triggers[5].deliver: YAML aliases expand past 1048576 bytes (alias *s, anchored at line 2); "+
		"write the value out or use fewer aliases")
	var se *sim.SpecError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sim.SpecError{File: "bomb.yaml", Line: 9, Path: "triggers[5].deliver"}, sim.SpecError{File: se.File, Line: se.Line, Path: se.Path})
}

// TestParseSpecsAliasesWithinBudget checks that ordinary reuse of an
// anchor still works, also many times over, and that what a bound
// refuses is named.
func TestParseSpecsAliasesWithinBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("id: gh\ntriggers:\n  - id: t0\n    deliver: &d http://127.0.0.1:9999/deliveries\n    filter: &f {headers: {x-github-event: [issues, pull_request]}, body: {action: [opened]}}\n")
	for i := 1; i < 500; i++ {
		fmt.Fprintf(&b, "  - {id: t%d, deliver: *d, filter: *f}\n", i)
	}
	specs, err := sim.ParseSpecs("many.yaml", []byte(b.String()))
	require.NoError(t, err)
	require.Len(t, specs[0].Triggers, 500)
	last := specs[0].Triggers[499]
	assert.Equal(t, "http://127.0.0.1:9999/deliveries", last.Deliver)
	assert.JSONEq(t, `{"headers":{"x-github-event":["issues","pull_request"]},"body":{"action":["opened"]}}`, string(last.Filter))
}

// TestParseSpecsBounds checks the other bounds of a spec document: its
// size, its nesting depth, and aliases that contain themselves, in JSON
// and YAML alike. Every error names the file, line and path.
func TestParseSpecsBounds(t *testing.T) {
	nested := func(open, close string, n int) string {
		return strings.Repeat(open, n) + strings.Repeat(close, n)
	}
	tests := []struct {
		name, file, data, want string
	}{
		{"too large", "big.json", `{"id":"gh","source":"` + strings.Repeat("x", 1<<20) + `"}`,
			"big.json: the document has more than 1048576 bytes"},
		{"JSON nested too deep", "deep.json", `{"id":"gh","triggers":[{"id":"a","filter":{"body":{"a":` + nested(`[`, `]`, 70) + `}}}]}`,
			"deep.json:1: triggers[0].filter.body.a[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nested deeper than 64 levels"},
		{"YAML nested too deep", "deep.yaml", "id: gh\ntriggers:\n  - id: a\n    filter:\n      body:\n        a: " + nested(`[`, `]`, 70) + "\n",
			"deep.yaml:6: triggers[0].filter.body.a[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nested deeper than 64 levels"},
		{"alias contains itself", "self.yaml", "id: gh\ntriggers: &t\n  - id: a\n    filter: {body: {again: *t}}\n",
			"self.yaml:4: triggers[0].filter.body.again: alias *t contains itself"},
		{"billion laughs", "laughs.yaml", laughs(9),
			"laughs.yaml:6: x4[3]: YAML aliases expand past 1048576 bytes (alias *a3, anchored at line 5); write the value out or use fewer aliases"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			specs, err := sim.ParseSpecs(tt.file, []byte(tt.data))
			require.Error(t, err, "ParseSpecs(%s) = %d specs, want an error", tt.file, len(specs))
			assert.EqualError(t, err, tt.want)
			assert.ErrorIs(t, err, sim.ErrInvalidSpec)
		})
	}
}

// laughs is the "billion laughs": levels of lists of nine aliases of the
// level below.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("id: gh\nsource: &a0 " + strings.Repeat("lol", 100) + "\n")
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

// TestParseSpecsRejectsDuplicateKeys checks that a key given twice in one
// object is an error in JSON as in YAML, at any depth, filters included,
// naming the line of the second and the path.
func TestParseSpecsRejectsDuplicateKeys(t *testing.T) {
	tests := []struct {
		name, file, data, want string
	}{
		{"JSON top level", "a.json", "{\"id\": \"gh\",\n \"source\": \"github.com\",\n \"id\": \"other\"}",
			`a.json:3: id: duplicate key (first at line 1)`},
		{"JSON in verify", "b.json", "{\"id\": \"gh\", \"verify\": {\"preset\": \"github\",\n \"secret\": \"a\", \"secret\": \"b\"}}",
			`b.json:2: verify.secret: duplicate key (first at line 2)`},
		{"JSON deep in a filter", "c.json", "[{\"id\": \"gh\", \"triggers\": [{\"id\": \"t\", \"filter\": {\"body\": {\n  \"action\": [\"opened\"],\n  \"action\": [\"closed\"]}}}]}]",
			`c.json:3: [0].triggers[0].filter.body.action: duplicate key (first at line 2)`},
		{"JSON escaped the same", "d.json", `{"id": "gh", "i\u0064": "x"}`,
			`d.json:1: id: duplicate key (first at line 1)`},
		{"YAML top level", "a.yaml", "id: gh\nsource: github.com\nid: other\n",
			`a.yaml:3: id: duplicate key (first at line 1)`},
		{"YAML deep in a filter", "c.yaml", "endpoints:\n  - id: gh\n    triggers:\n      - id: t\n        filter:\n          body: {action: [opened], action: [closed]}\n",
			`c.yaml:6: endpoints[0].triggers[0].filter.body.action: duplicate key (first at line 6)`},
		{"YAML quoted the same", "e.yaml", "id: gh\n\"id\": other\n",
			`e.yaml:2: id: duplicate key (first at line 1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			specs, err := sim.ParseSpecs(tt.file, []byte(tt.data))
			require.Error(t, err, "ParseSpecs(%s) = %d specs, want an error", tt.file, len(specs))
			assert.EqualError(t, err, tt.want)
			assert.ErrorIs(t, err, sim.ErrInvalidSpec)
		})
	}
}
