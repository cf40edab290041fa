package conformance_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// repeatedHeaderTarget is the reference ingress, except for a request
// whose signature header comes twice: then handle decides what happens,
// given the reference (next) and the header's name.
func repeatedHeaderTarget(handle func(w http.ResponseWriter, r *http.Request, next http.Handler, header string)) conformance.Target {
	return conformance.HandlerTarget(func(spec sim.EndpointSpec) (http.Handler, error) {
		in, err := sim.NewIngress(sim.Config{}, spec)
		if err != nil {
			return nil, err
		}
		header := ""
		if spec.Verify != nil {
			if s, err := signer.Preset(spec.Verify.Preset); err == nil {
				header = s.Header
			}
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if header != "" && len(r.Header.Values(header)) > 1 {
				handle(w, r, in, header)
				return
			}
			in.ServeHTTP(w, r)
		}), nil
	})
}

// keepValue returns r with only the i-th value of the header (i < 0
// counts from the end).
func keepValue(r *http.Request, header string, i int) *http.Request {
	vs := r.Header.Values(header)
	if i < 0 {
		i += len(vs)
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set(header, vs[i])
	return r2
}

// TestDuplicatedHeaderJudgesTheOutcome shows what Verify/DuplicatedHeader
// takes of a receiver given a signature header twice: a bogus value then
// the valid one may be accepted and delivered once, or rejected and not
// delivered (the first value alone, as Go's Header.Get reads it); never
// accepted without its delivery, delivered while rejected, or answered
// with something that is neither; and two bogus values must be rejected.
func TestDuplicatedHeaderJudgesTheOutcome(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a case over every preset once per row; skipped with -short")
	}
	tests := []struct {
		name   string
		handle func(w http.ResponseWriter, r *http.Request, next http.Handler, header string)
		want   string // in a problem; "" for a pass
	}{
		{"ListOfCandidates", func(w http.ResponseWriter, r *http.Request, next http.Handler, _ string) {
			next.ServeHTTP(w, r) // the reference tries every value
		}, ""},
		{"FirstValueOnly", func(w http.ResponseWriter, r *http.Request, next http.Handler, header string) {
			next.ServeHTTP(w, keepValue(r, header, 0))
		}, ""},
		{"LastValueOnly", func(w http.ResponseWriter, r *http.Request, next http.Handler, header string) {
			next.ServeHTTP(w, keepValue(r, header, -1))
		}, ""},
		{"TwoBogusAccepted", func(w http.ResponseWriter, r *http.Request, _ http.Handler, _ string) {
			// 200 to any repeated header: two bogus values are not
			// rejected.
			w.WriteHeader(http.StatusOK)
		}, "sent twice, both values bogus, generic JSON body): status = 200, want 401"},
		{"AcceptedWithoutDelivery", func(w http.ResponseWriter, r *http.Request, _ http.Handler, _ string) {
			w.WriteHeader(http.StatusOK)
		}, "deliveries to all = 0, want 1"},
		{"DeliveredWhileRejected", func(w http.ResponseWriter, r *http.Request, next http.Handler, header string) {
			next.ServeHTTP(httptest.NewRecorder(), keepValue(r, header, -1))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"invalid signature"}`))
		}, "deliveries to all = 1, want 0"},
		{"ServerError", func(w http.ResponseWriter, r *http.Request, _ http.Handler, _ string) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, "status = 500, want the answer of an accepted request (2xx, then delivered once) or of a rejected one (401, nothing delivered)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, err := conformance.Check(t.Context(), repeatedHeaderTarget(tt.handle), conformance.Select("^Verify/DuplicatedHeader$"))
			require.Len(t, rep.Cases, 1)
			c := rep.Cases[0]
			if tt.want == "" {
				assert.NoError(t, err)
				assert.Equal(t, conformance.StatusPass, c.Status, "Verify/DuplicatedHeader problems:\n%s", strings.Join(c.Problems, "\n"))
				return
			}
			require.Error(t, err, "Check(%s) = nil error, want Verify/DuplicatedHeader to fail", tt.name)
			require.Equal(t, conformance.StatusFail, c.Status)
			assert.Contains(t, strings.Join(c.Problems, "\n"), tt.want)
		})
	}
}
