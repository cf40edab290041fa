package conformance_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// TestReferenceOverHTTP runs the whole suite against the reference
// ingress through the control API of PROTOCOL.md, as an implementation in
// another language is run: every endpoint is created with POST /endpoints
// and removed with DELETE /endpoints/{id}, and every delivery envelope
// crosses HTTP to the suite's sink.
func TestReferenceOverHTTP(t *testing.T) {
	in, err := sim.NewIngress(sim.Config{})
	require.NoError(t, err)
	srv, err := sim.NewServer("", sim.ControlHandler(in, ""))
	require.NoError(t, err)
	t.Cleanup(func() {
		srv.Close()
		in.Close()
	})

	conformance.Run(t, conformance.HTTPTarget(srv.URL))

	assert.Empty(t, in.Endpoints(), "endpoints left after the run: each case must DELETE what it created")
}

// exampleSpec is a spec as a case would send it, with an obviously fake
// secret.
func exampleSpec() sim.EndpointSpec {
	return sim.EndpointSpec{
		ID:       "example-1",
		Verify:   &sim.VerifySpec{Preset: "github", Secrets: signer.Keys("whsec-example-NOT-A-REAL-SECRET")},
		Triggers: []sim.TriggerSpec{{ID: "all", Deliver: "http://127.0.0.1:9/deliveries"}},
	}
}

// TestHTTPTargetProvisionErrors checks that a control API that refuses a
// spec, answers nonsense or cannot be reached gives an error that says
// which call failed, with what status, and the implementation's reason.
func TestHTTPTargetProvisionErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		// control answers POST /endpoints; nil means nothing listens.
		control http.HandlerFunc
		want    []string
	}{
		{
			name: "400WithJSONReason",
			control: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":"invalid spec","reason":"verify.preset: unsupported preset \"github\""}`+"\n")
			},
			want: []string{"control API: POST ", "/endpoints = 400, want 201: ", `"error":"invalid spec"`, `unsupported preset \"github\"`},
		},
		{
			name: "500PlainText",
			control: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "database is down", http.StatusInternalServerError)
			},
			want: []string{"/endpoints = 500, want 201: database is down"},
		},
		{
			name: "201WithoutURL",
			control: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, `{"id":"example-1"}`)
			},
			want: []string{`/endpoints answered "{\"id\":\"example-1\"}", want {"url": …}`},
		},
		{
			name: "201NotJSON",
			control: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, "created")
			},
			want: []string{`/endpoints answered "created", want {"url": …}`},
		},
		{
			name: "Unreachable",
			want: []string{"control API: ", "dial tcp"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := closedURL(t)
			if tc.control != nil {
				mux := http.NewServeMux()
				mux.HandleFunc("POST "+sim.ControlPath, tc.control)
				srv := httptest.NewServer(mux)
				t.Cleanup(srv.Close)
				base = srv.URL
			}
			ep, err := conformance.HTTPTarget(base).Provision(context.Background(), exampleSpec())
			require.Error(t, err, "Provision = %+v", ep)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "whsec-example-NOT-A-REAL-SECRET")
			if tc.control == nil {
				var op *net.OpError
				assert.True(t, errors.As(err, &op) && op.Op == "dial", "Provision error %v does not wrap the *net.OpError of the dial", err)
			}
		})
	}
}

// TestHTTPTargetRealControlAPIRejects checks the reference control API's
// own 400: the reason names the JSON path of the problem, and the error
// carries it.
func TestHTTPTargetRealControlAPIRejects(t *testing.T) {
	in, err := sim.NewIngress(sim.Config{})
	require.NoError(t, err)
	srv, err := sim.NewServer("", sim.ControlHandler(in, ""))
	require.NoError(t, err)
	t.Cleanup(func() {
		srv.Close()
		in.Close()
	})
	spec := exampleSpec()
	spec.Verify.Preset = "gihub"
	_, err = conformance.HTTPTarget(srv.URL).Provision(context.Background(), spec)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/endpoints = 400, want 201: ")
	assert.Contains(t, err.Error(), `"error":"invalid spec"`)
	assert.Contains(t, err.Error(), `verify.preset: unknown preset \"gihub\"`)
	assert.NotContains(t, err.Error(), "whsec-example-NOT-A-REAL-SECRET")

	// The same spec twice: the second is a 409.
	_, err = conformance.HTTPTarget(srv.URL).Provision(context.Background(), exampleSpec())
	require.NoError(t, err)
	_, err = conformance.HTTPTarget(srv.URL).Provision(context.Background(), exampleSpec())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/endpoints = 409, want 201: ")
}

// TestHTTPTargetControlToken checks that ControlToken authenticates
// both control calls to a control API that requires a token, and that
// without it the target is refused with the API's 401.
func TestHTTPTargetControlToken(t *testing.T) {
	const token = "control-token-NOT-A-REAL-ONE"
	in, err := sim.NewIngress(sim.Config{})
	require.NoError(t, err)
	srv, err := sim.NewServer("", sim.ControlHandler(in, token))
	require.NoError(t, err)
	t.Cleanup(func() {
		srv.Close()
		in.Close()
	})
	tests := []struct {
		name    string
		opts    []conformance.HTTPOption
		wantErr string
	}{
		{"NoToken", nil, "/endpoints = 401, want 201"},
		{"WrongToken", []conformance.HTTPOption{conformance.ControlToken("wrong")}, "/endpoints = 401, want 201"},
		{"Token", []conformance.HTTPOption{conformance.ControlToken(token)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep, err := conformance.HTTPTarget(srv.URL, tt.opts...).Provision(context.Background(), exampleSpec())
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), token)
				assert.Empty(t, in.Endpoints())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{exampleSpec().ID}, in.Endpoints())
			require.NoError(t, ep.Close(), "DELETE with the token")
			assert.Empty(t, in.Endpoints())
		})
	}
}

// TestHTTPTargetCloseErrors checks that Endpoint.Close deletes the
// endpoint it made, and reports a DELETE the control API refuses.
func TestHTTPTargetCloseErrors(t *testing.T) {
	var mu sync.Mutex
	var deleted []string
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+sim.ControlPath, func(w http.ResponseWriter, r *http.Request) {
		var spec sim.EndpointSpec
		if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]string{"id": spec.ID, "url": "http://" + r.Host + sim.PathPrefix + spec.ID})
	})
	mux.HandleFunc("DELETE "+sim.ControlPath+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		deleted = append(deleted, r.PathValue("id"))
		mu.Unlock()
		if r.PathValue("id") == "gone" {
			http.Error(w, `{"error":"unknown endpoint"}`, http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	target := conformance.HTTPTarget(srv.URL + "/") // a trailing slash is allowed
	ep, err := target.Provision(context.Background(), exampleSpec())
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/hooks/example-1", ep.URL)
	require.NotNil(t, ep.Close)
	assert.NoError(t, ep.Close())

	gone := exampleSpec()
	gone.ID = "gone"
	ep, err = target.Provision(context.Background(), gone)
	require.NoError(t, err)
	err = ep.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "control API: DELETE "+srv.URL+"/endpoints/gone = 404, want 204")
	assert.Equal(t, []string{"example-1", "gone"}, deleted)
}

// TestCheckReportsControlAPIRefusal checks what a user of the CLI sees
// when the control API refuses every spec: each case fails, naming the
// call, the status and the implementation's reason, with the case's
// secret redacted even when the implementation echoes it back.
func TestCheckReportsControlAPIRefusal(t *testing.T) {
	var mu sync.Mutex
	var secrets []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var spec sim.EndpointSpec
		if json.Unmarshal(b, &spec) == nil && spec.Verify != nil {
			mu.Lock()
			for _, k := range spec.Verify.Secrets {
				secrets = append(secrets, string(k.Bytes()))
			}
			mu.Unlock()
		}
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid spec", "reason": "cannot store " + string(b)})
	}))
	t.Cleanup(srv.Close)

	rep, err := conformance.Check(context.Background(), conformance.HTTPTarget(srv.URL),
		conformance.Select(`^Robustness/(UnknownEndpoint|OversizeBody)$`))
	require.Error(t, err)
	var ce *conformance.CaseError
	require.True(t, errors.As(err, &ce), "Check error %v holds no *CaseError", err)
	passed, failed, skipped := rep.Counts()
	assert.Equal(t, [3]int{0, 2, 0}, [3]int{passed, failed, skipped}, "counts (passed, failed, skipped)")
	msg := err.Error()
	assert.Contains(t, msg, "conformance: Robustness/UnknownEndpoint:")
	assert.Contains(t, msg, "conformance: Robustness/OversizeBody:")
	assert.Contains(t, msg, "/endpoints = 400, want 201: ")
	assert.Contains(t, msg, "cannot store ")
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, secrets, "the control API saw no secret")
	for _, s := range secrets {
		assert.False(t, strings.Contains(msg, s), "Check error holds a case's secret:\n%s", msg)
	}
}

// closedURL returns the base URL of a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}
