package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/signer"
)

// DefaultMaxBody is the largest request body an endpoint accepts, in bytes,
// unless its spec sets MaxBody. Past it the ingress answers 413.
const DefaultMaxBody = 1 << 20

// ErrInvalidSpec is wrapped by every error that rejects an EndpointSpec.
var ErrInvalidSpec = errors.New("invalid endpoint spec")

// An EndpointSpec declares one webhook endpoint: how requests to it are
// verified, which requests it answers itself (respondWith) and which
// triggers each request wakes. It is the one declaration shared by the
// reference Ingress, hooklab serve, the conformance suite and the load
// generator. The zero value is not valid: ID is required.
//
// An EndpointSpec is plain data; its JSON form is the spec file format and
// the body of the conformance control API (see conformance/PROTOCOL.md).
type EndpointSpec struct {
	// ID names the endpoint; the reference ingress serves it at
	// /hooks/<ID>. Letters, digits and "-._~" only.
	ID string `json:"id"`
	// Source is the provider's domain ("github.com"), as in Trigger.dev's
	// defineHttpEndpoint. Informational.
	Source string `json:"source,omitempty"`
	// Title is the endpoint's name for people, as in Trigger.dev's
	// defineHttpEndpoint({title}); at most MaxTitle bytes. The inspector
	// (hooklab serve --ui) shows it on the endpoint's card. Informational.
	Title string `json:"title,omitempty"`
	// Icon names the endpoint's icon, as in defineHttpEndpoint({icon}):
	// a provider ("github", "stripe", "slack") or any name of at most 32
	// lower-case letters, digits and "-", which the inspector shows as a
	// letter badge. Informational.
	Icon string `json:"icon,omitempty"`
	// Verify says how requests are verified. Nil accepts every request
	// unverified.
	Verify *VerifySpec `json:"verify,omitempty"`
	// RespondWith is the endpoint's own answer to matching requests
	// (handshakes). Nil: no request is answered early.
	RespondWith *RespondWithSpec `json:"respondWith,omitempty"`
	// Triggers are woken by every verified request their filter matches.
	Triggers []TriggerSpec `json:"triggers,omitempty"`
	// MaxBody is the largest accepted body in bytes, at most 1 GiB; 0 means
	// DefaultMaxBody.
	MaxBody int64 `json:"maxBody,omitempty"`
	// Dedup makes the endpoint idempotent: a verified delivery whose id it
	// has taken within the window is answered 200 and wakes no trigger.
	// Nil: every request is a new event (Trigger.dev's behaviour for
	// requests with distinct ids). Strict profile only.
	Dedup *DedupSpec `json:"dedup,omitempty"`
	// Examples are example payloads of the endpoint, as in Trigger.dev's
	// defineHttpEndpoint({examples}): hooklab send --example fires one,
	// signed for this endpoint, and hooklab serve checks at start that
	// each is accepted. The ingress and the conformance suite ignore them.
	Examples []ExampleSpec `json:"examples,omitempty"`
}

// A VerifySpec names the signature scheme of an endpoint and its secrets.
// Exactly one of Preset and Scheme is set.
//
// Its JSON form carries the secrets in clear ("secret" for one, "secrets"
// for a rotation set, newest first): it is the wire format of spec files
// and of the control API. Printing a VerifySpec with fmt never shows them.
type VerifySpec struct {
	// Preset is a signer preset name ("github", "stripe").
	Preset string
	// Scheme is a custom scheme, used when Preset is empty.
	Scheme *signer.Scheme
	// Secrets verify a request if any one of them does.
	Secrets signer.KeySet
	// Tolerance overrides the scheme's accepted clock skew; zero keeps the
	// scheme's default.
	Tolerance time.Duration
}

type verifySpecJSON struct {
	Preset    string         `json:"preset,omitempty"`
	Scheme    *signer.Scheme `json:"scheme,omitempty"`
	Secret    *string        `json:"secret,omitempty"`
	Secrets   []string       `json:"secrets,omitempty"`
	SecretEnv string         `json:"secretEnv,omitempty"`
	Tolerance string         `json:"tolerance,omitempty"`
}

// MarshalJSON writes the spec's wire form, secrets in clear.
func (v VerifySpec) MarshalJSON() ([]byte, error) {
	j := verifySpecJSON{Preset: v.Preset, Scheme: v.Scheme}
	for _, k := range v.Secrets {
		j.Secrets = append(j.Secrets, string(k.Bytes()))
	}
	if v.Tolerance != 0 {
		j.Tolerance = v.Tolerance.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the wire form: "preset" or "scheme"; the secrets
// as "secret", "secrets" (newest first) or "secretEnv", the name of an
// environment variable that holds them (comma-separated, newest first),
// so that a spec file need not hold a secret; and "tolerance" as a Go
// duration ("5m", "300s").
func (v *VerifySpec) UnmarshalJSON(data []byte) error {
	var j verifySpecJSON
	if err := strictUnmarshal(data, &j); err != nil {
		return err
	}
	*v = VerifySpec{Preset: j.Preset, Scheme: j.Scheme}
	n := 0
	for _, set := range []bool{j.Secret != nil, j.Secrets != nil, j.SecretEnv != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return errors.New(`more than one of "secret", "secrets" and "secretEnv"`)
	}
	if j.Secret != nil {
		j.Secrets = []string{*j.Secret}
	}
	if j.SecretEnv != "" {
		// A rotation set in one variable is comma-separated, newest first.
		val, ok := os.LookupEnv(j.SecretEnv)
		if !ok || val == "" {
			return fmt.Errorf("secretEnv: environment variable %s is not set", j.SecretEnv)
		}
		j.Secrets = strings.Split(val, ",")
	}
	v.Secrets = signer.Keys(j.Secrets...)
	if j.Tolerance != "" {
		d, err := time.ParseDuration(j.Tolerance)
		if err != nil {
			return fmt.Errorf("tolerance: %q is not a duration such as \"5m\"", j.Tolerance)
		}
		v.Tolerance = d
	}
	return nil
}

// Format prints the spec with its secrets redacted, whatever the verb.
func (v VerifySpec) Format(f fmt.State, _ rune) {
	name := v.Preset
	if name == "" && v.Scheme != nil {
		name = v.Scheme.Name
	}
	fmt.Fprintf(f, "{%s secrets:%d tolerance:%s}", name, len(v.Secrets), v.Tolerance)
}

// LogValue logs the spec with its secrets redacted (slog's JSON handler
// would otherwise call MarshalJSON, the wire form).
func (v VerifySpec) LogValue() slog.Value { return slog.StringValue(fmt.Sprint(v)) }

// LogValue logs the spec with its secrets redacted.
func (s EndpointSpec) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("id", s.ID), slog.Int("triggers", len(s.Triggers))}
	if s.Verify != nil {
		attrs = append(attrs, slog.Any("verify", *s.Verify))
	}
	return slog.GroupValue(attrs...)
}

// A RespondWithSpec is the endpoint's early answer, Trigger.dev's
// respondWith: when Filter matches a request, the ingress answers with
// Response; with SkipTriggering it then stops, otherwise it goes on to
// verify and trigger as usual and answers with Response.
type RespondWithSpec struct {
	// Filter is a Trigger.dev RequestFilter in JSON; a request must match it
	// for Response to be used. Required, as in Trigger.dev, where without a
	// filter the handler is never called.
	Filter json.RawMessage `json:"filter"`
	// SkipTriggering answers with Response and triggers nothing.
	SkipTriggering bool `json:"skipTriggering,omitempty"`
	// Response is the declared answer.
	Response ResponseSpec `json:"response"`
}

// A ResponseSpec is a declared HTTP response. Header values and Body are
// Go text/template templates evaluated against the request, with these
// functions:
//
//	{{query "hub.challenge"}}        a query parameter (last value)
//	{{header "X-Name"}}              a request header (first value)
//	{{body "event.challenge"}}       a gjson path into the JSON body, as text
//	{{hmac "sha256" VALUE}}          hex HMAC of VALUE keyed with the
//	                                 endpoint's newest secret (sha1, sha256,
//	                                 sha512; "sha256b64" for base64)
//	{{json VALUE}}                   VALUE as a JSON string literal
//	{{method}} {{rawBody}}           the request method and body
//
// and the builtins and, or, not and len; ranges only over an integer
// constant; no define, template or block.
//
// hmac signs only an opaque token, 1 to 256 characters of A-Z, a-z, 0-9,
// "_" and "-" (Zoom's plainToken is one), and refuses anything else, so
// that a handshake, answered before verification, is never a signing
// oracle: otherwise a request whose token is a signature's message
// (Zoom's "v0:<timestamp>:<body>") gets back a valid signature for a
// forged event. A request so refused is answered 400.
//
// A rendered response is bounded: a body of at most 1 MiB, templated
// header values of at most 8 KiB together, at most 16 MiB read or
// produced by the functions, and at most 10,000 actions (checked when
// the spec is compiled; ranges multiply the actions inside them). Past a
// bound the request is answered 500 and nothing is triggered.
//
// Zoom's endpoint.url_validation, for example, is
//
//	{"plainToken":{{json (body "payload.plainToken")}},"encryptedToken":{{json (hmac "sha256" (body "payload.plainToken"))}}}
type ResponseSpec struct {
	// Status is the status code; 0 means 200.
	Status int `json:"status,omitempty"`
	// Headers are set on the response.
	Headers map[string]string `json:"headers,omitempty"`
	// Body is the body template.
	Body string `json:"body,omitempty"`
}

// A TriggerSpec is one consumer of an endpoint: a Trigger.dev onRequest
// trigger. Every verified request its filter matches is delivered to it
// exactly once.
type TriggerSpec struct {
	// ID names the trigger in deliveries and in the ingress's answer.
	ID string `json:"id"`
	// Filter is a Trigger.dev RequestFilter in JSON. Empty matches every
	// request.
	Filter json.RawMessage `json:"filter,omitempty"`
	// Deliver is the URL a Delivery envelope is POSTed to (a Sink). Empty:
	// deliveries go only to the ingress's Recorder.
	Deliver string `json:"deliver,omitempty"`
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

// Validate reports the first problem with the spec, naming its JSON path
// ("triggers[1].filter.body.action: ..."). Every returned error wraps
// ErrInvalidSpec.
func (s EndpointSpec) Validate() error {
	if _, err := compile(s, nil); err != nil {
		return err
	}
	return s.validateExamples()
}

// specError is a problem at a JSON path inside one spec.
type specError struct {
	Path string
	Err  error
}

func (e *specError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

func (e *specError) Unwrap() []error { return []error{e.Err, ErrInvalidSpec} }

func specErrorf(path, format string, args ...any) error {
	return &specError{Path: path, Err: fmt.Errorf(format, args...)}
}

// filterPath joins a spec path and a matcher ParseError path.
func filterError(path string, err error) error {
	var pe *matcher.ParseError
	if errors.As(err, &pe) {
		p := path
		if pe.Path != "" {
			p += "." + pe.Path
		}
		return &specError{Path: p, Err: errors.New(pe.Msg)}
	}
	return &specError{Path: path, Err: err}
}

// resolveScheme returns the scheme a VerifySpec names.
func (v *VerifySpec) resolveScheme(path string) (signer.Scheme, error) {
	switch {
	case v.Preset != "" && v.Scheme != nil:
		return signer.Scheme{}, specErrorf(path, `both "preset" and "scheme"`)
	case v.Preset != "":
		s, err := signer.Preset(v.Preset)
		if err != nil {
			return signer.Scheme{}, specErrorf(path+".preset", "unknown preset %q (hooklab presets lists them)", v.Preset)
		}
		return s, nil
	case v.Scheme != nil:
		if err := v.Scheme.Validate(); err != nil {
			return signer.Scheme{}, &specError{Path: path + ".scheme", Err: err}
		}
		return *v.Scheme, nil
	}
	return signer.Scheme{}, specErrorf(path, `want "preset" or "scheme"`)
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
