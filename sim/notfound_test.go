package sim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// TestUnknownEndpointListsServed checks that the strict profile's 404
// names the endpoints served, at most 20 with a count of the rest, with no
// secret, from the ingress and from Handler's other paths alike; and that
// the Trigger.dev profile's 404 stays Trigger.dev's own.
func TestUnknownEndpointListsServed(t *testing.T) {
	const secret = "whsec-never-listed"
	many := make([]sim.EndpointSpec, 25)
	for i := range many {
		many[i] = sim.EndpointSpec{
			ID:       fmt.Sprintf("ep%02d", i),
			Verify:   &sim.VerifySpec{Preset: "github", Secrets: signer.Keys(secret)},
			Triggers: []sim.TriggerSpec{trig("all", "")},
		}
	}
	type notFound struct {
		Error      string   `json:"error"`
		Path       string   `json:"path"`
		Served     []string `json:"served"`
		ServedMore int      `json:"served_more"`
	}
	tests := []struct {
		name    string
		profile sim.Profile
		specs   []sim.EndpointSpec
		target  string
		handler bool // through sim.Handler rather than the Ingress alone
		want    notFound
		wantRaw string // the exact body, when set
	}{
		{
			name:   "WrongPrefixNamesTheOneServed",
			specs:  []sim.EndpointSpec{ghSpec(trig("all", ""))},
			target: "/webhooks/github", handler: true,
			want: notFound{Error: "unknown endpoint", Path: "/webhooks/github", Served: []string{"/hooks/gh"}},
		},
		{
			name:   "UnknownIDNamesTheOneServed",
			specs:  []sim.EndpointSpec{ghSpec(trig("all", ""))},
			target: "/hooks/github",
			want:   notFound{Error: "unknown endpoint", Path: "/hooks/github", Served: []string{"/hooks/gh"}},
		},
		{
			name:   "ListIsBoundedWithACountOfTheRest",
			specs:  many,
			target: "/hooks/nope",
			want: notFound{Error: "unknown endpoint", Path: "/hooks/nope", ServedMore: 5, Served: func() []string {
				var s []string
				for i := range 20 {
					s = append(s, fmt.Sprintf("/hooks/ep%02d", i))
				}
				return s
			}()},
		},
		{
			name:    "TriggerDevKeepsItsOwnBody",
			profile: sim.TriggerDevV2,
			specs:   []sim.EndpointSpec{ghSpec(trig("all", ""))},
			target:  "/hooks/nope",
			wantRaw: `{"error":true,"message":"Could not find http endpoint"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _ := newIngress(t, sim.Config{Profile: tt.profile}, tt.specs...)
			var h http.Handler = in
			if tt.handler {
				h = sim.Handler(in)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, request("POST", tt.target, `{}`))
			assert.Equal(t, http.StatusNotFound, w.Code)
			body := w.Body.String()
			assert.NotContains(t, body, secret)
			if tt.wantRaw != "" {
				assert.Equal(t, tt.wantRaw, strings.TrimSpace(body))
				return
			}
			var got notFound
			require.NoError(t, json.Unmarshal([]byte(body), &got), "body %s", body)
			assert.Equal(t, tt.want, got)
		})
	}
}
