package load_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim/load"
)

func TestKeepRequests(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
	}))
	defer srv.Close()
	src, err := load.BodySource(signer.GitHub(), signer.Keys("s"), "", srv.URL+"/hook?x=1", nil, []byte(`{"a":1}`))
	require.NoError(t, err)
	for _, keep := range []bool{false, true} {
		t.Run(map[bool]string{false: "Off", true: "On"}[keep], func(t *testing.T) {
			got = nil
			a := load.NewAttacker(load.Workers(1), load.KeepRequests(keep))
			var results []*load.Result
			for r := range a.Attack(context.Background(), src, nil, 50*time.Millisecond) {
				results = append(results, r)
			}
			require.NotEmpty(t, results)
			for _, r := range results {
				require.True(t, r.OK(), "status %d", r.Status)
				if !keep {
					assert.Nil(t, r.Request, "Request without KeepRequests")
					continue
				}
				require.NotNil(t, r.Request)
				assert.Equal(t, "POST", r.Request.Method)
				assert.Equal(t, srv.URL+"/hook?x=1", r.Request.URL)
				assert.Equal(t, `{"a":1}`, string(r.Request.Body), "kept body")
				assert.True(t, strings.HasPrefix(r.Request.Header.Get("X-Hub-Signature-256"), "sha256="), "kept signature header")
			}
			// The body still went out whole.
			for _, b := range got {
				assert.Equal(t, `{"a":1}`, b, "body received")
			}
		})
	}
}

// BenchmarkKeepRequests measures load --out's cost of keeping each request:
// closed loop against a local target, results encoded as JSON lines, with
// and without KeepRequests. Compare the two sub-benchmarks' ns/op (a ratio
// from the same run).
func BenchmarkKeepRequests(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer srv.Close()
	body := []byte(strings.Repeat(`{"k":"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"},`, 40))
	src, err := load.BodySource(signer.GitHub(), signer.Keys("s"), "", srv.URL+"/hook", nil, body)
	require.NoError(b, err)
	for _, keep := range []bool{false, true} {
		b.Run(map[bool]string{false: "Off", true: "On"}[keep], func(b *testing.B) {
			enc := load.NewEncoder(io.Discard)
			a := load.NewAttacker(load.Workers(4), load.KeepRequests(keep))
			var n int
			b.ResetTimer()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for r := range a.Attack(ctx, src, nil, time.Hour) {
				enc.Encode(r)
				n++
				if n == b.N {
					a.Stop()
				}
			}
			enc.Flush()
		})
	}
}

// BenchmarkKeepRequestsCPU measures the per-request CPU that KeepRequests
// adds without the network: build a signed request, keep it (or not) and
// encode its Result as a JSON line.
func BenchmarkKeepRequestsCPU(b *testing.B) {
	body := []byte(strings.Repeat(`{"k":"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"},`, 40))
	src, err := load.BodySource(signer.GitHub(), signer.Keys("s"), "", "http://127.0.0.1:1/hook", nil, body)
	require.NoError(b, err)
	for _, keep := range []bool{false, true} {
		b.Run(map[bool]string{false: "Off", true: "On"}[keep], func(b *testing.B) {
			enc := load.NewEncoder(io.Discard)
			for i := 0; b.Loop(); i++ {
				req, err := src.Request(context.Background(), uint64(i))
				if err != nil {
					b.Fatal(err)
				}
				r := &load.Result{Seq: uint64(i), Status: 200}
				if keep {
					if r.Request, err = load.CaptureRequest(req); err != nil {
						b.Fatal(err)
					}
				}
				enc.Encode(r)
			}
			enc.Flush()
		})
	}
}
