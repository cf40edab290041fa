package conformance_test

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/internal/fault"
	"github.com/hooklab/hooklab/sim"
)

// lateTarget is the reference ingress with late-delivery-of-rejected: it
// answers 401 and delivers the rejected request 1 s later, after the
// case's settle time and after its endpoint is closed. Its endpoints have
// no Drain, so that the sweep, not the case, finds the late deliveries
// (with a Drain, which waits for the fault's queue, the case does).
func lateTarget(t *testing.T) conformance.Target {
	t.Helper()
	f, err := fault.Lookup(sim.Strict, "late-delivery-of-rejected")
	require.NoError(t, err)
	cfg, err := fault.With(sim.Config{}, f)
	require.NoError(t, err)
	return withoutDrain(conformance.ReferenceWith(cfg))
}

// withoutDrain is target with its endpoints' Drain taken away, as an
// implementation out of process has none: the cases listen for the
// quiet period and the settle time, and the sweep for the late window.
func withoutDrain(target conformance.Target) conformance.Target {
	return conformance.TargetFunc(func(ctx context.Context, spec sim.EndpointSpec) (conformance.Endpoint, error) {
		ep, err := target.Provision(ctx, spec)
		ep.Drain = nil
		return ep, err
	})
}

// lateLine is a sweep's line for one late delivery; group 1 is how late.
var lateLine = regexp.MustCompile(`: delivery to trigger "[^"]+" came (\S+) after the answer \(delivery id "[0-9a-f]+"\), marked verification\.verified: false \(reason "[^"]*"\), want no delivery ever`)

// lateSummary is the sweep's count of a case's late deliveries: group 1
// all of them, group 2 those marked verified: false.
var lateSummary = regexp.MustCompile(`swept at the end of the run: (\d+) late deliveries the case said must not happen; (\d+) of them marked verified: false`)

// TestSweepFailsLateDeliveries shows that a delivery of a rejected request
// that comes 1 s after the answer, long after the case's own check
// stopped listening, fails the case in Check's report, with the request,
// the trigger, how late it came and that it was marked unverified; and
// that Progress hears of the case again, failed.
func TestSweepFailsLateDeliveries(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for deliveries 1 s late; skipped with -short")
	}
	tests := []struct {
		id         string
		wantLate   int // late deliveries: rejected requests × triggers woken; 0 for at least one
		wantListed int // lines listing one, at most 20; 0 for 20
	}{
		{"Verify/WrongSecret", 0, 0},                 // one per preset, listed up to 20
		{"FanOut/RejectedRequestWakesNothing", 6, 6}, // forged and unsigned, three unfiltered triggers each
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.id, "/", "_"), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var heard []conformance.Status
			// Settle(0): the case judges its requests' deliveries as soon
			// as its checks run, however loaded the machine, so that the
			// sweep, not the case, sees the deliveries 1 s late.
			rep, err := conformance.Check(t.Context(), lateTarget(t), conformance.Select("^"+regexp.QuoteMeta(tt.id)+"$"), conformance.Settle(0),
				conformance.Progress(func(r conformance.CaseResult) {
					mu.Lock()
					heard = append(heard, r.Status)
					mu.Unlock()
				}))
			require.Error(t, err, "Check(late-delivery-of-rejected, %s) = nil error, want the case failed", tt.id)
			require.Len(t, rep.Cases, 1)
			c := rep.Cases[0]
			require.Equal(t, conformance.StatusFail, c.Status, "%s status; problems: %v", tt.id, c.Problems)
			msg := strings.Join(c.Problems, "\n")
			lines := lateLine.FindAllStringSubmatch(msg, -1)
			wantListed := cmp.Or(tt.wantListed, 20)
			assert.Lenf(t, lines, wantListed, "late-delivery lines in:\n%s", msg)
			for _, m := range lines {
				late, err := time.ParseDuration(m[1])
				if assert.NoError(t, err, "how late: %q", m[1]) {
					assert.GreaterOrEqual(t, late, 900*time.Millisecond, "how late, for a delivery made 1 s after the request")
				}
			}
			sum := lateSummary.FindStringSubmatch(msg)
			if assert.NotNilf(t, sum, "no count of late deliveries in:\n%s", msg) {
				late, _ := strconv.Atoi(sum[1])
				if tt.wantLate > 0 {
					assert.Equal(t, tt.wantLate, late, "late deliveries counted")
				} else {
					assert.Greater(t, late, wantListed, "late deliveries counted, with more than are listed")
					assert.Contains(t, msg, fmt.Sprintf("… and %d more late deliveries like these", late-wantListed))
				}
				assert.Equal(t, sum[1], sum[2], "late deliveries marked verified: false, of all")
			}
			assert.Contains(t, msg, "\n    case: conformance/")
			assert.Equal(t, []conformance.Status{conformance.StatusPass, conformance.StatusFail}, heard,
				"Progress: the case passed its own check, then the sweep failed it")

			var ce *conformance.CaseError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.id, ce.Case.ID(), "the *CaseError names the case")
		})
	}
}

// TestSweepUnderRunT shows that under RunT (and so go test's Run), where
// a case's subtest is over before the sweep, the late deliveries fail a
// subtest LateDeliveries/<case>, and that a run without them has none.
func TestSweepUnderRunT(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for deliveries 1 s late; skipped with -short")
	}
	tests := []struct {
		name       string
		target     func(t *testing.T) conformance.Target
		wantFailed []string
	}{
		{"LateDelivery", lateTarget, []string{"/LateDeliveries", "/LateDeliveries/Verify/WrongSecret"}},
		{"Reference", func(*testing.T) conformance.Target { return conformance.Reference() }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := &recordT{ctx: t.Context()}
			conformance.RunT(root, tt.target(t), conformance.Select(`^Verify/WrongSecret$`), conformance.Settle(0)) // see TestSweepFailsLateDeliveries
			assert.Equal(t, tt.wantFailed, root.failed(), "failed subtests")
			assert.Contains(t, root.names(), "/Verify/WrongSecret", "the case ran")
		})
	}
}

// recordT is a conformance.T that records which (sub)tests ran and
// which failed, by full name.
type recordT struct {
	ctx  context.Context
	name string
	log  *runLog

	mu   sync.Mutex
	fail bool
}

type runLog struct {
	mu     sync.Mutex
	ran    []string
	failed []string
}

func (t *recordT) Helper() {}
func (t *recordT) Errorf(format string, args ...any) {
	t.mu.Lock()
	t.fail = true
	t.mu.Unlock()
}
func (t *recordT) Fatalf(format string, args ...any) { t.Errorf(format, args...); runtime.Goexit() }
func (t *recordT) Skipf(format string, args ...any)  { runtime.Goexit() }
func (t *recordT) Logf(format string, args ...any)   {}
func (t *recordT) Context() context.Context          { return t.ctx }

func (t *recordT) Run(name string, f func(conformance.T)) bool {
	if t.log == nil {
		t.log = &runLog{}
	}
	sub := &recordT{ctx: t.ctx, name: t.name + "/" + name, log: t.log}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(sub)
	}()
	<-done
	t.log.mu.Lock()
	t.log.ran = append(t.log.ran, sub.name)
	if sub.fail {
		t.log.failed = append(t.log.failed, sub.name)
	}
	t.log.mu.Unlock()
	if sub.fail {
		t.Errorf("%s failed", sub.name)
	}
	return !sub.fail
}

func (t *recordT) names() []string {
	t.log.mu.Lock()
	defer t.log.mu.Unlock()
	return append([]string(nil), t.log.ran...)
}

// failed returns the failed subtests, sorted by name.
func (t *recordT) failed() []string {
	t.log.mu.Lock()
	defer t.log.mu.Unlock()
	if len(t.log.failed) == 0 {
		return nil
	}
	out := append([]string(nil), t.log.failed...)
	sort.Strings(out)
	return out
}
