package conformance_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/sim"
)

// slowTransport makes every delivery POST wait before it goes out.
type slowTransport struct{ wait time.Duration }

func (s slowTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-time.After(s.wait):
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestDrainEndsTheWait shows that the suite waits for an endpoint's
// Drain, not for the sink to be quiet: a reference whose deliveries each
// leave 300 ms after the answer, judged with a quiet period of 50 ms,
// passes when its endpoints have a Drain, and fails (its delivery
// judged missing) when they have none.
func TestDrainEndsTheWait(t *testing.T) {
	slow := conformance.ReferenceWith(sim.Config{Client: &http.Client{Transport: slowTransport{300 * time.Millisecond}}})
	for _, tt := range []struct {
		name     string
		target   conformance.Target
		wantPass bool
	}{
		{"WithDrain", slow, true},
		{"WithoutDrain", withoutDrain(slow), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := conformance.Check(t.Context(), tt.target, conformance.Select(`^Robustness/LargeBody$`),
				conformance.Quiet(50*time.Millisecond), conformance.LateWindow(time.Millisecond))
			require.Len(t, rep.Cases, 1)
			c := rep.Cases[0]
			if tt.wantPass {
				require.NoError(t, err)
				assert.Equal(t, conformance.StatusPass, c.Status, "problems: %v", c.Problems)
				return
			}
			require.Error(t, err)
			assert.Equal(t, conformance.StatusFail, c.Status)
			assert.Contains(t, strings.Join(c.Problems, "\n"), "deliveries to all = 0, want 1", "the delivery judged missing")
		})
	}
}

// TestSlowTimestampProbeSentAgain shows that a timestamp probe answered
// later than its margin is not judged but sent again: Paddle's 5 s
// tolerance gives a 1 s margin, and a correct receiver that takes 2.2 s
// before it verifies the first two requests of its Paddle endpoint
// rejects the timestamp aimed 1 s inside the tolerance (it aged out on
// the way); the suite must not fail it for that.
func TestSlowTimestampProbeSentAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 2.2 s for slow answers; skipped with -short")
	}
	target := conformance.HandlerTarget(func(spec sim.EndpointSpec) (http.Handler, error) {
		in, err := sim.NewIngress(sim.Config{}, spec)
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { in.Close() })
		if spec.Verify == nil || spec.Verify.Preset != "paddle" {
			return in, nil
		}
		var mu sync.Mutex
		n := 0
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			n++
			slow := n <= 2
			mu.Unlock()
			if slow {
				time.Sleep(2200 * time.Millisecond)
			}
			in.ServeHTTP(w, r)
		}), nil
	})
	rep, err := conformance.Check(t.Context(), target, conformance.Select(`^Verify/StaleTimestamp$`))
	require.Len(t, rep.Cases, 1)
	c := rep.Cases[0]
	require.NoError(t, err, "problems: %v", c.Problems)
	assert.Equal(t, conformance.StatusPass, c.Status)
	assert.Contains(t, strings.Join(c.Log, "\n"), "past the 1s margin: sent again", "the slow probe's note")
}
