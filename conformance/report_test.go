package conformance_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
)

// stoppedReport is a report of a run stopped by SIGTERM: one case of each
// status, the interrupted one with a problem seen before the stop.
func stoppedReport() *conformance.Report {
	c := func(group, name string) conformance.Case {
		return conformance.Case{Group: group, Name: name, Rule: "the rule of " + name}
	}
	return &conformance.Report{Target: "http://127.0.0.1:8080", Cases: []conformance.CaseResult{
		{Case: c("Verify", "Passes"), Status: conformance.StatusPass, Duration: time.Second},
		{Case: c("Verify", "Fails"), Status: conformance.StatusFail, Problems: []string{"POST /hooks/x: status = 200, want 401"}},
		{Case: c("Filter", "Skipped"), Status: conformance.StatusSkip, Reason: "not applicable"},
		{Case: c("Filter", "CutShort"), Status: conformance.StatusInterrupted, Reason: "terminated signal received",
			Problems: []string{"POST /hooks/y: context canceled"}, Duration: 1500 * time.Millisecond},
	}}
}

// TestReportInterrupted checks how each report format shows an
// interrupted case: a status of its own, never passed nor skipped, with
// what stopped the run.
func TestReportInterrupted(t *testing.T) {
	rep := stoppedReport()

	t.Run("Text", func(t *testing.T) {
		var b bytes.Buffer
		require.NoError(t, rep.WriteText(&b, false))
		assert.Contains(t, b.String(), "--- INTERRUPTED: Filter/CutShort (1.50s)\n"+
			"    interrupted: the run was stopped before the case finished (terminated signal received)\n"+
			"    problems seen before the stop (which may have caused them):\n"+
			"    POST /hooks/y: context canceled\n")
		assert.True(t, strings.HasSuffix(b.String(), "\n1 passed, 1 failed, 1 skipped, 1 interrupted\n"), "last line of:\n%s", b.String())
	})

	t.Run("TextNotInterrupted", func(t *testing.T) {
		// The last line of a run that was not stopped is unchanged.
		var b bytes.Buffer
		done := &conformance.Report{Cases: stoppedReport().Cases[:3]}
		require.NoError(t, done.WriteText(&b, false))
		assert.True(t, strings.HasSuffix(b.String(), "\n1 passed, 1 failed, 1 skipped\n"), "last line of:\n%s", b.String())
	})

	t.Run("JSON", func(t *testing.T) {
		var b bytes.Buffer
		require.NoError(t, rep.WriteJSON(&b))
		var got struct {
			Passed, Failed, Skipped, Interrupted int
			Cases                                []struct {
				Status, Reason string
			}
		}
		require.NoError(t, json.Unmarshal(b.Bytes(), &got))
		assert.Equal(t, [4]int{1, 1, 1, 1}, [4]int{got.Passed, got.Failed, got.Skipped, got.Interrupted})
		require.Len(t, got.Cases, 4)
		assert.Equal(t, "interrupted", got.Cases[3].Status)
		assert.Equal(t, "terminated signal received", got.Cases[3].Reason)
	})

	t.Run("JUnit", func(t *testing.T) {
		var b bytes.Buffer
		require.NoError(t, rep.WriteJUnit(&b))
		type result struct {
			Message string `xml:"message,attr"`
			Type    string `xml:"type,attr"`
			Text    string `xml:",chardata"`
		}
		var got struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Errors   int `xml:"errors,attr"`
			Skipped  int `xml:"skipped,attr"`
			Suites   []struct {
				Name   string `xml:"name,attr"`
				Tests  int    `xml:"tests,attr"`
				Errors int    `xml:"errors,attr"`
				Cases  []struct {
					Name    string  `xml:"name,attr"`
					Failure *result `xml:"failure"`
					Skipped *result `xml:"skipped"`
					Error   *result `xml:"error"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		require.NoError(t, xml.Unmarshal(b.Bytes(), &got), "%s", b.String())
		assert.Equal(t, [4]int{4, 1, 1, 1}, [4]int{got.Tests, got.Failures, got.Errors, got.Skipped}, "tests, failures, errors, skipped")
		require.Len(t, got.Suites, 2)
		filter := got.Suites[1]
		assert.Equal(t, [3]any{"Filter", 2, 1}, [3]any{filter.Name, filter.Tests, filter.Errors})
		require.Len(t, filter.Cases, 2)
		cut := filter.Cases[1]
		require.NotNil(t, cut.Error, "the interrupted case has no <error>")
		assert.Nil(t, cut.Failure)
		assert.Nil(t, cut.Skipped, "an interrupted case is not skipped")
		assert.Equal(t, "interrupted", cut.Error.Type)
		assert.Equal(t, "interrupted: the run was stopped before the case finished (terminated signal received)", cut.Error.Message)
		assert.Equal(t, "POST /hooks/y: context canceled", cut.Error.Text)
		assert.NotContains(t, b.String(), `errors="0"`, "no errors attribute when the suite had none")
	})
}

// TestReportShowsTheProfilesExpectedDefects checks that a case that
// passed by accepting a known defect of its profile says so in every
// format, even in the short text report, which lists no other pass.
func TestReportShowsTheProfilesExpectedDefects(t *testing.T) {
	const note = "a body that is not JSON wakes nothing"
	rep := &conformance.Report{Target: "reference", Profile: conformance.ProfileTriggerDevV2, Cases: []conformance.CaseResult{
		{Case: conformance.Case{Group: "Robustness", Name: "MalformedJSON"}, Status: conformance.StatusPass, Expected: []string{note}},
		{Case: conformance.Case{Group: "Verify", Name: "Plain"}, Status: conformance.StatusPass},
	}}
	var text, js, junit bytes.Buffer
	require.NoError(t, rep.WriteText(&text, false))
	require.NoError(t, rep.WriteJSON(&js))
	require.NoError(t, rep.WriteJUnit(&junit))
	assert.Contains(t, text.String(), "--- PASS: Robustness/MalformedJSON (0.00s)\n    expected under profile triggerdev-v2: "+note+"\n")
	assert.NotContains(t, text.String(), "Verify/Plain", "a plain pass is listed only with -v")
	var got struct {
		Profile string `json:"profile"`
		Cases   []struct {
			Expected []string `json:"expected"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &got))
	assert.Equal(t, "triggerdev-v2", got.Profile)
	assert.Equal(t, []string{note}, got.Cases[0].Expected)
	assert.Contains(t, junit.String(), "<system-out>expected under profile triggerdev-v2: "+note)
}

// policyReport is a report of a run with Policy(true): two conformance
// cases and two Policy cases, one of them failed.
func policyReport() *conformance.Report {
	c := func(group, name string) conformance.Case {
		return conformance.Case{Group: group, Name: name, Rule: "the rule of " + name}
	}
	return &conformance.Report{Target: "reference", Cases: []conformance.CaseResult{
		{Case: c("Verify", "Passes"), Status: conformance.StatusPass},
		{Case: c("Verify", "Skipped"), Status: conformance.StatusSkip, Reason: "not applicable"},
		{Case: c(conformance.GroupPolicy, "AlgorithmDowngrade"), Status: conformance.StatusFail, Problems: []string{"POST /hooks/gh: status = 200, want 401"}},
		{Case: c(conformance.GroupPolicy, "Kept"), Status: conformance.StatusPass},
	}}
}

// TestReportPolicyApart checks that every format tells the Policy cases
// from the conformance ones, and that a failed Policy case still fails
// the run.
func TestReportPolicyApart(t *testing.T) {
	rep := policyReport()

	t.Run("Counts", func(t *testing.T) {
		p, f, s := rep.Counts()
		assert.Equal(t, [3]int{1, 0, 1}, [3]int{p, f, s}, "Counts(): passed, failed, skipped of the conformance cases")
		p, f, s = rep.PolicyCounts()
		assert.Equal(t, [3]int{1, 1, 0}, [3]int{p, f, s}, "PolicyCounts(): passed, failed, skipped of the Policy cases")
		var ce *conformance.CaseError
		require.ErrorAs(t, rep.Err(), &ce, "Err() of a report with a failed Policy case")
		assert.Equal(t, "Policy/AlgorithmDowngrade", ce.Case.ID())
	})

	t.Run("Text", func(t *testing.T) {
		var b bytes.Buffer
		require.NoError(t, rep.WriteText(&b, false))
		want := "--- SKIP: Verify/Skipped\n    not applicable\n" +
			"1 passed, 0 failed, 1 skipped\n" +
			"policy cases (hooklab's own rules, not provider conformance):\n" +
			"--- FAIL: Policy/AlgorithmDowngrade (0.00s)\n    POST /hooks/gh: status = 200, want 401\n" +
			"policy: 1 passed, 1 failed, 0 skipped\n"
		assert.Equal(t, want, b.String())
	})

	t.Run("TextPolicyPassed", func(t *testing.T) {
		// Passed policy cases print only their count line.
		var b bytes.Buffer
		passed := &conformance.Report{Cases: []conformance.CaseResult{policyReport().Cases[0], policyReport().Cases[3]}}
		require.NoError(t, passed.WriteText(&b, false))
		assert.Equal(t, "1 passed, 0 failed, 0 skipped\npolicy: 1 passed, 0 failed, 0 skipped\n", b.String())
	})

	t.Run("TextWithoutPolicy", func(t *testing.T) {
		// A run without Policy(true) has no policy line.
		var b bytes.Buffer
		plain := &conformance.Report{Cases: policyReport().Cases[:2]}
		require.NoError(t, plain.WriteText(&b, false))
		assert.NotContains(t, b.String(), "policy")
	})

	t.Run("JSON", func(t *testing.T) {
		var b bytes.Buffer
		require.NoError(t, rep.WriteJSON(&b))
		type counts struct{ Passed, Failed, Skipped, Interrupted int }
		var got struct {
			counts
			Policy *counts
			Cases  []struct {
				Case   struct{ Group, Name string }
				Status string
			}
		}
		require.NoError(t, json.Unmarshal(b.Bytes(), &got), "%s", b.String())
		assert.Equal(t, counts{Passed: 1, Skipped: 1}, got.counts, "conformance counts")
		require.NotNil(t, got.Policy, "no policy counts in:\n%s", b.String())
		assert.Equal(t, counts{Passed: 1, Failed: 1}, *got.Policy, "policy counts")
		require.Len(t, got.Cases, 4)
		assert.Equal(t, conformance.GroupPolicy, got.Cases[2].Case.Group)

		b.Reset()
		require.NoError(t, (&conformance.Report{Cases: policyReport().Cases[:2]}).WriteJSON(&b))
		assert.NotContains(t, b.String(), `"policy"`, "JSON of a run without Policy cases")
	})

	t.Run("JUnit", func(t *testing.T) {
		var b bytes.Buffer
		require.NoError(t, rep.WriteJUnit(&b))
		var got struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Suites   []struct {
				Name     string `xml:"name,attr"`
				Tests    int    `xml:"tests,attr"`
				Failures int    `xml:"failures,attr"`
			} `xml:"testsuite"`
		}
		require.NoError(t, xml.Unmarshal(b.Bytes(), &got), "%s", b.String())
		assert.Equal(t, [2]int{4, 1}, [2]int{got.Tests, got.Failures}, "tests, failures of the testsuites")
		require.Len(t, got.Suites, 2)
		assert.Equal(t, [3]any{"Policy", 2, 1}, [3]any{got.Suites[1].Name, got.Suites[1].Tests, got.Suites[1].Failures})
	})
}

// TestPolicyOptIn checks that the Policy cases run only with Policy(true).
func TestPolicyOptIn(t *testing.T) {
	var policy []string
	for _, c := range conformance.Cases() {
		if c.IsPolicy() {
			policy = append(policy, c.ID())
		}
	}
	require.Contains(t, policy, "Policy/AlgorithmDowngrade", "Cases(): the Policy cases")
	tests := []struct {
		name string
		opts []conformance.Option
		want []string // the ids in the report
	}{
		{"Default", []conformance.Option{conformance.Select("^Policy/|^Verify/ValidSignature$")}, []string{"Verify/ValidSignature"}},
		{"PolicyFalse", []conformance.Option{conformance.Policy(true), conformance.Policy(false), conformance.Select("^Policy/")}, nil},
		{"PolicyTrue", []conformance.Option{conformance.Policy(true), conformance.Select("^Policy/|^Verify/ValidSignature$")}, append([]string{"Verify/ValidSignature"}, policy...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := conformance.Check(t.Context(), conformance.Reference(), tt.opts...)
			require.NoError(t, err)
			var got []string
			for _, c := range rep.Cases {
				got = append(got, c.Case.ID())
			}
			assert.Equal(t, tt.want, got)
		})
	}
}
