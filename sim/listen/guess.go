package listen

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/hooklab/hooklab/signer"
)

// A Guess is the provider a request seems to come from, read from its
// headers (and, for Mailgun, its body).
type Guess struct {
	// Provider is the signer preset the request matches, when one does.
	Provider string `json:"provider,omitempty"`
	// Family is set instead when several presets sign identically with
	// the header found (the Standard Webhooks presets share
	// webhook-signature; Svix, Clerk and Resend share svix-signature):
	// the family's name, "standard-webhooks" or "svix".
	Family string `json:"family,omitempty"`
	// Candidates are the presets that remain when neither one provider
	// nor a family could be told apart (X-Signature: lemon-squeezy or
	// segment), sorted; with Family, the family's members.
	Candidates []string `json:"candidates,omitempty"`
	// Header is the signature header the guess rests on.
	Header string `json:"header,omitempty"`
}

// Name is what a person reads: the provider, the family ("svix family")
// or the candidates joined with "|"; "" when nothing was recognised.
func (g Guess) Name() string {
	switch {
	case g.Provider != "":
		return g.Provider
	case g.Family != "":
		return g.Family + " family"
	}
	return strings.Join(g.Candidates, "|")
}

// families names the presets that share a signature header and sign
// identically: which member sent a request cannot be told from it.
var families = map[string]string{
	"Webhook-Signature": "standard-webhooks",
	"Svix-Signature":    "svix",
}

// eventHints are headers a provider sends with every event, beside its
// signature, that no other provider sends: they tell apart presets that
// share a signature header (X-Hub-Signature-256: github or meta).
var eventHints = map[string]string{
	"X-Github-Event":               "github",
	"X-Event-Key":                  "bitbucket",
	"X-Gitlab-Event":               "gitlab",
	"Linear-Event":                 "linear",
	"X-Shopify-Topic":              "shopify",
	"Twitch-Eventsub-Message-Type": "twitch",
	"X-Wc-Webhook-Topic":           "woocommerce",
	"Sentry-Hook-Resource":         "sentry",
	"X-Zm-Request-Timestamp":       "zoom",
}

// requires says what some providers send with every event, so that a
// candidate whose mark is missing is dropped (GitHub always sends
// X-GitHub-Event; Meta's payloads are {"object", "entry": […]}; Intercom's
// are notification_event objects).
var requires = map[string]func(h http.Header, body []byte) bool{
	"github":      hasHeader("X-GitHub-Event"),
	"github-sha1": hasHeader("X-GitHub-Event"),
	"bitbucket":   hasHeader("X-Event-Key"),
	"meta":        isArray("entry"),
	"meta-sha1":   isArray("entry"),
	"intercom": func(_ http.Header, body []byte) bool {
		return gjson.GetBytes(body, "type").Str == "notification_event"
	},
}

func hasHeader(name string) func(http.Header, []byte) bool {
	return func(h http.Header, _ []byte) bool { return firstValue(h, name) != "" }
}

func isArray(path string) func(http.Header, []byte) bool {
	return func(_ http.Header, body []byte) bool { return gjson.GetBytes(body, path).IsArray() }
}

// index maps a canonical signature header name to the presets that use it.
var index = func() map[string][]signer.Scheme {
	m := map[string][]signer.Scheme{}
	for _, s := range signer.Presets() {
		if s.Syntax.Kind == signer.InBody {
			continue
		}
		for _, h := range append([]string{s.Header}, s.ExtraHeaders...) {
			if h == "" {
				continue
			}
			c := http.CanonicalHeaderKey(h)
			// Authorization is every API's header: only a scheme with a
			// prefix of its own (MS Teams' "HMAC ", "Basic ") is read
			// from it.
			if c == "Authorization" && s.Syntax.Prefix == "" {
				continue
			}
			m[c] = append(m[c], s)
		}
	}
	return m
}()

// GuessProvider guesses which provider sent a request from its headers,
// its URL's query (Twilio's bodySHA256) and, when no header is known, its
// body (Mailgun signs inside the JSON). It never fails: an unknown
// request gives the zero Guess.
func GuessProvider(h http.Header, rawQuery string, body []byte) Guess {
	seen := map[string]signer.Scheme{}
	var names []string
	for _, name := range sortedKeys(h) {
		c := http.CanonicalHeaderKey(name)
		schemes, ok := index[c]
		if !ok {
			continue
		}
		value := strings.TrimSpace(firstValue(h, name))
		if value == "" {
			continue
		}
		for _, s := range schemes {
			if s.Syntax.Prefix != "" && !strings.HasPrefix(value, s.Syntax.Prefix) {
				continue
			}
			if _, dup := seen[s.Name]; !dup {
				seen[s.Name] = s
				names = append(names, s.Name)
			}
		}
	}
	if len(names) == 0 {
		if r := gjson.GetBytes(body, "signature.signature"); r.Exists() && gjson.GetBytes(body, "signature.token").Exists() {
			return Guess{Provider: "mailgun", Header: "body: signature"}
		}
		return Guess{}
	}
	keep := func(ok func(s signer.Scheme) bool) {
		var kept []string
		for _, n := range names {
			if ok(seen[n]) {
				kept = append(kept, n)
			}
		}
		if len(kept) > 0 {
			names = kept
		}
	}
	// A header only one provider sends with its events decides.
	for hint, provider := range eventHints {
		if len(names) > 1 && firstValue(h, hint) != "" {
			keep(func(s signer.Scheme) bool { return s.Name == provider })
		}
	}
	// What a provider always sends: a candidate without it is someone else.
	if len(names) > 1 {
		keep(func(s signer.Scheme) bool {
			req, ok := requires[s.Name]
			return !ok || req(h, body)
		})
	}
	// Fixed headers a scheme sends (HubSpot's signature version).
	if len(names) > 1 {
		keep(func(s signer.Scheme) bool {
			if len(s.SetHeaders) == 0 {
				return false
			}
			for _, f := range s.SetHeaders {
				if firstValue(h, f.Name) != f.Value {
					return false
				}
			}
			return true
		})
	}
	// Twilio signs a JSON body through the bodySHA256 query parameter.
	if len(names) > 1 {
		q, _ := url.ParseQuery(rawQuery)
		keep(func(s signer.Scheme) bool { return (s.BodyHashParam != "") == q.Has("bodySHA256") })
	}
	// A legacy SHA-1 header is sent beside its SHA-256 successor.
	if len(names) > 1 {
		keep(func(s signer.Scheme) bool {
			base, legacy := strings.CutSuffix(s.Name, "-sha1")
			_, successor := seen[base]
			return !(legacy && successor)
		})
	}
	// Standard Webhooks' asymmetric variant signs as v1a, the others v1.
	if len(names) > 1 {
		keep(func(s signer.Scheme) bool {
			if s.Syntax.Kind != signer.VersionedList {
				return true
			}
			return strings.Contains(" "+firstValue(h, s.Header), " "+s.Syntax.SignatureKey+",")
		})
	}
	sort.Strings(names)
	if len(names) == 1 {
		return Guess{Provider: names[0], Header: http.CanonicalHeaderKey(seen[names[0]].Header)}
	}
	header := http.CanonicalHeaderKey(seen[names[0]].Header)
	for _, n := range names {
		if http.CanonicalHeaderKey(seen[n].Header) != header {
			header = ""
		}
	}
	if fam, ok := families[header]; ok {
		return Guess{Family: fam, Candidates: names, Header: header}
	}
	return Guess{Candidates: names, Header: header}
}

func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// firstValue is h.Get for maps whose keys may not be canonical (a
// delivery envelope's headers come from JSON).
func firstValue(h http.Header, name string) string {
	if vs := h[http.CanonicalHeaderKey(name)]; len(vs) > 0 {
		return vs[0]
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0]
		}
	}
	return ""
}

// maxEvent bounds an event type read from a request.
const maxEvent = 200

// EventType finds the event type of a request from provider's event
// header or body field (provider is a preset or family name, or "" when
// unknown): X-GitHub-Event, X-Shopify-Topic, Stripe's "type", Sentry's
// resource and action ("issue.created"), Twitch's subscription type, and
// so on, as the fixtures of each provider carry it. For other providers
// it tries the body's "type", "event", "event_type" and "topic" when they
// are strings. It returns "" when none is found; a value is cut to 200
// bytes.
func EventType(provider string, h http.Header, body []byte) string {
	ev := eventType(provider, h, body)
	if len(ev) > maxEvent {
		ev = strings.ToValidUTF8(ev[:maxEvent], "")
	}
	return ev
}

func eventType(provider string, h http.Header, body []byte) string {
	hdr := func(name string) string { return strings.TrimSpace(firstValue(h, name)) }
	valid := -1 // not yet checked; checked once, as JSON bodies are large
	str := func(path string) string {
		if valid < 0 {
			valid = 0
			if gjson.ValidBytes(body) {
				valid = 1
			}
		}
		if valid == 0 {
			return ""
		}
		r := gjson.GetBytes(body, path)
		if r.Type != gjson.String {
			return ""
		}
		return r.Str
	}
	switch provider {
	case "github", "github-sha1":
		return hdr("X-GitHub-Event")
	case "bitbucket":
		return hdr("X-Event-Key")
	case "gitlab", "gitlab-signing":
		return first(str("object_kind"), hdr("X-Gitlab-Event"))
	case "linear":
		return first(hdr("Linear-Event"), str("type"))
	case "shopify":
		return hdr("X-Shopify-Topic")
	case "woocommerce":
		return hdr("X-WC-Webhook-Topic")
	case "twitch":
		if t := hdr("Twitch-Eventsub-Message-Type"); t != "" && t != "notification" {
			return t
		}
		return hdr("Twitch-Eventsub-Subscription-Type")
	case "sentry":
		if res, act := hdr("Sentry-Hook-Resource"), str("action"); res != "" && act != "" {
			return res + "." + act
		}
		return hdr("Sentry-Hook-Resource")
	case "box":
		return str("trigger")
	case "caldotcom":
		return str("triggerEvent")
	case "hubspot-v1", "hubspot-v2", "hubspot-v3":
		return str("0.subscriptionType")
	case "intercom":
		return str("topic")
	case "mailgun":
		return str("event-data.event")
	case "meta", "meta-sha1":
		if obj, field := str("object"), str("entry.0.changes.0.field"); obj != "" && field != "" {
			return obj + "." + field
		}
		return str("object")
	case "paddle", "typeform":
		return str("event_type")
	case "pagerduty":
		return str("event.event_type")
	case "sendgrid":
		return str("0.event")
	case "zendesk":
		return strings.TrimPrefix(str("type"), "zen:event-type:")
	case "discord":
		return discordType(body)
	case "slack":
		return slackType(h, body)
	case "zoom", "calendly":
		return str("event")
	}
	return first(str("type"), str("event"), str("event_type"), str("topic"))
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// discordType names a Discord interaction's numeric type.
// https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-interaction-type
func discordType(body []byte) string {
	r := gjson.GetBytes(body, "type")
	if r.Type != gjson.Number {
		return ""
	}
	switch r.Int() {
	case 1:
		return "ping"
	case 2:
		return "application_command"
	case 3:
		return "message_component"
	case 4:
		return "application_command_autocomplete"
	case 5:
		return "modal_submit"
	}
	return "type " + strconv.FormatInt(r.Int(), 10)
}

// slackType reads a Slack request: the Events API's JSON "type", an
// interactivity form's payload JSON "type", or a slash command's form.
func slackType(h http.Header, body []byte) string {
	if gjson.ValidBytes(body) {
		if r := gjson.GetBytes(body, "type"); r.Type == gjson.String {
			return r.Str
		}
		return ""
	}
	if !strings.HasPrefix(firstValue(h, "Content-Type"), "application/x-www-form-urlencoded") {
		return ""
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	if p := form.Get("payload"); p != "" {
		if r := gjson.Get(p, "type"); r.Type == gjson.String {
			return r.Str
		}
	}
	if form.Get("command") != "" {
		return "slash_command"
	}
	return ""
}
