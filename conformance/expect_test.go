package conformance_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/internal/specdoc"
)

const expectYAML = `# a comment
failures:
  - case: Verify/WrongSecret
    cause: the app verifies nothing
    problems:
      - status = 200, want 4xx
      - deliveries to all = 1, want 0
  - case: Verify/EmptyBody
    cause: JSON.parse of the empty body throws
    problems: ["status = 400, want 2xx"]
`

func TestParseExpectationsReadsEveryField(t *testing.T) {
	for _, tc := range []struct {
		name, file, data string
	}{
		{"yaml", "x.expect.yaml", expectYAML},
		{"json", "x.expect.json", `{"failures": [
 {"case": "Verify/WrongSecret", "cause": "the app verifies nothing", "problems": ["status = 200, want 4xx", "deliveries to all = 1, want 0"]},
 {"case": "Verify/EmptyBody", "cause": "JSON.parse of the empty body throws", "problems": ["status = 400, want 2xx"]}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := conformance.ParseExpectations(tc.file, []byte(tc.data))
			require.NoError(t, err)
			want := []conformance.ExpectedFailure{
				{Case: "Verify/WrongSecret", Cause: "the app verifies nothing", Problems: []string{"status = 200, want 4xx", "deliveries to all = 1, want 0"}},
				{Case: "Verify/EmptyBody", Cause: "JSON.parse of the empty body throws", Problems: []string{"status = 400, want 2xx"}},
			}
			got := append([]conformance.ExpectedFailure(nil), e.Failures...)
			lines := []int{got[0].Line, got[1].Line}
			got[0].Line, got[1].Line = 0, 0
			assert.Equal(t, want, got, "Failures")
			assert.Equal(t, tc.file, e.Name)
			if tc.name == "yaml" {
				assert.Equal(t, []int{3, 8}, lines, "entry lines")
			}
		})
	}
}

func TestParseExpectationsEmptyList(t *testing.T) {
	e, err := conformance.ParseExpectations("none.yaml", []byte("failures: []\n"))
	require.NoError(t, err)
	assert.Empty(t, e.Failures)
}

func TestParseExpectationsErrorsNameFileLineAndPath(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"unknown top key", "failures: []\nexpected: []\n", "e.yaml:2: expected: unknown key (want failures)"},
		{"missing failures", "# nothing\n{}\n", "e.yaml:2: failures: missing (an empty list when no case fails)"},
		{"failures not a list", "failures: {case: x}\n", "e.yaml:1: failures: want a list of {case, cause, problems}"},
		{"entry not an object", "failures:\n  - Verify/WrongSecret\n", "e.yaml:2: failures[0]: want an object {case, cause, problems}"},
		{"entry null", "failures:\n  - null\n", "e.yaml:2: failures[0]: want an object {case, cause, problems}"},
		{"unknown entry key", "failures:\n  - case: Verify/WrongSecret\n    cause: x\n    problems: [y]\n    reason: z\n", "e.yaml:5: failures[0].reason: unknown key (want case, cause, problems)"},
		{"missing case", "failures:\n  - cause: x\n    problems: [y]\n", "e.yaml:2: failures[0]: missing case"},
		{"missing problems", "failures:\n  - case: Verify/WrongSecret\n    cause: x\n", "e.yaml:2: failures[0]: missing problems"},
		{"case not a string", "failures:\n  - case: [Verify/WrongSecret]\n    cause: x\n    problems: [y]\n", "e.yaml:2: failures[0].case: want a string"},
		{"problems not strings", "failures:\n  - case: Verify/WrongSecret\n    cause: x\n    problems: [1]\n", "e.yaml:4: failures[0].problems: want a list of strings"},
		{"unknown case", "failures:\n  - case: Verify/Nope\n    cause: x\n    problems: [y]\n", `e.yaml:2: failures[0].case: no case "Verify/Nope" in the suite ('hooklab conformance --list' lists them)`},
		{"case twice", "failures:\n  - {case: Verify/WrongSecret, cause: x, problems: [y]}\n  - {case: Verify/WrongSecret, cause: x, problems: [y]}\n", "e.yaml:3: failures[1].case: Verify/WrongSecret listed twice (first at line 2)"},
		{"empty cause", "failures:\n  - {case: Verify/WrongSecret, cause: '  ', problems: [y]}\n", "e.yaml:2: failures[0].cause: empty: say why the case fails"},
		{"no problems", "failures:\n  - {case: Verify/WrongSecret, cause: x, problems: []}\n", "e.yaml:2: failures[0].problems: empty: list at least one substring of the failure's problems"},
		{"empty problem", "failures:\n  - case: Verify/WrongSecret\n    cause: x\n    problems: [y, '']\n", "e.yaml:4: failures[0].problems[1]: empty substring (it would match any problem)"},
		{"duplicate key", "failures: []\nfailures: []\n", "e.yaml:2: failures: duplicate key (first at line 1)"},
		{"not an object", "- a\n", "e.yaml: want an object with the key failures"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := conformance.ParseExpectations("e.yaml", []byte(tc.data))
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

func TestParseExpectationsBounded(t *testing.T) {
	big := "failures: []\n#" + strings.Repeat("x", specdoc.MaxBytes) + "\n"
	_, err := conformance.ParseExpectations("big.yaml", []byte(big))
	require.Error(t, err)
	assert.Equal(t, "big.yaml: the document has more than 1048576 bytes", err.Error())
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 0, "a"; i < 12; i++ {
		name := string(rune('b' + i))
		laughs += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = name
	}
	_, err = conformance.ParseExpectations("laughs.yaml", []byte(laughs))
	require.Error(t, err, "aliases expanded past specdoc.MaxAliasBytes")
	assert.Contains(t, err.Error(), "laughs.yaml:")
	assert.Contains(t, err.Error(), "alias")
}

func TestReadExpectations(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.expect.yaml")
	require.NoError(t, os.WriteFile(path, []byte(expectYAML), 0o600))
	e, err := conformance.ReadExpectations(path)
	require.NoError(t, err)
	assert.Len(t, e.Failures, 2)
	assert.Equal(t, path, e.Name)

	_, err = conformance.ReadExpectations(filepath.Join(dir, "missing.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// problem is a case's problem message as the suite writes it: problem
// lines (continued by indented lines), then rule, ref and case.
func problem(lines ...string) string {
	return strings.Join(lines, "\n") + "\n    rule: the rule\n    ref:  a reference\n    case: conformance/cases_verify.go:1"
}

func result(id string, s conformance.Status, problems ...string) conformance.CaseResult {
	group, name, _ := strings.Cut(id, "/")
	return conformance.CaseResult{Case: conformance.Case{Group: group, Name: name}, Status: s, Problems: problems}
}

func TestJudge(t *testing.T) {
	e, err := conformance.ParseExpectations("x.yaml", []byte(expectYAML))
	require.NoError(t, err)
	wrongSecret := problem(
		"POST /hook (github: signed with another secret): status = 200, want 4xx",
		"        body: {\"ok\":true}",
		"POST /hook (github: signed with another secret): deliveries to all = 1, want 0")
	emptyBody := problem("POST /hook (github: valid signature over an empty body): status = 400, want 2xx")
	type mismatch struct {
		Case     string
		Status   conformance.Status
		Listed   bool
		Problems int
	}
	for _, tc := range []struct {
		name       string
		cases      []conformance.CaseResult
		seen       []string
		notRun     []string
		mismatches []mismatch
	}{{
		name: "every listed case fails as listed",
		cases: []conformance.CaseResult{
			result("Verify/ValidSignature", conformance.StatusPass),
			result("Verify/WrongSecret", conformance.StatusFail, wrongSecret),
			result("Verify/EmptyBody", conformance.StatusFail, emptyBody),
			result("Verify/StaleTimestamp", conformance.StatusSkip),
		},
		seen: []string{"Verify/WrongSecret", "Verify/EmptyBody"},
	}, {
		name: "a failure outside the list",
		cases: []conformance.CaseResult{
			result("Verify/WrongSecret", conformance.StatusFail, wrongSecret),
			result("Verify/EmptyBody", conformance.StatusFail, emptyBody),
			result("Verify/StaleTimestamp", conformance.StatusFail, problem("POST /hook: status = 200, want 4xx")),
		},
		seen:       []string{"Verify/WrongSecret", "Verify/EmptyBody"},
		mismatches: []mismatch{{"Verify/StaleTimestamp", conformance.StatusFail, false, 1}},
	}, {
		name: "an interrupted case outside the list",
		cases: []conformance.CaseResult{
			result("Verify/WrongSecret", conformance.StatusFail, wrongSecret),
			result("Verify/EmptyBody", conformance.StatusFail, emptyBody),
			result("Verify/StaleTimestamp", conformance.StatusInterrupted),
		},
		seen:       []string{"Verify/WrongSecret", "Verify/EmptyBody"},
		mismatches: []mismatch{{"Verify/StaleTimestamp", conformance.StatusInterrupted, false, 0}},
	}, {
		name: "listed cases that pass, are skipped or interrupted",
		cases: []conformance.CaseResult{
			result("Verify/WrongSecret", conformance.StatusPass),
			result("Verify/EmptyBody", conformance.StatusSkip),
		},
		mismatches: []mismatch{{"Verify/WrongSecret", conformance.StatusPass, true, 0}, {"Verify/EmptyBody", conformance.StatusSkip, true, 0}},
	}, {
		name: "a listed case failing with one problem not listed",
		cases: []conformance.CaseResult{
			result("Verify/WrongSecret", conformance.StatusFail, problem(
				"POST /hook: status = 200, want 4xx",
				"POST /hook: deliveries to all = 2, want 0")),
			result("Verify/EmptyBody", conformance.StatusFail, emptyBody, problem("POST /hook: body leaks the secret")),
		},
		mismatches: []mismatch{{"Verify/WrongSecret", conformance.StatusFail, true, 1}, {"Verify/EmptyBody", conformance.StatusFail, true, 1}},
	}, {
		name: "a listed case failing with no problem at all",
		cases: []conformance.CaseResult{
			result("Verify/WrongSecret", conformance.StatusFail, wrongSecret),
			result("Verify/EmptyBody", conformance.StatusFail),
		},
		seen:       []string{"Verify/WrongSecret"},
		mismatches: []mismatch{{"Verify/EmptyBody", conformance.StatusFail, true, 0}},
	}, {
		name: "the rule, ref and case lines do not count as problems",
		cases: []conformance.CaseResult{
			result("Verify/WrongSecret", conformance.StatusFail, problem("POST /hook: deliveries to all = 1, want 0")),
			result("Verify/EmptyBody", conformance.StatusFail, emptyBody),
		},
		seen: []string{"Verify/WrongSecret", "Verify/EmptyBody"},
	}, {
		name: "a count of problems like the listed ones is not a problem",
		cases: []conformance.CaseResult{
			result("Verify/WrongSecret", conformance.StatusFail, problem(
				"POST /a: deliveries to all = 1, want 0",
				"… and 42 more delivery problems like these")),
			result("Verify/EmptyBody", conformance.StatusFail, emptyBody),
		},
		seen: []string{"Verify/WrongSecret", "Verify/EmptyBody"},
	}, {
		name: "a continuation line belongs to its problem",
		cases: []conformance.CaseResult{
			// Not a problem of its own that no substring matches.
			result("Verify/WrongSecret", conformance.StatusFail, wrongSecret),
			// One problem with its continuation, matching no substring:
			// one unmatched problem, not two.
			result("Verify/EmptyBody", conformance.StatusFail, problem("POST /hook: status = 400", "        body: x, want 2xx")),
		},
		seen:       []string{"Verify/WrongSecret"},
		mismatches: []mismatch{{"Verify/EmptyBody", conformance.StatusFail, true, 1}},
	}, {
		name: "listed cases the run did not select",
		cases: []conformance.CaseResult{
			result("Verify/ValidSignature", conformance.StatusPass),
			result("Verify/EmptyBody", conformance.StatusFail, emptyBody),
		},
		seen:   []string{"Verify/EmptyBody"},
		notRun: []string{"Verify/WrongSecret"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			j := e.Judge(&conformance.Report{Cases: tc.cases})
			ids := func(fs []conformance.ExpectedFailure) []string {
				var out []string
				for _, f := range fs {
					out = append(out, f.Case)
				}
				return out
			}
			assert.Equal(t, tc.seen, ids(j.Seen), "Seen")
			assert.Equal(t, tc.notRun, ids(j.NotRun), "NotRun")
			var got []mismatch
			for _, m := range j.Mismatches {
				got = append(got, mismatch{m.Case, m.Status, m.Expected != nil, len(m.Problems)})
			}
			assert.Equal(t, tc.mismatches, got, "Mismatches")
			err := j.Err()
			if len(tc.mismatches) == 0 {
				assert.NoError(t, err)
				return
			}
			var m *conformance.Mismatch
			require.True(t, errors.As(err, &m), "Err() = %v, want a *Mismatch in it", err)
			assert.Equal(t, tc.mismatches[0].Case, m.Case)
		})
	}
}

func TestMismatchError(t *testing.T) {
	listed := &conformance.ExpectedFailure{Case: "Verify/WrongSecret", Cause: "no verification"}
	for _, tc := range []struct {
		m    conformance.Mismatch
		want string
	}{
		{conformance.Mismatch{Case: "Verify/EmptyBody", Status: conformance.StatusFail, Problems: []string{"POST /h: status = 400, want 2xx\n    rule: r"}},
			"Verify/EmptyBody: fail, and it is not an expected failure\n    POST /h: status = 400, want 2xx\n        rule: r"},
		{conformance.Mismatch{Case: "Verify/WrongSecret", Status: conformance.StatusPass, Expected: listed},
			"Verify/WrongSecret: pass, want the expected failure (no verification): update the expectations"},
		{conformance.Mismatch{Case: "Verify/WrongSecret", Status: conformance.StatusFail, Expected: listed, Problems: []string{"POST /h: body = x"}},
			"Verify/WrongSecret: failed, but not only as expected (no verification)\n    POST /h: body = x"},
	} {
		assert.Equal(t, tc.want, tc.m.Error())
	}
}

func TestJudgmentWriteText(t *testing.T) {
	e, err := conformance.ParseExpectations("x.yaml", []byte(expectYAML))
	require.NoError(t, err)
	var b strings.Builder
	j := e.Judge(&conformance.Report{Cases: []conformance.CaseResult{
		result("Verify/EmptyBody", conformance.StatusPass),
	}})
	require.NoError(t, j.WriteText(&b, "x.yaml"))
	assert.Equal(t, `expected failures (x.yaml): 0 seen, 1 not run
    Verify/WrongSecret: not run
--- UNEXPECTED: Verify/EmptyBody: pass, want the expected failure (JSON.parse of the empty body throws): update the expectations
expectations not met: 1 unexpected result (x.yaml)
`, b.String())

	b.Reset()
	j = e.Judge(&conformance.Report{Cases: []conformance.CaseResult{
		result("Verify/EmptyBody", conformance.StatusFail, problem("POST /: status = 400, want 2xx")),
	}})
	require.NoError(t, j.WriteText(&b, "x.yaml"))
	assert.Equal(t, `expected failures (x.yaml): 1 seen, 1 not run
    Verify/EmptyBody: JSON.parse of the empty body throws
    Verify/WrongSecret: not run
expectations met
`, b.String())
}

// FuzzParseExpectations: no panic on any input, and every error names
// the file.
func FuzzParseExpectations(f *testing.F) {
	f.Add("e.yaml", []byte(expectYAML))
	f.Add("e.json", []byte(`{"failures": [{"case": "Verify/WrongSecret", "cause": "x", "problems": ["y"]}]}`))
	f.Add("e.yaml", []byte("failures: []\n"))
	f.Add("e.yaml", []byte("failures:\n  - {case: Verify/WrongSecret, cause: x, problems: [y]}\n  - {case: Verify/WrongSecret, cause: x, problems: [y]}\n"))
	f.Add("e.yaml", []byte("a: &a [x, x]\nb: [*a, *a]\n"))
	f.Add("e.json", []byte(`{"failures": [null, 1, "x", {"case": 2}]}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		if name == "" {
			name = "e"
		}
		e, err := conformance.ParseExpectations(name, data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), name) {
				t.Fatalf("error %q does not start with the file name %q", err, name)
			}
			return
		}
		seen := map[string]bool{}
		for _, fl := range e.Failures {
			if seen[fl.Case] || strings.TrimSpace(fl.Cause) == "" || len(fl.Problems) == 0 {
				t.Fatalf("parsed an entry the parser must refuse: %+v", fl)
			}
			seen[fl.Case] = true
		}
		// Judging any report of the parsed expectations does not panic.
		var cases []conformance.CaseResult
		for _, fl := range e.Failures {
			cases = append(cases, result(fl.Case, conformance.StatusFail, string(data)))
		}
		_ = e.Judge(&conformance.Report{Cases: cases}).Err()
	})
}
