package matcher

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFetchHeaderIsTheFetchRecordsValue checks the direct header lookup
// that Match uses against fetchHeaders, the record Explain builds: where
// fetchHeader answers, it must give the record's value for the name.
func TestFetchHeaderIsTheFetchRecordsValue(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header http.Header
		key    string
		ok     bool // fetchHeader answers without the record
	}{
		{"one value", http.Header{"X-Github-Event": {"push"}}, "x-github-event", true},
		{"missing", http.Header{"X-Github-Event": {"push"}}, "x-other", true},
		{"nil header", nil, "x-github-event", true},
		{"value trimmed", http.Header{"X-Event": {" \tpush\r\n"}}, "x-event", true},
		{"values joined", http.Header{"Accept": {"a", " b "}}, "accept", true},
		{"set-cookie keeps the last", http.Header{"Set-Cookie": {"a=1", "b=2"}}, "set-cookie", true},
		{"latin-1 bytes", http.Header{"X-Name": {"\xc3\xa4"}}, "x-name", true},
		{"a name without values is no entry", http.Header{"X-Event": {}}, "x-event", true},
		{"non-canonical spelling", http.Header{"x-EVENT": {"push"}}, "x-event", true},
		{"two spellings are joined in sorted order", http.Header{"X-Event": {"a"}, "x-event": {"b"}}, "x-event", false},
		{"two spellings of set-cookie", http.Header{"Set-Cookie": {"a"}, "set-cookie": {"b"}}, "set-cookie", false},
		{"a non-ASCII name", http.Header{"X-Ä": {"a"}}, "x-ä", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := fetchHeader(tc.header, tc.key)
			require.Equal(t, tc.ok, ok)
			if !ok {
				return
			}
			want, defined := fetchHeaders(tc.header)[tc.key]
			if !defined {
				assert.Equal(t, kUndefined, got.kind())
				return
			}
			assert.Equal(t, kString, got.kind())
			assert.Equal(t, want, got.str())
		})
	}
}

// TestRequestFilterMatchAgreesWithExplain checks that Match (direct
// header lookup, raw-bytes body scan) and Explain (the fetch record, the
// gjson view) reach the same verdict.
func TestRequestFilterMatchAgreesWithExplain(t *testing.T) {
	filters := []string{
		`{"headers":{"x-event":["push"]}}`,
		`{"headers":{"x-event":[{"$startsWith":"pu"}],"accept":["a, b"]}}`,
		`{"headers":{"set-cookie":[{"$endsWith":"=2"}]}}`,
		`{"headers":{"x-name":["Ã¤"]}}`,
		`{"headers":{"x-event":[]}}`,
		`{"headers":{"x-event":[{"$ignoreCaseEquals":"PUSH"}]},"body":{"action":["opened"]}}`,
		`{"body":{"action":["opened"],"pull_request":{"draft":[false]}}}`,
		`{"body":{"n":[{"$gt":3}]}}`,
	}
	headers := []http.Header{
		{"X-Event": {"push"}, "Accept": {"a", "b"}, "Set-Cookie": {"a=1", "b=2"}},
		{"X-Event": {"a"}, "x-event": {"push"}},
		{"X-Name": {"\xc3\xa4"}},
		{"X-Event": {" PUSH "}},
		{},
	}
	bodies := []string{
		`{"action":"opened","pull_request":{"draft":false},"n":4}`,
		`{"action":"closed","n":2}`,
		`{"action":"opened",`,
		`[1,2]`,
		"\xef\xbb\xbf{\"action\":\"opened\"}",
		``,
	}
	for _, fs := range filters {
		f, err := ParseRequestFilter([]byte(fs))
		require.NoError(t, err)
		for hi, h := range headers {
			for _, b := range bodies {
				r := Request{Method: "POST", URL: "https://example.com/hook", Header: h, Body: []byte(b)}
				assert.Equal(t, f.Explain(r) == nil, f.Match(r), "filter %s, headers #%d, body %q", fs, hi, b)
			}
		}
	}
}

// FuzzFetchHeaderIsTheFetchRecordsValue checks fetchHeader against
// fetchHeaders for header maps built from arbitrary names and values.
func FuzzFetchHeaderIsTheFetchRecordsValue(f *testing.F) {
	f.Add("X-Event", "push", "x-event", "b", "x-event")
	f.Add("Set-Cookie", "a=1", "Set-Cookie", "b=2", "set-cookie")
	f.Add("X-\xc3\x84", " v ", "Accept", "", "accept")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, name string) {
		h := http.Header{}
		h[k1] = append(h[k1], v1)
		h[k2] = append(h[k2], v2)
		got, ok := fetchHeader(h, name)
		if !ok {
			return
		}
		want, defined := fetchHeaders(h)[name]
		if !defined {
			if got.kind() != kUndefined {
				t.Fatalf("fetchHeader(%q, %q) = %q, the record has no entry", h, name, got.str())
			}
			return
		}
		if got.kind() != kString || got.str() != want {
			t.Fatalf("fetchHeader(%q, %q) = %q, the record has %q", h, name, got.str(), want)
		}
	})
}
