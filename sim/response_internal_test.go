package sim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/signer"
)

// zoomTemplate is Zoom's endpoint.url_validation answer.
const zoomTemplate = `{"plainToken":{{json (body "payload.plainToken")}},"encryptedToken":{{json (hmac "sha256" (body "payload.plainToken"))}}}`

// newTestResponder compiles a respondWith answering every request with
// body, keyed with a secret.
func newTestResponder(t *testing.T, resp ResponseSpec) *responder {
	t.Helper()
	rs, err := newResponder(&RespondWithSpec{Filter: json.RawMessage(`{}`), SkipTriggering: true, Response: resp},
		&VerifySpec{Preset: "zoom", Secrets: signer.Keys("zoom-secret-token")})
	if err != nil {
		t.Fatalf("newResponder: %v", err)
	}
	return rs
}

// TestRenderHMACSignsOnlyOpaqueTokens checks that hmac signs a plainToken
// shaped as Zoom's (and any 1 to 256 characters of A-Z a-z 0-9 _ -) and
// refuses, with an error wrapping errRequestInput, anything else: above
// all Zoom's signed message "v0:<ts>:<body>", which would make the
// handshake a signing oracle for forged events.
func TestRenderHMACSignsOnlyOpaqueTokens(t *testing.T) {
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"ZoomDocsExample", "qgg8vlvZRS6UYooatFL8Aw", true},
		{"Base64URLAlphabet", "a-b_C-9", true},
		{"Longest", strings.Repeat("x", 256), true},
		{"ZoomSignedMessage", `v0:1700000000:{"event":"meeting.started","payload":{"object":{"id":"1"}}}`, false},
		{"StripeSignedMessage", `1700000000.{"id":"evt_1"}`, false},
		{"JSONBody", `{"a":1}`, false},
		{"Empty", "", false},
		{"TooLong", strings.Repeat("x", 257), false},
		{"Base64Padding", "qgg8vlvZRS6UYooatFL8Aw==", false},
		{"Space", "a b", false},
		{"NonASCII", "tökén", false},
	}
	rs := newTestResponder(t, ResponseSpec{Body: zoomTemplate})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, _ := json.Marshal(tt.token)
			body := []byte(`{"payload":{"plainToken":` + string(tok) + `},"event":"endpoint.url_validation"}`)
			d, err := rs.render(matcher.Request{Method: http.MethodPost, URL: "http://h/hooks/z", Header: http.Header{}, Body: body})
			if tt.ok {
				if err != nil {
					t.Fatalf("render(plainToken %q) = %v, want the answer", tt.token, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("render(plainToken %.40q) = %q, want an error wrapping errRequestInput", tt.token, d.body)
			}
			if !errors.Is(err, errRequestInput) || errors.Is(err, errResponseTooLarge) {
				t.Errorf("render(plainToken %.40q) = %v, want an error wrapping errRequestInput only", tt.token, err)
			}
			if strings.Contains(err.Error(), "zoom-secret-token") || (len(tt.token) > 3 && strings.Contains(err.Error(), tt.token)) {
				t.Errorf("render(plainToken %.40q) = %q, quotes the secret or the refused value", tt.token, err)
			}
		})
	}
}

// TestRenderTooLargeWrapsTheSentinel checks that every bound of a render
// fails with an error wrapping errResponseTooLarge, and nothing else.
func TestRenderTooLargeWrapsTheSentinel(t *testing.T) {
	big := []byte(`{"a":"` + strings.Repeat("z", 300_000) + `"}`)
	// Each path is looked up once (then remembered), scanning the body.
	var scans string
	for i := range 60 {
		scans += `{{$x := body "missing` + strconv.Itoa(i) + `"}}`
	}
	tests := []struct {
		name string
		resp ResponseSpec
	}{
		{"Body", ResponseSpec{Body: `{{rawBody}}{{rawBody}}{{rawBody}}{{rawBody}}`}},
		{"Headers", ResponseSpec{Headers: map[string]string{"X-A": `{{len rawBody}}`, "X-B": `{{rawBody}}`}}},
		{"Work", ResponseSpec{Body: `{{range 100}}{{$x := json rawBody}}{{end}}`}},
		{"BodyScans", ResponseSpec{Body: scans}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newTestResponder(t, tt.resp)
			d, err := rs.render(matcher.Request{Method: http.MethodPost, URL: "http://h/hooks/z", Header: http.Header{}, Body: big})
			if err == nil {
				t.Fatalf("render = %d bytes, want an error wrapping errResponseTooLarge", len(d.body))
			}
			if !errors.Is(err, errResponseTooLarge) || errors.Is(err, errRequestInput) {
				t.Errorf("render = %v, want an error wrapping errResponseTooLarge only", err)
			}
		})
	}
}
