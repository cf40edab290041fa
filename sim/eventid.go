package sim

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/hooklab/hooklab/signer"
)

// An IDSource is where a delivery carries the id that stays the same when
// the provider sends it again (a retry, a duplicate): a header, or a
// field of a JSON body. Exactly one of Header and Body is set.
type IDSource struct {
	// Header is a header name ("X-GitHub-Delivery", "webhook-id").
	Header string
	// Body is a dot-separated path into a JSON body ("id", "event-data.id"):
	// object keys of letters, digits, "_" and "-", at most 8 deep.
	Body string
}

// String returns the source in the syntax ParseIDSource reads:
// "header:NAME" or "body:PATH"; "" for the zero IDSource.
func (s IDSource) String() string {
	switch {
	case s.Header != "":
		return "header:" + s.Header
	case s.Body != "":
		return "body:" + s.Body
	}
	return ""
}

// IsZero reports whether s names no source.
func (s IDSource) IsZero() bool { return s == IDSource{} }

// ID returns the id a request carries at s; "" when it carries none. A
// body id must be a JSON string or number, at most MaxEventIDLen bytes,
// as must a header's first value.
func (s IDSource) ID(h http.Header, body []byte) string {
	var id string
	switch {
	case s.Header != "":
		id = h.Get(s.Header)
	case s.Body != "":
		r := gjson.GetBytes(body, s.Body)
		if r.Type != gjson.String && r.Type != gjson.Number {
			return ""
		}
		id = r.String()
		if r.Type == gjson.Number {
			id = r.Raw
		}
	}
	if len(id) > MaxEventIDLen {
		return ""
	}
	return id
}

// MaxEventIDLen is the longest id an IDSource returns, in bytes: a longer
// one counts as none, so that a remembered id costs bounded memory.
const MaxEventIDLen = 256

var (
	headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
	bodyPath   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$`)
)

// ParseIDSource reads "header:NAME" (an HTTP header name) or "body:PATH"
// (see IDSource.Body).
func ParseIDSource(s string) (IDSource, error) {
	kind, v, ok := strings.Cut(s, ":")
	switch {
	case ok && kind == "header":
		if !headerName.MatchString(v) {
			return IDSource{}, fmt.Errorf("%q is not a header name", v)
		}
		return IDSource{Header: http.CanonicalHeaderKey(v)}, nil
	case ok && kind == "body":
		if !bodyPath.MatchString(v) {
			return IDSource{}, fmt.Errorf("%q is not a body path: want keys of letters, digits, _ and - joined by dots, at most 8", v)
		}
		return IDSource{Body: v}, nil
	}
	return IDSource{}, errors.New(`want "header:NAME" or "body:PATH"`)
}

// presetIDSources says where each provider puts the id of an event that
// stays the same across its retries, for presets whose scheme signs no id
// header (those that do, Standard Webhooks and its kin, carry it there).
// Each row cites the provider's documentation.
var presetIDSources = map[string]IDSource{
	// https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers
	"github": {Header: "X-Github-Delivery"}, "github-sha1": {Header: "X-Github-Delivery"},
	// https://docs.gitlab.com/user/project/integrations/webhooks/#delivery-headers
	"gitlab": {Header: "Idempotency-Key"},
	// https://shopify.dev/docs/apps/build/webhooks/ignore-duplicates
	"shopify": {Header: "X-Shopify-Event-Id"},
	// https://linear.app/developers/webhooks#webhook-payload
	"linear": {Header: "Linear-Delivery"},
	// https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/
	"bitbucket": {Header: "X-Request-Uuid"},
	// https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides
	"twilio": {Header: "I-Twilio-Idempotency-Token"}, "twilio-json": {Header: "I-Twilio-Idempotency-Token"},
	// https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks
	"woocommerce": {Header: "X-Wc-Webhook-Delivery-Id"},
	// https://docs.sentry.io/organization/integrations/integration-platform/webhooks/
	"sentry": {Header: "Request-Id"},
	// https://docs.stripe.com/webhooks#handle-duplicate-events
	"stripe": {Body: "id"},
	// https://docs.slack.dev/apis/events-api/#callback-field
	"slack": {Body: "event_id"},
	// https://developer.paddle.com/webhooks/overview
	"paddle": {Body: "event_id"},
	// https://developer.squareup.com/docs/webhooks/step3validate (event_id)
	"square": {Body: "event_id"}, "square-sha1": {Body: "event_id"},
	// https://www.typeform.com/developers/webhooks/example-payload/
	"typeform": {Body: "event_id"},
	// https://documentation.mailgun.com/docs/mailgun/user-manual/events/webhooks
	"mailgun": {Body: "event-data.id"},
	// https://vercel.com/docs/webhooks/webhooks-api#payload
	"vercel": {Body: "id"},
	// https://developers.intercom.com/docs/references/webhooks/webhook-models
	"intercom": {Body: "id"},
	// https://developer.box.com/guides/webhooks/v2/payload-v2/
	"box": {Body: "id"},
	// https://developer.pagerduty.com/docs/webhooks-v3-overview (event.id)
	"pagerduty": {Body: "event.id"},
	// https://developer.zendesk.com/api-reference/webhooks/event-types/webhook-event-types/
	"zendesk": {Body: "id"},
}

// PresetIDSource returns where deliveries signed with the named preset
// carry their event id: the scheme's signed id header when it has one
// (Standard Webhooks' webhook-id, svix-id, Twitch's message id), else the
// header or body field the provider documents (GitHub's
// X-GitHub-Delivery, Stripe's event id). False when the provider sends
// none that hooklab knows (Cal.com, Meta, Zoom), or the preset is unknown.
func PresetIDSource(preset string) (IDSource, bool) {
	if src, ok := presetIDSources[preset]; ok {
		return src, true
	}
	s, err := signer.Preset(preset)
	if err != nil {
		return IDSource{}, false
	}
	return SchemeIDSource(s)
}

// SchemeIDSource returns the signed id header of a scheme (IDHeader),
// and false when it has none.
func SchemeIDSource(s signer.Scheme) (IDSource, bool) {
	if s.IDHeader == "" {
		return IDSource{}, false
	}
	return IDSource{Header: http.CanonicalHeaderKey(s.IDHeader)}, true
}

// EventID returns the id a delivery signed with the named preset carries
// (see PresetIDSource) and where it was found ("header:X-Github-Delivery",
// "body:id"). The id is "" when the request carries none; source is ""
// too when the preset's provider sends no id hooklab knows.
func EventID(preset string, h http.Header, body []byte) (id, source string) {
	src, ok := PresetIDSource(preset)
	if !ok {
		return "", ""
	}
	return src.ID(h, body), src.String()
}
