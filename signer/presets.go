package signer

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Presets: each provider's scheme, returned by a function named after the
// provider; the Scheme's Name is the provider in lower-case kebab form.
// Every call returns a new Scheme that shares nothing with any other, so a
// caller may change its copy (or its slices) freely: no change reaches
// Preset, Presets or another caller. The row numbers in comments refer to
// the provider table of hooklab's signature reference; every preset is
// checked against published or derived vectors in testdata/vectors.
//
// Where a provider documents no tolerance for a signed timestamp (Zoom,
// Discord, Zendesk, Mux, TikTok, Mailgun, SendGrid), the preset uses 5
// minutes; override it with the Tolerance option.

// StandardWebhooks follows the Standard Webhooks spec (row 1).
func StandardWebhooks() Scheme {
	return Scheme{
		Name: "standard-webhooks", Algorithm: HMACSHA256, Key: KeyWhsec,
		Message: "{id}.{ts}.{body}", Encoding: Base64,
		Header: "webhook-signature", Syntax: Syntax{Kind: VersionedList, SignatureKey: "v1"},
		Timestamp: Timestamp{Source: TimestampHeader, Header: "webhook-timestamp"},
		IDHeader:  "webhook-id", IDPrefix: "msg_",
		Tolerance: 5 * time.Minute, MultipleSignatures: true,
	}
}

// StandardWebhooksEd25519 is the spec's asymmetric v1a variant: keys
// are whsk_ (private) and whpk_ (public) base64 (row 1).
func StandardWebhooksEd25519() Scheme {
	return with(StandardWebhooks(), func(s *Scheme) {
		s.Name, s.Algorithm, s.Key = "standard-webhooks-ed25519", Ed25519, KeyRaw
		s.Syntax.SignatureKey = "v1a"
	})
}

// Svix signs as Standard Webhooks with svix-* headers (row 2).
func Svix() Scheme {
	return with(StandardWebhooks(), func(s *Scheme) {
		s.Name, s.Header, s.Timestamp.Header, s.IDHeader = "svix", "svix-signature", "svix-timestamp", "svix-id"
	})
}

// Clerk delivers through Svix (row 2).
func Clerk() Scheme {
	return with(Svix(), func(s *Scheme) { s.Name = "clerk" })
}

// Resend delivers through Svix (row 2).
func Resend() Scheme {
	return with(Svix(), func(s *Scheme) { s.Name = "resend" })
}

// Supabase auth hooks use Standard Webhooks; their secret is shown as
// "v1,whsec_…", which KeyWhsec accepts (row 45, confidence C).
func Supabase() Scheme {
	return with(StandardWebhooks(), func(s *Scheme) { s.Name = "supabase" })
}

// OpenAI signs with Standard Webhooks (row 46, confidence C).
func OpenAI() Scheme {
	return with(StandardWebhooks(), func(s *Scheme) { s.Name = "openai" })
}

// Replicate signs with Standard Webhooks (row 46, confidence C).
func Replicate() Scheme {
	return with(StandardWebhooks(), func(s *Scheme) { s.Name = "replicate" })
}

// GitLabSigning is GitLab's newer signing token: Standard Webhooks
// headers and construction (row 27b).
func GitLabSigning() Scheme {
	return with(StandardWebhooks(), func(s *Scheme) { s.Name = "gitlab-signing" })
}

// Stripe (row 3): whsec_ secret used verbatim; several v1 while a
// secret is rolled; v0 ignored; 300 s, past only (stripe-go).
func Stripe() Scheme {
	return Scheme{
		Name: "stripe", Algorithm: HMACSHA256, Message: "{ts}.{body}", Encoding: Hex,
		Header: "Stripe-Signature", Syntax: Syntax{Kind: KeyValue, Separator: ",", SignatureKey: "v1", TimestampKey: "t"},
		Timestamp: Timestamp{Source: TimestampInHeader},
		Tolerance: 5 * time.Minute, PastOnly: true, MultipleSignatures: true,
	}
}

// GitHub (row 4).
func GitHub() Scheme {
	return bodyHMAC("github", HMACSHA256, "X-Hub-Signature-256", "sha256=", Hex)
}

// GitHubSHA1 is GitHub's legacy header (row 4).
func GitHubSHA1() Scheme {
	return bodyHMAC("github-sha1", HMACSHA1, "X-Hub-Signature", "sha1=", Hex)
}

// Slack (row 5).
func Slack() Scheme {
	return Scheme{
		Name: "slack", Algorithm: HMACSHA256, Message: "v0:{ts}:{body}", Encoding: Hex,
		Header: "X-Slack-Signature", Syntax: Syntax{Kind: Bare, Prefix: "v0="},
		Timestamp: Timestamp{Source: TimestampHeader, Header: "X-Slack-Request-Timestamp"},
		Tolerance: 5 * time.Minute,
	}
}

// Shopify (row 6).
func Shopify() Scheme {
	return bodyHMAC("shopify", HMACSHA256, "X-Shopify-Hmac-Sha256", "", Base64)
}

// Twilio signs the URL and the sorted form parameters (row 7).
func Twilio() Scheme {
	return Scheme{
		Name: "twilio", Algorithm: HMACSHA1, Message: "{url}{params}", Encoding: Base64,
		Header: "X-Twilio-Signature", Syntax: Syntax{Kind: Bare}, URLPortVariants: true,
	}
}

// TwilioJSON signs the URL, which carries bodySHA256 (row 7b).
func TwilioJSON() Scheme {
	return with(Twilio(), func(s *Scheme) {
		s.Name, s.Message, s.BodyHashParam = "twilio-json", "{url}", "bodySHA256"
	})
}

// Square signs the notification URL and the body (row 8).
func Square() Scheme {
	return Scheme{
		Name: "square", Algorithm: HMACSHA256, Message: "{url}{body}", Encoding: Base64,
		Header: "x-square-hmacsha256-signature", Syntax: Syntax{Kind: Bare},
	}
}

// SquareSHA1 is Square's legacy header (row 8).
func SquareSHA1() Scheme {
	return with(Square(), func(s *Scheme) {
		s.Name, s.Algorithm, s.Header = "square-sha1", HMACSHA1, "x-square-signature"
	})
}

// CalCom (row 9).
func CalCom() Scheme {
	return bodyHMAC("caldotcom", HMACSHA256, "X-Cal-Signature-256", "", Hex)
}

// Linear: the timestamp (ms) is the body's webhookTimestamp; 60 s both
// ways (row 10).
func Linear() Scheme {
	return with(bodyHMAC("linear", HMACSHA256, "Linear-Signature", "", Hex), func(s *Scheme) {
		s.Timestamp = Timestamp{Source: TimestampInBody, Path: "webhookTimestamp", Format: UnixMillis}
		s.Tolerance = time.Minute
	})
}

// Paddle Billing: 5 s, past only, as the Node SDK (row 11).
func Paddle() Scheme {
	return Scheme{
		Name: "paddle", Algorithm: HMACSHA256, Message: "{ts}:{body}", Encoding: Hex,
		Header: "Paddle-Signature", Syntax: Syntax{Kind: KeyValue, Separator: ";", SignatureKey: "h1", TimestampKey: "ts"},
		Timestamp: Timestamp{Source: TimestampInHeader},
		Tolerance: 5 * time.Second, PastOnly: true, MultipleSignatures: true,
	}
}

// Zoom (row 12).
func Zoom() Scheme {
	return with(Slack(), func(s *Scheme) {
		s.Name, s.Header, s.Timestamp.Header = "zoom", "x-zm-signature", "x-zm-request-timestamp"
	})
}

// Typeform: base64 behind sha256= (row 13).
func Typeform() Scheme {
	return bodyHMAC("typeform", HMACSHA256, "Typeform-Signature", "sha256=", Base64)
}

// Intercom (row 14).
func Intercom() Scheme {
	return bodyHMAC("intercom", HMACSHA1, "X-Hub-Signature", "sha1=", Hex)
}

// Mailgun: the signature object is in the JSON body; the body itself is
// not signed (row 15).
func Mailgun() Scheme {
	return Scheme{
		Name: "mailgun", Algorithm: HMACSHA256, Message: "{ts}{token}", Encoding: Hex,
		Syntax:    Syntax{Kind: InBody, SignaturePath: "signature.signature", TokenPath: "signature.token"},
		Timestamp: Timestamp{Source: TimestampInBody, Path: "signature.timestamp"},
		Tolerance: 5 * time.Minute,
	}
}

// HubSpotV1 is a plain SHA-256 of secret and body (row 16).
func HubSpotV1() Scheme {
	return Scheme{
		Name: "hubspot-v1", Algorithm: SHA256, Message: "{secret}{body}", Encoding: Hex,
		Header: "X-HubSpot-Signature", Syntax: Syntax{Kind: Bare},
		SetHeaders: []Field{{"X-HubSpot-Signature-Version", "v1"}},
	}
}

// HubSpotV2 adds method and URL (row 16).
func HubSpotV2() Scheme {
	return with(HubSpotV1(), func(s *Scheme) {
		s.Name, s.Message = "hubspot-v2", "{secret}{method}{url}{body}"
		s.SetHeaders = []Field{{"X-HubSpot-Signature-Version", "v2"}}
	})
}

// HubSpotV3: HMAC over method, URL, body and ms timestamp (row 17).
func HubSpotV3() Scheme {
	return Scheme{
		Name: "hubspot-v3", Algorithm: HMACSHA256, Message: "{method}{url}{body}{ts}", Encoding: Base64,
		Header: "X-HubSpot-Signature-v3", Syntax: Syntax{Kind: Bare},
		Timestamp: Timestamp{Source: TimestampHeader, Header: "X-HubSpot-Request-Timestamp", Format: UnixMillis},
		Tolerance: 5 * time.Minute, PastOnly: true,
	}
}

// Twitch EventSub (row 18).
func Twitch() Scheme {
	return Scheme{
		Name: "twitch", Algorithm: HMACSHA256, Message: "{id}{ts}{body}", Encoding: Hex,
		Header: "Twitch-Eventsub-Message-Signature", Syntax: Syntax{Kind: Bare, Prefix: "sha256="},
		Timestamp: Timestamp{Source: TimestampHeader, Header: "Twitch-Eventsub-Message-Timestamp", Format: RFC3339Nano},
		IDHeader:  "Twitch-Eventsub-Message-Id",
		Tolerance: 10 * time.Minute, PastOnly: true,
	}
}

// Zendesk (row 19).
func Zendesk() Scheme {
	return Scheme{
		Name: "zendesk", Algorithm: HMACSHA256, Message: "{ts}{body}", Encoding: Base64,
		Header: "X-Zendesk-Webhook-Signature", Syntax: Syntax{Kind: Bare},
		Timestamp: Timestamp{Source: TimestampHeader, Header: "X-Zendesk-Webhook-Signature-Timestamp", Format: RFC3339},
		Tolerance: 5 * time.Minute,
	}
}

// Xero (row 20).
func Xero() Scheme {
	return bodyHMAC("xero", HMACSHA256, "x-xero-signature", "", Base64)
}

// WooCommerce: HTML entities in the secret are decoded first (row 21).
func WooCommerce() Scheme {
	return with(bodyHMAC("woocommerce", HMACSHA256, "X-WC-Webhook-Signature", "", Base64), func(s *Scheme) {
		s.Key = KeyHTMLEntities
	})
}

// Vercel (row 22).
func Vercel() Scheme {
	return bodyHMAC("vercel", HMACSHA1, "x-vercel-signature", "", Hex)
}

// Sentry: the timestamp header is not signed (row 23).
func Sentry() Scheme {
	return bodyHMAC("sentry", HMACSHA256, "Sentry-Hook-Signature", "", Hex)
}

// Calendly: 3 minutes (row 24).
func Calendly() Scheme {
	return with(Stripe(), func(s *Scheme) {
		s.Name, s.Header, s.Tolerance, s.PastOnly, s.MultipleSignatures = "calendly", "Calendly-Webhook-Signature", 3*time.Minute, false, false
	})
}

// Segment (row 25).
func Segment() Scheme {
	return bodyHMAC("segment", HMACSHA1, "X-Signature", "", Hex)
}

// Okta event hooks send a configured Authorization value (row 26).
func Okta() Scheme {
	return token("okta", "Authorization", "", Verbatim)
}

// GitLab sends the secret token itself (row 27).
func GitLab() Scheme {
	return token("gitlab", "X-Gitlab-Token", "", Verbatim)
}

// Bitbucket (row 28).
func Bitbucket() Scheme {
	return bodyHMAC("bitbucket", HMACSHA256, "X-Hub-Signature", "sha256=", Hex)
}

// Discord interactions: Ed25519; receivers hold the app's public key
// (row 29).
func Discord() Scheme {
	return Scheme{
		Name: "discord", Algorithm: Ed25519, Message: "{ts}{body}", Encoding: Hex,
		Header: "X-Signature-Ed25519", Syntax: Syntax{Kind: Bare},
		Timestamp: Timestamp{Source: TimestampHeader, Header: "X-Signature-Timestamp"},
		Tolerance: 5 * time.Minute,
	}
}

// SendGrid Event Webhook: ECDSA P-256; receivers hold the base64 DER
// verification key (row 30).
func SendGrid() Scheme {
	return Scheme{
		Name: "sendgrid", Algorithm: ECDSAP256, Message: "{ts}{body}", Encoding: Base64,
		Header: "X-Twilio-Email-Event-Webhook-Signature", Syntax: Syntax{Kind: Bare},
		Timestamp: Timestamp{Source: TimestampHeader, Header: "X-Twilio-Email-Event-Webhook-Timestamp"},
		Tolerance: 5 * time.Minute,
	}
}

// PagerDuty v3: one v1= per secret during rotation (row 32).
func PagerDuty() Scheme {
	return Scheme{
		Name: "pagerduty", Algorithm: HMACSHA256, Encoding: Hex,
		Header: "X-PagerDuty-Signature", Syntax: Syntax{Kind: KeyValue, Separator: ",", SignatureKey: "v1"},
		MultipleSignatures: true,
	}
}

// Mux (row 33).
func Mux() Scheme {
	return with(Calendly(), func(s *Scheme) { s.Name, s.Header, s.Tolerance = "mux", "mux-signature", 5*time.Minute })
}

// Meta (Graph API, Messenger, Instagram, WhatsApp) (row 34).
func Meta() Scheme {
	return bodyHMAC("meta", HMACSHA256, "X-Hub-Signature-256", "sha256=", Hex)
}

// MetaSHA1 is Meta's legacy header (row 34).
func MetaSHA1() Scheme {
	return bodyHMAC("meta-sha1", HMACSHA1, "X-Hub-Signature", "sha1=", Hex)
}

// Box: body then timestamp; the primary key signs the primary header,
// a second key the secondary header; 10 minutes (row 35).
func Box() Scheme {
	return Scheme{
		Name: "box", Algorithm: HMACSHA256, Message: "{body}{ts}", Encoding: Base64,
		Header: "BOX-SIGNATURE-PRIMARY", ExtraHeaders: []string{"BOX-SIGNATURE-SECONDARY"}, Syntax: Syntax{Kind: Bare},
		Timestamp: Timestamp{Source: TimestampHeader, Header: "BOX-DELIVERY-TIMESTAMP", Format: RFC3339},
		Tolerance: 10 * time.Minute, PastOnly: true,
		SetHeaders: []Field{{"BOX-SIGNATURE-VERSION", "1"}, {"BOX-SIGNATURE-ALGORITHM", "HmacSHA256"}},
	}
}

// WorkOS: "t=<ms>, v1=<hex>"; 180 s (row 36).
func WorkOS() Scheme {
	return Scheme{
		Name: "workos", Algorithm: HMACSHA256, Message: "{ts}.{body}", Encoding: Hex,
		Header: "WorkOS-Signature", Syntax: Syntax{Kind: KeyValue, Separator: ", ", SignatureKey: "v1", TimestampKey: "t"},
		Timestamp: Timestamp{Source: TimestampInHeader, Format: UnixMillis},
		Tolerance: 3 * time.Minute, PastOnly: true,
	}
}

// MSTeams outgoing webhooks: the security token is base64-decoded
// (row 37).
func MSTeams() Scheme {
	return with(bodyHMAC("msteams", HMACSHA256, "Authorization", "HMAC ", Base64), func(s *Scheme) { s.Key = KeyBase64 })
}

// Airtable: macSecretBase64 is base64-decoded (row 38).
func Airtable() Scheme {
	return with(bodyHMAC("airtable", HMACSHA256, "X-Airtable-Content-MAC", "hmac-sha256=", Hex), func(s *Scheme) { s.Key = KeyBase64 })
}

// TikTok: "t=…,s=…" (row 39).
func TikTok() Scheme {
	return with(Mux(), func(s *Scheme) { s.Name, s.Header, s.Syntax.SignatureKey = "tiktok", "TikTok-Signature", "s" })
}

// Webflow: ms timestamp header (row 40, confidence C).
func Webflow() Scheme {
	return Scheme{
		Name: "webflow", Algorithm: HMACSHA256, Message: "{ts}:{body}", Encoding: Hex,
		Header: "x-webflow-signature", Syntax: Syntax{Kind: Bare},
		Timestamp: Timestamp{Source: TimestampHeader, Header: "x-webflow-timestamp", Format: UnixMillis},
		Tolerance: 5 * time.Minute,
	}
}

// Paystack: HMAC-SHA512 (row 41).
func Paystack() Scheme {
	return bodyHMAC("paystack", HMACSHA512, "x-paystack-signature", "", Hex)
}

// Terraform is HCP Terraform / TFE notifications: HMAC-SHA512 (row 42).
func Terraform() Scheme {
	return bodyHMAC("terraform", HMACSHA512, "X-TFE-Notification-Signature", "", Hex)
}

// Mandrill (Mailchimp Transactional) signs like Twilio (row 43).
func Mandrill() Scheme {
	return Scheme{
		Name: "mandrill", Algorithm: HMACSHA1, Message: "{url}{params}", Encoding: Base64,
		Header: "X-Mandrill-Signature", Syntax: Syntax{Kind: Bare},
	}
}

// Telegram Bot API secret token (row 44).
func Telegram() Scheme {
	return token("telegram", "X-Telegram-Bot-Api-Secret-Token", "", Verbatim)
}

// Hookdeck: a second header during rotation (row 47).
func Hookdeck() Scheme {
	return with(bodyHMAC("hookdeck", HMACSHA256, "x-hookdeck-signature", "", Base64), func(s *Scheme) {
		s.ExtraHeaders = []string{"x-hookdeck-signature-2"}
	})
}

// BasicAuth is "Authorization: Basic <base64(user:password)>" with the
// secret "user:password" (Pipedrive, Chargebee, Postmark; row 49).
func BasicAuth() Scheme {
	return token("basic-auth", "Authorization", "Basic ", Base64)
}

// Dropbox (row 50, confidence C).
func Dropbox() Scheme {
	return bodyHMAC("dropbox", HMACSHA256, "X-Dropbox-Signature", "", Hex)
}

// CoinbaseCommerce (row 50, confidence C).
func CoinbaseCommerce() Scheme {
	return bodyHMAC("coinbase-commerce", HMACSHA256, "X-CC-Webhook-Signature", "", Hex)
}

// LemonSqueezy (row 50, confidence C).
func LemonSqueezy() Scheme {
	return bodyHMAC("lemon-squeezy", HMACSHA256, "X-Signature", "", Hex)
}

// LaunchDarkly (row 50, confidence C).
func LaunchDarkly() Scheme {
	return bodyHMAC("launchdarkly", HMACSHA256, "X-LD-Signature", "", Hex)
}

// Heroku (row 50, confidence C).
func Heroku() Scheme {
	return bodyHMAC("heroku", HMACSHA256, "Heroku-Webhook-Hmac-SHA256", "", Base64)
}

// bodyHMAC is a scheme that signs the body alone into one header.
func bodyHMAC(name string, a Algorithm, header, prefix string, e Encoding) Scheme {
	return Scheme{Name: name, Algorithm: a, Message: "{body}", Encoding: e, Header: header, Syntax: Syntax{Kind: Bare, Prefix: prefix}}
}

// token is a scheme whose header carries the secret itself.
func token(name, header, prefix string, e Encoding) Scheme {
	return Scheme{Name: name, Algorithm: Token, Encoding: e, Header: header, Syntax: Syntax{Kind: Bare, Prefix: prefix}}
}

// with returns base changed by f.
func with(base Scheme, f func(*Scheme)) Scheme {
	f(&base)
	return base
}

// presets lists every preset constructor; it is never modified.
var presets = []func() Scheme{
	StandardWebhooks, StandardWebhooksEd25519, Svix, Clerk, Resend, Supabase, OpenAI, Replicate, GitLabSigning,
	Stripe, GitHub, GitHubSHA1, Slack, Shopify, Twilio, TwilioJSON, Square, SquareSHA1, CalCom, Linear, Paddle,
	Zoom, Typeform, Intercom, Mailgun, HubSpotV1, HubSpotV2, HubSpotV3, Twitch, Zendesk, Xero, WooCommerce,
	Vercel, Sentry, Calendly, Segment, Okta, GitLab, Bitbucket, Discord, SendGrid, PagerDuty, Mux, Meta,
	MetaSHA1, Box, WorkOS, MSTeams, Airtable, TikTok, Webflow, Paystack, Terraform, Mandrill, Telegram,
	Hookdeck, BasicAuth, Dropbox, CoinbaseCommerce, LemonSqueezy, LaunchDarkly, Heroku,
}

// presetByName indexes presets by Scheme.Name; it is never modified.
var presetByName = func() map[string]func() Scheme {
	m := make(map[string]func() Scheme, len(presets))
	for _, p := range presets {
		m[p().Name] = p
	}
	return m
}()

// Presets returns every preset, sorted by name. The Schemes are the
// caller's own: each call builds them anew.
func Presets() []Scheme {
	out := make([]Scheme, len(presets))
	for i, p := range presets {
		out[i] = p()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Preset returns the preset named name (case-insensitive; "_"
// and "." read as "-"). An unknown name is ErrUnknownPreset, with the
// closest names suggested.
func Preset(name string) (Scheme, error) {
	n := strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(strings.TrimSpace(name)))
	if p, ok := presetByName[n]; ok {
		return p(), nil
	}
	var near []string
	for name := range presetByName {
		if n != "" && (strings.Contains(name, n) || strings.Contains(n, name)) {
			near = append(near, name)
		}
	}
	if len(near) > 0 {
		sort.Strings(near)
		return Scheme{}, fmt.Errorf("signer: preset %q: %w (did you mean %s?)", name, ErrUnknownPreset, strings.Join(near, ", "))
	}
	return Scheme{}, fmt.Errorf("signer: preset %q: %w (see hooklab presets)", name, ErrUnknownPreset)
}
