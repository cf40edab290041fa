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
