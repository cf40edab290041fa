package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/hooklab/hooklab/internal/specdoc"
)

// Expectations lists the cases a target is known to fail, each with its
// cause, so that a run against a real receiver can be held to exactly its
// known defects: a case failing outside the list, or one in the list not
// failing as listed, is a result to look at. Its file form is YAML or
// JSON:
//
//	failures:
//	  - case: Verify/AlgorithmDowngrade        # Group/Name, as --list prints it
//	    cause: go-github falls back to SHA-1 X-Hub-Signature (https://…)
//	    problems:                              # substrings; each problem must contain one
//	      - status = 204, want 4xx
//	      - deliveries to all = 1, want 0
//
// An Expectations is immutable once parsed and safe for concurrent use.
type Expectations struct {
	// Name is the file the expectations were read from, for reports.
	Name string
	// Failures are the expected failures, in file order; no case twice.
	Failures []ExpectedFailure
}

// An ExpectedFailure is a case the target is known to fail.
type ExpectedFailure struct {
	// Case is the case's ID, "Group/Name".
	Case string `json:"case"`
	// Cause says why the case fails: the target's defect, cited, or the
	// documented deviation it follows.
	Cause string `json:"cause"`
	// Problems are substrings of the problems the case fails with: each
	// problem of the failure (one line of CaseResult.Problems before its
	// rule, with the indented lines that continue it) must contain at
	// least one of them.
	Problems []string `json:"problems"`
	// Line is the line of the entry in its file (0 when not known).
	Line int `json:"-"`
}

// ReadExpectations reads an expectation file (see Expectations) and
// parses it with ParseExpectations. A file larger than a spec may be is
// refused without reading it whole.
func ReadExpectations(path string) (*Expectations, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, specdoc.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	return ParseExpectations(path, data)
}

// ParseExpectations parses an expectation file; name is the file name
// used in errors, and says whether data is YAML (.yaml, .yml) or JSON
// (otherwise, unless data does not start like JSON). Errors name the
// file, the line and the path of the problem ("x.yaml:4:
// failures[1].case: no case Verify/Nope in the suite").
//
// It is read within the bounds of a manifest (ParseManifest). Every case
// must be a case of the suite (Cases), listed once, with a cause and at
// least one problem substring, none empty.
func ParseExpectations(name string, data []byte) (*Expectations, error) {
	doc, top, fail, err := decodeDocument(name, data, "an object with the key failures")
	if err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(top) {
		if k != "failures" {
			return nil, fail(k, "unknown key (want failures)")
		}
	}
	raw, ok := top["failures"]
	if !ok {
		return nil, manifestError(name, doc.Line(""), "failures", errors.New("missing (an empty list when no case fails)"))
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fail("failures", "want a list of {case, cause, problems}")
	}
	known := map[string]bool{}
	for _, c := range Cases() {
		known[c.ID()] = true
	}
	e := &Expectations{Name: name, Failures: []ExpectedFailure{}}
	first := map[string]int{} // case -> its first entry's line
	for i, item := range list {
		at := fmt.Sprintf("failures[%d]", i)
		var ent map[string]json.RawMessage
		if err := json.Unmarshal(item, &ent); err != nil || ent == nil {
			return nil, fail(at, "want an object {case, cause, problems}")
		}
		for _, k := range sortedKeys(ent) {
			switch k {
			case "case", "cause", "problems":
			default:
				return nil, fail(at+"."+k, "unknown key (want case, cause, problems)")
			}
		}
		f := ExpectedFailure{Line: doc.Line(at)}
		for _, fld := range []struct {
			key  string
			dst  any
			want string
		}{{"case", &f.Case, "a string"}, {"cause", &f.Cause, "a string"}, {"problems", &f.Problems, "a list of strings"}} {
			r, ok := ent[fld.key]
			if !ok {
				return nil, fail(at, "missing %s", fld.key)
			}
			if err := json.Unmarshal(r, fld.dst); err != nil {
				return nil, fail(at+"."+fld.key, "want %s", fld.want)
			}
		}
		switch {
		case !known[f.Case]:
			return nil, fail(at+".case", "no case %q in the suite ('hooklab conformance --list' lists them)", f.Case)
		case first[f.Case] != 0:
			return nil, fail(at+".case", "%s listed twice (first at line %d)", f.Case, first[f.Case])
		case strings.TrimSpace(f.Cause) == "":
			return nil, fail(at+".cause", "empty: say why the case fails")
		case len(f.Problems) == 0:
			return nil, fail(at+".problems", "empty: list at least one substring of the failure's problems")
		}
		for j, p := range f.Problems {
			if strings.TrimSpace(p) == "" {
				return nil, fail(fmt.Sprintf("%s.problems[%d]", at, j), "empty substring (it would match any problem)")
			}
		}
		first[f.Case] = max(f.Line, 1)
		e.Failures = append(e.Failures, f)
	}
	return e, nil
}

// A Judgment is a report held to expectations (see Expectations.Judge).
type Judgment struct {
	// Seen are the expected failures that failed as listed, in file order.
	Seen []ExpectedFailure
	// NotRun are the expected failures whose case the run did not select.
	NotRun []ExpectedFailure
	// Mismatches are the results the expectations did not foresee, in the
	// report's order.
	Mismatches []*Mismatch
}

// A Mismatch is one case whose result the expectations did not foresee:
// a case that failed (or was interrupted) without being listed, or a
// listed case that passed, was skipped or interrupted, or failed with a
// problem its entry does not list.
type Mismatch struct {
	// Case is the case's ID, "Group/Name".
	Case string
	// Status is the case's status in the report.
	Status Status
	// Expected is the case's entry; nil when the case is not listed.
	Expected *ExpectedFailure
	// Problems are the case's problems that no substring of the entry
	// matches, for a listed case; for an unlisted one, its problem
	// messages whole (CaseResult.Problems).
	Problems []string
}

// Error implements error: what happened and what was expected, with the
// problems no entry foresees.
func (m *Mismatch) Error() string {
	var b strings.Builder
	switch {
	case m.Expected == nil:
		fmt.Fprintf(&b, "%s: %s, and it is not an expected failure", m.Case, m.Status)
	case m.Status == StatusFail:
		fmt.Fprintf(&b, "%s: failed, but not only as expected (%s)", m.Case, m.Expected.Cause)
	default:
		fmt.Fprintf(&b, "%s: %s, want the expected failure (%s): update the expectations", m.Case, m.Status, m.Expected.Cause)
	}
	for _, p := range m.Problems {
		b.WriteString("\n" + indent(p, "    "))
	}
	return b.String()
}

// Err joins the mismatches (each a *Mismatch, for errors.As); nil when
// the report is exactly as expected.
func (j *Judgment) Err() error {
	errs := make([]error, len(j.Mismatches))
	for i, m := range j.Mismatches {
		errs[i] = m
	}
	return errors.Join(errs...)
}

// Judge holds a report to the expectations: every listed case the run
// selected must have failed, each of its problems containing one of the
// entry's substrings, and no other case may have failed or been
// interrupted. A listed case missing from the report (not selected) is in
// NotRun, not a mismatch; a nil report ran no case.
func (e *Expectations) Judge(r *Report) *Judgment {
	j := &Judgment{}
	if r == nil {
		r = &Report{}
	}
	listed := map[string]*ExpectedFailure{}
	for i := range e.Failures {
		listed[e.Failures[i].Case] = &e.Failures[i]
	}
	ran := map[string]bool{}
	for _, c := range r.Cases {
		id := c.Case.ID()
		ran[id] = true
		want := listed[id]
		switch {
		case want == nil && (c.Status == StatusFail || c.Status == StatusInterrupted):
			j.Mismatches = append(j.Mismatches, &Mismatch{Case: id, Status: c.Status, Problems: c.Problems})
		case want == nil:
		case c.Status != StatusFail:
			j.Mismatches = append(j.Mismatches, &Mismatch{Case: id, Status: c.Status, Expected: want})
		default:
			var other []string
			for _, p := range splitProblems(c.Problems) {
				if !containsAny(p, want.Problems) {
					other = append(other, p)
				}
			}
			if len(other) > 0 || len(c.Problems) == 0 {
				j.Mismatches = append(j.Mismatches, &Mismatch{Case: id, Status: c.Status, Expected: want, Problems: other})
			}
		}
	}
	for _, f := range e.Failures {
		if !ran[f.Case] {
			j.NotRun = append(j.NotRun, f)
			continue
		}
		if !slices.ContainsFunc(j.Mismatches, func(m *Mismatch) bool { return m.Case == f.Case }) {
			j.Seen = append(j.Seen, f)
		}
	}
	return j
}

// WriteText writes the judgment for people: which expected failures were
// seen (with their causes), which were not run, and each mismatch; it
// ends with the line "expectations met" or "expectations not met: N
// unexpected results (NAME)".
func (j *Judgment) WriteText(w io.Writer, name string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "expected failures (%s): %d seen", name, len(j.Seen))
	if len(j.NotRun) > 0 {
		fmt.Fprintf(&b, ", %d not run", len(j.NotRun))
	}
	b.WriteString("\n")
	for _, f := range j.Seen {
		fmt.Fprintf(&b, "    %s: %s\n", f.Case, f.Cause)
	}
	for _, f := range j.NotRun {
		fmt.Fprintf(&b, "    %s: not run\n", f.Case)
	}
	for _, m := range j.Mismatches {
		b.WriteString("--- UNEXPECTED: " + strings.ReplaceAll(m.Error(), "\n", "\n    ") + "\n")
	}
	if len(j.Mismatches) == 0 {
		b.WriteString("expectations met\n")
	} else {
		fmt.Fprintf(&b, "expectations not met: %d unexpected %s (%s)\n", len(j.Mismatches), plural(len(j.Mismatches), "result", "results"), name)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// splitProblems splits a case's problem messages into single problems:
// each message is problem lines, each maybe continued by indented lines,
// then the case's "rule:", "ref:" and "case:" lines, which are dropped,
// as are the lines that only count problems like the ones listed ("… and
// 42 more delivery problems like these").
func splitProblems(msgs []string) []string {
	var out []string
	for _, msg := range msgs {
		if i := strings.Index(msg, "\n    rule: "); i >= 0 {
			msg = msg[:i]
		}
		for i, line := range strings.Split(msg, "\n") {
			if strings.HasPrefix(line, "… and ") && strings.HasSuffix(line, " like these") {
				continue
			}
			if i > 0 && strings.TrimLeft(line, " \t") != line {
				out[len(out)-1] += "\n" + line
				continue
			}
			out = append(out, line)
		}
	}
	return out
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
