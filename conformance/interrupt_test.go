package conformance_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/sim"
)

// caseStatuses returns each case's status by id.
func caseStatuses(rep *conformance.Report) map[string]conformance.Status {
	out := map[string]conformance.Status{}
	for _, c := range rep.Cases {
		out[c.Case.ID()] = c.Status
	}
	return out
}

// TestCheckWithDoneContextReportsEveryCaseInterrupted checks that a run
// whose context is already done reports every selected case, each
// interrupted with the cause, none passed and none skipped, except a case
// the options skip; and that Check's error says so.
func TestCheckWithDoneContextReportsEveryCaseInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("terminated signal received"))

	rep, err := conformance.Check(ctx, conformance.Reference(),
		conformance.Select(`^Robustness/(UnknownEndpoint|OversizeBody|UnsupportedMethod)$`),
		conformance.Skip("Robustness/UnsupportedMethod", "known deviation"))

	require.Len(t, rep.Cases, 3)
	assert.Equal(t, map[string]conformance.Status{
		"Robustness/UnknownEndpoint":   conformance.StatusInterrupted,
		"Robustness/OversizeBody":      conformance.StatusInterrupted,
		"Robustness/UnsupportedMethod": conformance.StatusSkip,
	}, caseStatuses(rep))
	for _, c := range rep.Cases {
		if c.Status == conformance.StatusInterrupted {
			assert.Equal(t, "terminated signal received", c.Reason, "%s: reason", c.Case.ID())
		}
	}
	p, f, s := rep.Counts()
	assert.Equal(t, [4]int{0, 0, 1, 2}, [4]int{p, f, s, rep.Count(conformance.StatusInterrupted)}, "passed, failed, skipped, interrupted")
	require.Error(t, err, "a run that finished no case must not be a success")
	assert.ErrorIs(t, err, conformance.ErrInterrupted)
	var ce *conformance.CaseError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "conformance: Robustness/UnknownEndpoint:\ninterrupted: the run was stopped before the case finished (terminated signal received)")
}

// TestCheckStoppedMidRun stops a run while one case waits on its target:
// the case before it passed, the one cut short and the one that never
// started are interrupted (before, they were failed and skipped), and
// Check returns at once although the target never answers.
func TestCheckStoppedMidRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entered := make(chan struct{})
	var once sync.Once
	ref := conformance.Reference()
	target := conformance.TargetFunc(func(pctx context.Context, spec sim.EndpointSpec) (conformance.Endpoint, error) {
		if strings.HasPrefix(spec.ID, "robustness-oversize-body-") {
			// A target that never answers this case: the run is
			// stopped while it waits.
			once.Do(func() { close(entered) })
			<-pctx.Done()
			return conformance.Endpoint{}, pctx.Err()
		}
		return ref.Provision(pctx, spec)
	})
	go func() {
		<-entered
		cancel()
	}()

	rep, err := conformance.Check(ctx, target, conformance.Parallel(1),
		conformance.Select(`^Robustness/(UnknownEndpoint|OversizeBody|UnsupportedMethod)$`))

	assert.Equal(t, map[string]conformance.Status{
		"Robustness/UnknownEndpoint":   conformance.StatusPass,
		"Robustness/OversizeBody":      conformance.StatusInterrupted,
		"Robustness/UnsupportedMethod": conformance.StatusInterrupted,
	}, caseStatuses(rep))
	for _, c := range rep.Cases {
		if c.Status == conformance.StatusInterrupted {
			assert.Equal(t, context.Canceled.Error(), c.Reason, "%s: reason", c.Case.ID())
		}
	}
	assert.ErrorIs(t, err, conformance.ErrInterrupted)
	assert.NotContains(t, err.Error(), "conformance: Robustness/UnknownEndpoint:", "the case that passed is not in the error")
}

// TestCheckProgressReportsInterrupted checks that the Progress callback
// sees the interrupted status too, so that a progress line never says
// PASS or SKIP for a case that did not finish.
func TestCheckProgressReportsInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var mu sync.Mutex
	var got []conformance.Status
	conformance.Check(ctx, conformance.Reference(), conformance.Select(`^Robustness/UnknownEndpoint$`),
		conformance.Progress(func(r conformance.CaseResult) {
			mu.Lock()
			got = append(got, r.Status)
			mu.Unlock()
		}))
	assert.Equal(t, []conformance.Status{conformance.StatusInterrupted}, got)
}
