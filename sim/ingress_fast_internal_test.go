package sim

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadAtMostIsReadAllOfALimitReader checks the body reader against
// io.ReadAll(io.LimitReader(r, n)) for declared lengths that are right,
// short, long and absent, and readers that return a byte at a time.
func TestReadAtMostIsReadAllOfALimitReader(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 300) // 3,000 bytes
	for _, tc := range []struct {
		name     string
		body     []byte
		declared int64
		n        int64
	}{
		{"declared length", body, 3000, 10001},
		{"no declared length", body, -1, 10001},
		{"declared too short", body, 100, 10001},
		{"declared too long", body, 5000, 10001},
		{"over the limit", body, 3000, 2001},
		{"at the limit", body, 3000, 3000},
		{"empty", nil, 0, 10001},
		{"empty, no declared length", nil, -1, 10001},
		{"larger than the preallocation", bytes.Repeat(body, 30), 90000, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := io.ReadAll(io.LimitReader(bytes.NewReader(tc.body), tc.n))
			require.NoError(t, err)
			for _, dst := range [][]byte{nil, make([]byte, 0, 16), bytes.Repeat([]byte{'#'}, 4096)} {
				for _, r := range []io.Reader{bytes.NewReader(tc.body), iotest.OneByteReader(bytes.NewReader(tc.body))} {
					got, err := readAtMost(r, tc.declared, tc.n, dst)
					require.NoError(t, err)
					assert.Equal(t, len(want), len(got))
					assert.True(t, bytes.Equal(want, got))
				}
			}
		})
	}
	t.Run("a read error is returned", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := readAtMost(io.MultiReader(bytes.NewReader(body[:10]), iotest.ErrReader(boom)), 3000, 10001, nil)
		assert.ErrorIs(t, err, boom)
	})
}

// TestCloneWithHostIsCloneThenSet checks the one-allocation header copy
// against Header.Clone followed by Set("Host", host), and that the copy
// shares nothing with the original.
func TestCloneWithHostIsCloneThenSet(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header http.Header
		host   string
	}{
		{"headers and a host", http.Header{"Content-Type": {"application/json"}, "Accept": {"a", "b"}}, "example.com"},
		{"a Host header is replaced", http.Header{"Host": {"other"}, "X-A": {"1"}}, "example.com"},
		{"no host", http.Header{"X-A": {"1"}}, ""},
		{"a nil value stays nil", http.Header{"X-Nil": nil, "X-A": {"1"}}, "example.com"},
		{"an empty header", http.Header{}, "example.com"},
		{"an empty header, no host", http.Header{}, ""},
		{"many headers", func() http.Header {
			h := http.Header{}
			for _, k := range strings.Fields("A B C D E F G H I J K L") {
				h["X-"+k] = []string{k, k + k}
			}
			return h
		}(), "example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.header.Clone()
			if tc.host != "" {
				want.Set("Host", tc.host)
			}
			got := cloneWithHost(tc.header, tc.host)
			assert.Equal(t, want, got)
			for k, vs := range got {
				if len(vs) > 0 {
					vs[0] = "changed"
					if ov := tc.header[k]; len(ov) > 0 {
						assert.NotEqual(t, "changed", ov[0], "the copy shares %s with the original", k)
					}
				}
			}
		})
	}
	assert.Nil(t, cloneWithHost(nil, ""), "a nil header without a host stays nil, as Clone")
	assert.Equal(t, http.Header{"Host": {"h"}}, cloneWithHost(nil, "h"))
}

// TestAppendJSONStringIsEncodingJSON checks the answer's string encoder
// against json.Marshal, escapes and invalid UTF-8 included.
func TestAppendJSONStringIsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "gh", "a-b_c.d~e", `q"uote`, `back\slash`, "<html>&", "tab\tnl\n", "é", "\u2028\u2029", "\xff\xfe", "\x00"} {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(appendJSONString(nil, s)), "%q", s)
		assert.Equal(t, "x"+string(want), string(appendJSONString([]byte("x"), s)), "%q after a byte", s)
	}
}

// TestStrictAnswerIsTheJSONItWas checks the answer built by hand against
// the encoding/json struct it replaced, for no, one and many triggers and
// ids that need escaping.
func TestStrictAnswerIsTheJSONItWas(t *testing.T) {
	for _, ids := range [][]string{{}, {"opened"}, {"a", "b<c>", `q"d`, "é"}, manyIDs(20)} {
		want, err := json.Marshal(struct {
			OK        bool     `json:"ok"`
			Endpoint  string   `json:"endpoint"`
			Triggered []string `json:"triggered"`
		}{true, "gh", ids})
		require.NoError(t, err)
		var specs []TriggerSpec
		for _, id := range ids {
			specs = append(specs, TriggerSpec{ID: id})
		}
		in, err := NewIngress(Config{}, EndpointSpec{ID: "gh", Triggers: specs})
		require.NoError(t, err)
		defer in.Close()
		w := &bufferWriter{header: http.Header{}}
		r, err := http.NewRequest(http.MethodPost, "http://example.com/hooks/gh", strings.NewReader(`{}`))
		require.NoError(t, err)
		in.ServeHTTP(w, r)
		assert.Equal(t, string(want)+"\n", w.body.String())
		assert.Equal(t, "application/json; charset=utf-8", w.header.Get("Content-Type"))
	}
	assert.Equal(t, "triggered 3", triggeredNote(3))
	assert.Equal(t, "triggered 40", triggeredNote(40))
}

// manyIDs returns n distinct trigger ids.
func manyIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "t" + strconv.Itoa(i)
	}
	return ids
}

// bufferWriter is a ResponseWriter that keeps the body.
type bufferWriter struct {
	header http.Header
	body   bytes.Buffer
	status int
}

func (w *bufferWriter) Header() http.Header         { return w.header }
func (w *bufferWriter) Write(b []byte) (int, error) { return w.body.Write(b) }
func (w *bufferWriter) WriteHeader(code int)        { w.status = code }

// TestNewIDIsTimeThenRandomHex checks a delivery id's form: 32 lower-case
// hex digits, the first 12 the milliseconds, the rest from IDSource.
func TestNewIDIsTimeThenRandomHex(t *testing.T) {
	at := time.UnixMilli(0x0123456789ab)
	random := bytes.Repeat([]byte{0xfe, 0xdc, 0xba, 0x98, 0x76}, 2)
	d := newDeliverer(delivererConfig{Now: func() time.Time { return at }, IDSource: bytes.NewReader(random)})
	defer d.Close()
	id := d.newID(at)
	assert.Equal(t, "0123456789ab"+hex.EncodeToString(random), id)
	another := d.newID(at) // the source is spent: the fallback counter
	assert.Len(t, another, 32)
	assert.NotEqual(t, id, another)
	_, err := hex.DecodeString(another)
	assert.NoError(t, err)
}
