package conformance

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// TestLateFindings checks what the sweep makes of the deliveries of a
// request a case checked: the ones the case's own check saw are not
// judged again, each later one past what the case wanted for its trigger
// is a problem naming the request, the trigger as the case named it and
// how late it came, unverified ones are counted
// apart (and only logged when the profile accepts them), a declared app's
// trigger the case did not ask for is ignored, and secrets never show.
func TestLateFindings(t *testing.T) {
	const secret = "sweep-SECRET-do-not-print-42"
	answered := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	delivery := func(id, trigger string, verified bool, after time.Duration) sim.Delivery {
		d := sim.Delivery{ID: id, Endpoint: "e", Trigger: trigger, RecordedAt: answered.Add(after),
			Request: sim.DeliveredRequest{Header: http.Header{sim.RequestIDHeader: {"req-1"}}}}
		d.Verification.Verified = verified
		if !verified {
			d.Verification.Reason = "no matching signature; expected " + secret
		}
		return d
	}
	tests := []struct {
		name             string
		seen             int
		want             map[string]int // nil: no delivery
		declared         bool           // the endpoint is a declared app's, with its own trigger ids
		acceptUnverified bool
		wanted           bool // the case wanted the request accepted, not rejected
		deliveries       []sim.Delivery
		wantProblems     []string
		wantAccepted     []string
		wantUnverified   int
	}{
		{
			name:       "NoneAfterTheCheck",
			seen:       1,
			deliveries: []sim.Delivery{delivery("d1", "real-all", false, 50*time.Millisecond)},
		},
		{
			name:           "LateUnverified",
			deliveries:     []sim.Delivery{delivery("d1", "real-all", false, 1500*time.Millisecond)},
			wantProblems:   []string{`POST /hooks/e (github: wrong secret): delivery to trigger "all" came 1.5s after the answer (delivery id "d1"), marked verification.verified: false (reason "no matching signature; expected [secret]"), want no delivery ever`},
			wantUnverified: 1,
		},
		{
			name: "OnlyTheOnesAfterTheCheck",
			seen: 1,
			deliveries: []sim.Delivery{
				delivery("d1", "real-all", true, 10*time.Millisecond),
				delivery("d2", "real-all", true, 3*time.Second),
			},
			wantProblems: []string{`POST /hooks/e (github: wrong secret): delivery to trigger "all" came 3s after the answer (delivery id "d2"), want no delivery ever`},
		},
		{
			name:             "UnverifiedAcceptedByTheProfile",
			acceptUnverified: true,
			deliveries: []sim.Delivery{
				delivery("d1", "real-all", false, time.Second),
				delivery("d2", "real-all", true, 2*time.Second),
			},
			wantProblems: []string{`POST /hooks/e (github: wrong secret): delivery to trigger "all" came 2s after the answer (delivery id "d2"), want no delivery ever`},
			wantAccepted: []string{`POST /hooks/e (github: wrong secret): delivery to trigger "all" came 1s after the answer, marked verification.verified: false (accepted by this profile)`},
		},
		{
			name:             "UnverifiedOfAnAcceptedRequestNotAccepted", // only a rejected request's runs may fail verification
			acceptUnverified: true,
			wanted:           true,
			deliveries:       []sim.Delivery{delivery("d1", "real-all", false, time.Second)},
			wantProblems:     []string{`POST /hooks/e (github: wrong secret): delivery to trigger "all" came 1s after the answer (delivery id "d1"), marked verification.verified: false (reason "no matching signature; expected [secret]"), want no delivery ever`},
			wantUnverified:   1,
		},
		{
			name: "UnverifiedWithoutReasonNotCountedApart", // the receiver verified nothing
			deliveries: []sim.Delivery{func() sim.Delivery {
				d := delivery("d1", "real-all", false, time.Second)
				d.Verification.Reason = ""
				return d
			}()},
			acceptUnverified: true,
			wantProblems:     []string{`POST /hooks/e (github: wrong secret): delivery to trigger "all" came 1s after the answer (delivery id "d1"), want no delivery ever`},
		},
		{
			name: "OneMoreThanWanted",
			want: map[string]int{"all": 1},
			seen: 1,
			deliveries: []sim.Delivery{
				delivery("d1", "real-all", true, 10*time.Millisecond),
				delivery("d2", "real-all", true, 1200*time.Millisecond),
			},
			wantProblems: []string{`POST /hooks/e (github: wrong secret): delivery to trigger "all" came 1.2s after the answer (delivery id "d2"), want 1 in all, this is number 2`},
		},
		{
			name:       "WantedButLate", // the case's check already failed it as missing
			want:       map[string]int{"all": 1},
			deliveries: []sim.Delivery{delivery("d1", "real-all", true, 6*time.Second)},
		},
		{
			name:       "DeclaredTriggerNotAsked",
			declared:   true,
			deliveries: []sim.Delivery{delivery("d1", "app-other", true, time.Second)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked := sim.EndpointSpec{ID: "e", Verify: &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(secret)},
				Triggers: []sim.TriggerSpec{{ID: "all"}}}
			st := &endpointState{asked: asked, spec: asked}
			st.spec.Triggers = []sim.TriggerSpec{{ID: "real-all"}}
			if tt.declared {
				st.Spec = &st.spec
			}
			x := &exchange{c: &check{Case: Case{Group: GroupVerify, Name: "WrongSecret"}}, eps: []*endpointState{st}}
			r := &response{ID: "req-1", desc: "POST /hooks/e (github: wrong secret)", ep: st, at: answered, rejected: !tt.wanted}
			e := &env{byID: map[string][]sim.Delivery{"req-1": tt.deliveries, "req-2": {delivery("other", "all", true, time.Second)}}}
			fs := e.lateFindings([]expectation{{x: x, r: r, want: tt.want, seen: tt.seen}}, tt.acceptUnverified)
			var problems, accepted []string
			unverified := 0
			for _, f := range fs {
				assert.Equal(t, "Verify/WrongSecret", f.c.ID())
				problems = append(problems, f.problems...)
				accepted = append(accepted, f.accepted...)
				unverified += f.unverified
				assert.NotContains(t, f.message(), secret, "message")
			}
			assert.Equal(t, tt.wantProblems, problems, "problems")
			assert.Equal(t, tt.wantAccepted, accepted, "accepted")
			assert.Equal(t, tt.wantUnverified, unverified, "unverified")
			for _, f := range fs {
				if len(f.problems) > 0 {
					assert.True(t, strings.HasSuffix(f.message(), "\n    rule: \n    ref:  \n    case: "), "message ends with the case's rule, reference and source:\n%s", f.message())
				}
			}
		})
	}
}
