package load_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/load"
)

// TestOwnClientSendsAndMeasuresAsNetHTTP sends the same requests with the
// attacker's own client and with net/http (load.Client): the target sees
// the same requests (but for net/http's Accept-Encoding) and the Results
// say the same.
func TestOwnClientSendsAndMeasuresAsNetHTTP(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, uri, host string
		header            http.Header
		body              string
	}
	tests := []struct {
		name   string
		status int
		answer string
		src    func(url string) load.Source
	}{
		{"BodySourceTriggered", 200, `{"triggered":["a","b"]}`, func(url string) load.Source {
			s, err := load.BodySource(signer.GitHub(), signer.Keys("s"), "", url+"/hook?x=1", http.Header{"X-GitHub-Event": {"push"}}, []byte(`{"a":1}`))
			require.NoError(t, err)
			return s
		}},
		{"BodySourceFailure", 401, `{"error":"bad signature"}`, func(url string) load.Source {
			s, err := load.BodySource(signer.GitHub(), signer.Keys("s"), "PUT", url+"/hook", nil, []byte(`{}`))
			require.NoError(t, err)
			return s
		}},
		{"SourceFuncWithHostAndLowercaseHeader", 202, `{"triggered":[]}`, func(url string) load.Source {
			return load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/p?q=1", nil)
				if err != nil {
					return nil, err
				}
				req.Host = "hooks.example.test"
				req.Header["x-lower"] = []string{"v"}
				req.Header.Set(sim.RequestIDHeader, "id-"+strconv.FormatUint(seq, 10))
				return req, nil
			})
		}},
		{"GetWithoutBody", 200, `not json`, func(url string) load.Source {
			return load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
				return http.NewRequestWithContext(ctx, http.MethodGet, url+"/", nil)
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []seen
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				h := r.Header.Clone()
				h.Del("Accept-Encoding")
				for _, k := range []string{"X-Hub-Signature-256", "X-Hub-Signature", "X-Github-Delivery", sim.RequestIDHeader} {
					if h.Get(k) != "" {
						h.Set(k, "(varies)")
					}
				}
				mu.Lock()
				got = append(got, seen{r.Method, r.RequestURI, r.Host, h, string(b)})
				mu.Unlock()
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.answer)
			})
			run := func(opts ...load.Option) []*load.Result {
				return collect(load.NewAttacker(opts...).Attack(context.Background(), tt.src(srv.URL), load.Constant{Rate: 10}, 50*time.Millisecond))
			}
			own := run()
			std := run(load.Client(&http.Client{}))
			require.Len(t, own, 1)
			require.Len(t, std, 1)
			require.Len(t, got, 2)
			assert.Equal(t, got[1], got[0], "the request the target saw (net/http's, own client's)")
			o, s := own[0], std[0]
			assert.Equal(t, s.Status, o.Status, "Status")
			assert.Equal(t, s.BytesIn, o.BytesIn, "BytesIn")
			assert.Equal(t, s.BytesOut, o.BytesOut, "BytesOut")
			assert.Equal(t, s.Triggered, o.Triggered, "Triggered")
			assert.Equal(t, s.Body, o.Body, "Body")
			assert.Equal(t, s.ErrorKind, o.ErrorKind, "ErrorKind")
			assert.Equal(t, s.ID != "", o.ID != "", "ID set")
			assert.Equal(t, tt.status, o.Status)
		})
	}
}

func TestOwnClientInvalidHeaderIsABuildError(t *testing.T) {
	t.Parallel()
	srv := newServer(t, okHandler)
	src := load.SourceFunc(func(ctx context.Context, seq uint64) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
		req.Header["X-Bad"] = []string{"a\r\nX-Injected: 1"}
		return req, err
	})
	rs := collect(load.NewAttacker().Attack(context.Background(), src, load.Constant{Rate: 10}, 50*time.Millisecond))
	require.Len(t, rs, 1)
	assert.Equal(t, load.ErrBuild, rs[0].ErrorKind, "ErrorKind (error %q)", rs[0].Error)
	assert.Contains(t, rs[0].Error, `invalid header field value for "X-Bad"`)
	assert.Zero(t, rs[0].BytesOut, "BytesOut")
}
