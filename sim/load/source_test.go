package load_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/load"
)

// TestFixtureSourceSendsFixtureRequests checks that FixtureSource's
// request for slot seq is the fixture's Request with seed+seq and the
// overrides (compiled once), plus its request id; and that a source whose
// fixture cannot be compiled fails every request with Request's error.
func TestFixtureSourceSendsFixtureRequests(t *testing.T) {
	at := time.Unix(1700000000, 0).UTC()
	now := fixtures.Now(func() time.Time { return at })
	tests := []struct {
		name, fixture, target string
		keys                  signer.KeySet
		opts                  []fixtures.Option
		fails                 bool
	}{
		{"Plain", "github/pull_request", "http://127.0.0.1:9/hooks", signer.Keys("s"), []fixtures.Option{now}, false},
		{"Overrides", "stripe/checkout.session.completed", "http://127.0.0.1:9", signer.Keys("whsec_c2VjcmV0"),
			[]fixtures.Option{now, fixtures.Param("customer", "cus_123"), fixtures.Set("data.object.metadata.order", "42"), fixtures.Query("q", "1"), fixtures.Header("X-Test", "a")}, false},
		{"NoKeys", "github/ping", "http://127.0.0.1:9", nil, []fixtures.Option{now}, true},
		{"BadTarget", "github/ping", "127.0.0.1:9/hooks", signer.Keys("s"), []fixtures.Option{now}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := fixtures.Lookup(tt.fixture)
			require.NoError(t, err)
			src := load.FixtureSource(f, tt.target, tt.keys, 100, tt.opts...)
			for _, seq := range []uint64{0, 1, 7} {
				wantReq, wantErr := f.Request(context.Background(), tt.target, tt.keys, append([]fixtures.Option{fixtures.Seed(100 + int64(seq))}, tt.opts...)...)
				gotReq, gotErr := src.Request(context.Background(), seq)
				require.Equal(t, tt.fails, wantErr != nil, "seq %d: Fixture.Request's error: %v", seq, wantErr)
				if wantErr != nil {
					assert.EqualError(t, gotErr, wantErr.Error(), "seq %d", seq)
					continue
				}
				require.NoError(t, gotErr, "seq %d", seq)
				assert.NotEmpty(t, gotReq.Header.Get(sim.RequestIDHeader), "seq %d: request id", seq)
				gotReq.Header.Del(sim.RequestIDHeader)
				assert.Equal(t, wantReq.Method, gotReq.Method, "seq %d: method", seq)
				assert.Equal(t, wantReq.URL.String(), gotReq.URL.String(), "seq %d: URL", seq)
				assert.Equal(t, wantReq.Header, gotReq.Header, "seq %d: header", seq)
				assert.Equal(t, string(readAll(t, wantReq)), string(readAll(t, gotReq)), "seq %d: body", seq)
			}
		})
	}
}

func readAll(t *testing.T, r *http.Request) []byte {
	t.Helper()
	if r.Body == nil {
		return nil
	}
	b, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	return b
}
