package conformance

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// A Status is the outcome of one case.
type Status string

// The statuses.
const (
	StatusPass Status = "pass"
	StatusFail Status = "fail"
	StatusSkip Status = "skip"
	// StatusInterrupted is a case that the end of the run (its context
	// cancelled: a signal, a deadline) cut short or never let start. It is
	// neither passed nor skipped: nothing was shown about the target.
	StatusInterrupted Status = "interrupted"
)

// ErrInterrupted is in the problems of the *CaseError of every
// interrupted case (see StatusInterrupted), for errors.Is.
var ErrInterrupted = errors.New("interrupted: the run was stopped before the case finished")

// A CaseResult is one case's outcome.
type CaseResult struct {
	Case   Case   `json:"case"`
	Status Status `json:"status"`
	// Problems are the violations, each in the failure format (request:
	// got, want; then rule, reference and source). Never a secret.
	Problems []string `json:"problems,omitempty"`
	// Log holds the case's notes (what it covered, what it could not
	// check).
	Log []string `json:"log,omitempty"`
	// Expected lists the known defects of the run's profile that the case
	// accepted as the expected behaviour (Trigger.dev v2's, under
	// ProfileTriggerDevV2): the case passed because the target has them.
	Expected []string `json:"expected,omitempty"`
	// Reason says why the case was skipped, or what stopped the run of
	// an interrupted case.
	Reason   string        `json:"reason,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// A Report is the outcome of a run, case by case in suite order.
type Report struct {
	// Target names what was checked.
	Target string `json:"target,omitempty"`
	// Profile is the profile of expectation the target was held to.
	Profile string       `json:"profile,omitempty"`
	Cases   []CaseResult `json:"cases"`
}

// A CaseError is one failed case; Check joins one per failed case.
type CaseError struct {
	Case     Case
	Problems []error
}

// Error implements error: "conformance: Verify/WrongSecret: <problems>".
func (e *CaseError) Error() string {
	var b strings.Builder
	b.WriteString("conformance: " + e.Case.ID() + ":")
	for _, p := range e.Problems {
		b.WriteString("\n" + p.Error())
	}
	return b.String()
}

// Unwrap returns the problems.
func (e *CaseError) Unwrap() []error { return e.Problems }

func (r *Report) sort(order map[string]int) {
	sort.SliceStable(r.Cases, func(i, j int) bool {
		return order[r.Cases[i].Case.ID()] < order[r.Cases[j].Case.ID()]
	})
}

// Counts returns how many conformance cases passed, failed and were
// skipped; the interrupted ones are in none of the three (see Count), and
// the cases of the Policy group are counted apart (see PolicyCounts).
func (r *Report) Counts() (passed, failed, skipped int) {
	t := r.tally(false)
	return t.passed, t.failed, t.skipped
}

// PolicyCounts returns how many cases of the Policy group (run with the
// option Policy) passed, failed and were skipped; all 0 when none ran.
func (r *Report) PolicyCounts() (passed, failed, skipped int) {
	t := r.tally(true)
	return t.passed, t.failed, t.skipped
}

// Count returns how many cases have status s, Policy cases included.
func (r *Report) Count(s Status) int {
	n := 0
	for _, c := range r.Cases {
		if c.Status == s {
			n++
		}
	}
	return n
}

// tally is the counts of the conformance cases, or of the Policy ones.
type tally struct {
	cases                                int
	passed, failed, skipped, interrupted int
}

func (r *Report) tally(policy bool) tally {
	var t tally
	for _, c := range r.Cases {
		if c.Case.IsPolicy() != policy {
			continue
		}
		t.cases++
		switch c.Status {
		case StatusPass:
			t.passed++
		case StatusFail:
			t.failed++
		case StatusSkip:
			t.skipped++
		case StatusInterrupted:
			t.interrupted++
		}
	}
	return t
}

// line is "N passed, N failed, N skipped", and ", N interrupted" when the
// run was stopped.
func (t tally) line() string {
	line := fmt.Sprintf("%d passed, %d failed, %d skipped", t.passed, t.failed, t.skipped)
	if t.interrupted > 0 {
		line += fmt.Sprintf(", %d interrupted", t.interrupted)
	}
	return line
}

// Err joins a *CaseError per failed or interrupted case, Policy cases
// included (they run only when asked for); nil when none failed and none
// was interrupted. An interrupted case's problems start with an error
// wrapping ErrInterrupted.
func (r *Report) Err() error {
	var errs []error
	for _, c := range r.Cases {
		if c.Status != StatusFail && c.Status != StatusInterrupted {
			continue
		}
		ce := &CaseError{Case: c.Case}
		if c.Status == StatusInterrupted {
			ce.Problems = append(ce.Problems, interruptedError(c.Reason))
		}
		for _, p := range c.Problems {
			ce.Problems = append(ce.Problems, errors.New(p))
		}
		errs = append(errs, ce)
	}
	return errors.Join(errs...)
}

func joinErrors(errs ...error) error { return errors.Join(errs...) }

// interruptedError wraps ErrInterrupted with what stopped the run.
func interruptedError(cause string) error {
	if cause == "" {
		return ErrInterrupted
	}
	return fmt.Errorf("%w (%s)", ErrInterrupted, cause)
}

// countsLine is the conformance cases' count line: "N passed, N failed,
// N skipped", and ", N interrupted" when the run was stopped.
func (r *Report) countsLine() string { return r.tally(false).line() }

// WriteText writes the report for people, in go test's style: a block
// per failed, skipped or interrupted case (every case, with its log, when
// verbose), then the line "N passed, N failed, N skipped", with
// ", N interrupted" added when the run was stopped before every case
// finished. When Policy cases ran, they follow in a section of their own,
// under the line "policy cases (hooklab's own rules, not provider
// conformance):", and end with their own count line, "policy: N passed,
// N failed, N skipped".
func (r *Report) WriteText(w io.Writer, verbose bool) error {
	var b strings.Builder
	var policy []CaseResult
	for _, c := range r.Cases {
		if c.Case.IsPolicy() {
			policy = append(policy, c)
			continue
		}
		writeCaseText(&b, c, r.Profile, verbose)
	}
	b.WriteString(r.countsLine() + "\n")
	if len(policy) > 0 {
		var pb strings.Builder
		for _, c := range policy {
			writeCaseText(&pb, c, r.Profile, verbose)
		}
		if pb.Len() > 0 {
			b.WriteString("policy cases (hooklab's own rules, not provider conformance):\n" + pb.String())
		}
		b.WriteString("policy: " + r.tally(true).line() + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCaseText writes one case's block of the text report: nothing for a
// passed case unless verbose or it accepted a known defect of the profile.
func writeCaseText(b *strings.Builder, c CaseResult, profile string, verbose bool) {
	switch {
	case c.Status == StatusFail:
		fmt.Fprintf(b, "--- FAIL: %s (%.2fs)\n", c.Case.ID(), c.Duration.Seconds())
		for _, p := range c.Problems {
			b.WriteString(indent(p, "    ") + "\n")
		}
	case c.Status == StatusSkip:
		fmt.Fprintf(b, "--- SKIP: %s\n    %s\n", c.Case.ID(), c.Reason)
	case c.Status == StatusInterrupted:
		fmt.Fprintf(b, "--- INTERRUPTED: %s (%.2fs)\n", c.Case.ID(), c.Duration.Seconds())
		b.WriteString(indent(interruptedError(c.Reason).Error(), "    ") + "\n")
		if len(c.Problems) > 0 {
			b.WriteString("    problems seen before the stop (which may have caused them):\n")
			for _, p := range c.Problems {
				b.WriteString(indent(p, "    ") + "\n")
			}
		}
	case verbose || len(c.Expected) > 0:
		fmt.Fprintf(b, "--- PASS: %s (%.2fs)\n", c.Case.ID(), c.Duration.Seconds())
		for _, e := range c.Expected {
			b.WriteString(indent("expected under profile "+profile+": "+e, "    ") + "\n")
		}
	}
	if verbose {
		for _, l := range c.Log {
			b.WriteString(indent(l, "    ") + "\n")
		}
	}
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// WriteJSON writes the report as one JSON object: target, the counts
// of the conformance cases (passed, failed, skipped, interrupted), those
// of the Policy cases under "policy" when any ran, and every case with
// its status, problems, reason and duration (a Policy case has the group
// "Policy").
func (r *Report) WriteJSON(w io.Writer) error {
	type counts struct {
		Passed  int `json:"passed"`
		Failed  int `json:"failed"`
		Skipped int `json:"skipped"`
		// Interrupted counts the cases the run's stop cut short.
		Interrupted int `json:"interrupted"`
	}
	t := r.tally(false)
	var policy *counts
	if pt := r.tally(true); pt.cases > 0 {
		policy = &counts{pt.passed, pt.failed, pt.skipped, pt.interrupted}
	}
	cases := r.Cases
	if cases == nil {
		cases = []CaseResult{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Target  string `json:"target,omitempty"`
		Profile string `json:"profile,omitempty"`
		counts
		// Policy counts the cases of the Policy group, apart.
		Policy *counts      `json:"policy,omitempty"`
		Cases  []CaseResult `json:"cases"`
	}{r.Target, r.Profile, counts{t.passed, t.failed, t.skipped, t.interrupted}, policy, cases})
}

// WriteJUnit writes the report as JUnit XML, one testsuite per group
// (the Policy cases in the testsuite "Policy", counted in the totals like
// any other), for CI systems. An interrupted case is a testcase with an <error> (type
// "interrupted"), counted in the errors attributes, which are left out
// when no case was interrupted.
func (r *Report) WriteJUnit(w io.Writer) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	type skipped struct {
		Message string `xml:"message,attr"`
	}
	type caseError struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string     `xml:"name,attr"`
		Classname string     `xml:"classname,attr"`
		Time      string     `xml:"time,attr"`
		Failure   *failure   `xml:"failure,omitempty"`
		Skipped   *skipped   `xml:"skipped,omitempty"`
		Error     *caseError `xml:"error,omitempty"`
		SystemOut string     `xml:"system-out,omitempty"`
	}
	type testsuite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Errors   int        `xml:"errors,attr,omitempty"`
		Skipped  int        `xml:"skipped,attr"`
		Time     string     `xml:"time,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	type testsuites struct {
		XMLName xml.Name    `xml:"testsuites"`
		Name    string      `xml:"name,attr"`
		Tests   int         `xml:"tests,attr"`
		Fail    int         `xml:"failures,attr"`
		Errors  int         `xml:"errors,attr,omitempty"`
		Skip    int         `xml:"skipped,attr"`
		Suites  []testsuite `xml:"testsuite"`
	}
	p, f, s := r.Count(StatusPass), r.Count(StatusFail), r.Count(StatusSkip)
	in := r.Count(StatusInterrupted)
	out := testsuites{Name: "hooklab conformance", Tests: p + f + s + in, Fail: f, Errors: in, Skip: s}
	idx := map[string]int{}
	for _, c := range r.Cases {
		i, ok := idx[c.Case.Group]
		if !ok {
			i = len(out.Suites)
			idx[c.Case.Group] = i
			out.Suites = append(out.Suites, testsuite{Name: c.Case.Group})
		}
		ts := &out.Suites[i]
		tc := testcase{Name: c.Case.Name, Classname: "conformance." + c.Case.Group, Time: fmt.Sprintf("%.3f", c.Duration.Seconds())}
		ts.Tests++
		for _, e := range c.Expected {
			tc.SystemOut += "expected under profile " + r.Profile + ": " + e + "\n"
		}
		switch c.Status {
		case StatusFail:
			ts.Failures++
			tc.Failure = &failure{Message: c.Case.Rule, Text: strings.Join(c.Problems, "\n")}
		case StatusSkip:
			ts.Skipped++
			tc.Skipped = &skipped{Message: c.Reason}
		case StatusInterrupted:
			ts.Errors++
			tc.Error = &caseError{Message: interruptedError(c.Reason).Error(), Type: string(StatusInterrupted), Text: strings.Join(c.Problems, "\n")}
		}
		ts.Cases = append(ts.Cases, tc)
	}
	for i := range out.Suites {
		var d time.Duration
		for _, c := range r.Cases {
			if c.Case.Group == out.Suites[i].Name {
				d += c.Duration
			}
		}
		out.Suites[i].Time = fmt.Sprintf("%.3f", d.Seconds())
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
