package signer

import (
	"fmt"
	"net/textproto"
	"strings"
	"time"
)

// Algorithm names the signing primitive of a Scheme.
type Algorithm string

// The primitives providers use.
const (
	HMACSHA1   Algorithm = "hmac-sha1"
	HMACSHA256 Algorithm = "hmac-sha256"
	HMACSHA384 Algorithm = "hmac-sha384"
	HMACSHA512 Algorithm = "hmac-sha512"
	// SHA256 is a plain SHA-256 digest of the message, which must then
	// contain the secret through the {secret} placeholder (HubSpot v1, v2).
	SHA256 Algorithm = "sha256"
	// Ed25519 signs with an Ed25519 private key; receivers hold the public
	// key (Discord, Standard Webhooks v1a).
	Ed25519 Algorithm = "ed25519"
	// ECDSAP256 signs the SHA-256 of the message with an ECDSA P-256 key;
	// the signature is ASN.1 DER (SendGrid).
	ECDSAP256 Algorithm = "ecdsa-p256-sha256"
	// Token is not a signature: the header carries the shared secret itself,
	// encoded with the scheme's Encoding (GitLab, Telegram, Okta, Basic auth).
	Token Algorithm = "token"
)

// Encoding names how a signature is written as text.
type Encoding string

// Encodings. Hex is written lower-case; hooklab decodes hex case-insensitively
// and compares bytes. Base64 is the standard alphabet with padding and is
// decoded strictly, so URL-safe or unpadded values do not verify (as with the
// providers' own libraries, which compare base64 strings).
const (
	Hex       Encoding = "hex"
	Base64    Encoding = "base64"
	Base64URL Encoding = "base64url" // URL-safe alphabet, no padding (Node's "base64url")
	// Verbatim writes the bytes as they are; only meaningful for Token.
	Verbatim Encoding = "verbatim"
)

// KeyFormat names how the text of a Secret becomes key bytes.
type KeyFormat string

// Key formats.
const (
	// KeyRaw uses the secret's bytes verbatim, even when they look like
	// base64 (Stripe's whsec_, Xero, PagerDuty, Zendesk). The zero value.
	KeyRaw KeyFormat = ""
	// KeyWhsec strips an optional "v1," (Supabase) and an optional "whsec_"
	// prefix, then base64-decodes the rest (Standard Webhooks, Svix).
	KeyWhsec KeyFormat = "whsec"
	// KeyBase64 base64-decodes the secret (Airtable macSecretBase64, Teams).
	KeyBase64 KeyFormat = "base64"
	// KeyHTMLEntities decodes the HTML special-character entities &amp;
	// &quot; &#039; &lt; &gt; first, as WooCommerce does.
	KeyHTMLEntities KeyFormat = "html-entities"
)

// SyntaxKind names the shape of a signature header's value.
type SyntaxKind string

// Syntax kinds.
const (
	// Bare: the value is Prefix followed by one signature
	// ("sha256=<hex>", "v0=<hex>", "HMAC <b64>", or no prefix at all).
	Bare SyntaxKind = "bare"
	// KeyValue: a list of key=value pairs joined by Separator, with the
	// timestamp under TimestampKey and one or more signatures under
	// SignatureKey ("t=…,v1=…", "ts=…;h1=…", "t=…, v1=…").
	KeyValue SyntaxKind = "key-value"
	// VersionedList: space-separated "version,signature" entries; entries of
	// other versions are skipped ("v1,<b64> v1a,<b64>").
	VersionedList SyntaxKind = "versioned-list"
	// InBody: the signature is a field of the JSON body (Mailgun); Header is
	// not used.
	InBody SyntaxKind = "in-body"
)

// Syntax describes how signatures are written into a header value.
type Syntax struct {
	Kind SyntaxKind `json:"kind"`
	// Prefix comes before the signature in a Bare value. It is matched
	// case-sensitively: a value with another prefix is malformed.
	Prefix string `json:"prefix,omitempty"`
	// Separator joins KeyValue pairs when signing ("," or ";" or ", ");
	// parsing splits on it with surrounding spaces ignored. Default ",".
	Separator string `json:"separator,omitempty"`
	// SignatureKey is the key of signature pairs (KeyValue, e.g. "v1") or
	// the version of entries (VersionedList, e.g. "v1").
	SignatureKey string `json:"signature_key,omitempty"`
	// TimestampKey is the key of the timestamp pair in a KeyValue value
	// ("t", "ts"), when Timestamp.Source is InSignature.
	TimestampKey string `json:"timestamp_key,omitempty"`
	// SignaturePath and TokenPath are gjson paths into the JSON body for
	// InBody schemes ("signature.signature", "signature.token").
	SignaturePath string `json:"signature_path,omitempty"`
	TokenPath     string `json:"token_path,omitempty"`
}

// TimestampSource names where a scheme carries its timestamp.
type TimestampSource string

// Timestamp sources. The zero value means the scheme has no timestamp.
const (
	NoTimestamp       TimestampSource = ""
	TimestampHeader   TimestampSource = "header"    // its own header (Slack, Standard Webhooks)
	TimestampInHeader TimestampSource = "signature" // inside the signature header (Stripe t=)
	TimestampInBody   TimestampSource = "body"      // a field of the JSON body (Linear, Mailgun)
)

// TimeFormat names how a timestamp is written.
type TimeFormat string

// Timestamp formats.
const (
	UnixSeconds TimeFormat = "unix"    // decimal seconds; the zero value "" means the same
	UnixMillis  TimeFormat = "unix-ms" // decimal milliseconds (WorkOS, HubSpot v3, Linear)
	// RFC3339 is written with whole seconds and the clock's offset
	// ("2023-11-14T22:13:20Z", Box "2020-01-01T00:00:00-07:00").
	RFC3339 TimeFormat = "rfc3339"
	// RFC3339Nano is written with nine fractional digits (Twitch).
	RFC3339Nano TimeFormat = "rfc3339-nano"
)

// Timestamp says where a scheme's timestamp lives and how it is written.
type Timestamp struct {
	Source TimestampSource `json:"source,omitempty"`
	Header string          `json:"header,omitempty"` // for TimestampHeader
	Path   string          `json:"path,omitempty"`   // gjson path for TimestampInBody
	Format TimeFormat      `json:"format,omitempty"`
}

// A Field is one HTTP header a provider sends beside its signature, with a
// fixed value (HubSpot's X-HubSpot-Signature-Version: v1).
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// A Scheme describes how one provider signs a webhook: which bytes, with
// which primitive and key, written how and where. A preset function
// (Stripe(), GitHub() …) returns one; a custom scheme is a Scheme literal.
// A Scheme is a plain value: copy it to change a field (a preset's Scheme
// is the caller's own, slices included).
type Scheme struct {
	// Name identifies the scheme in errors and listings ("stripe").
	Name string `json:"name"`
	// Algorithm is the signing primitive.
	Algorithm Algorithm `json:"algorithm"`
	// Key says how a Secret's text becomes key bytes.
	Key KeyFormat `json:"key,omitempty"`
	// Message is the template of the signed bytes. Placeholders:
	// {body} raw body; {ts} the timestamp exactly as sent; {id} the message
	// id; {method}; {url} the full URL as the sender addressed it; {params}
	// the form parameters of the body as key+value pairs sorted by key
	// (Twilio, Mandrill); {token} the body token (Mailgun); {secret} the
	// key bytes (plain SHA256 schemes). Other text is literal. Default
	// "{body}".
	Message string `json:"message,omitempty"`
	// Encoding is how a signature is written. Default Hex.
	Encoding Encoding `json:"encoding,omitempty"`
	// Header is the signature header. Repeated headers are each tried.
	Header string `json:"header,omitempty"`
	// ExtraHeaders hold further signatures, one per header, each signed with
	// the next key of the KeySet (Box's secondary, Hookdeck's -2).
	ExtraHeaders []string `json:"extra_headers,omitempty"`
	// Syntax is how the signature header's value is written.
	Syntax Syntax `json:"syntax"`
	// Timestamp is where the timestamp is, if the scheme has one.
	Timestamp Timestamp `json:"timestamp,omitempty"`
	// IDHeader carries the message id ({id}).
	IDHeader string `json:"id_header,omitempty"`
	// IDPrefix starts generated message ids ("msg_"); without it a random
	// UUID is generated.
	IDPrefix string `json:"id_prefix,omitempty"`
	// Tolerance is the default accepted clock skew. Zero means the timestamp
	// is not checked.
	Tolerance time.Duration `json:"tolerance,omitempty"`
	// PastOnly rejects only timestamps older than Tolerance, as stripe-go,
	// HubSpot's and Paddle's SDKs do; otherwise both directions.
	PastOnly bool `json:"past_only,omitempty"`
	// MultipleSignatures reports that the header may carry several
	// signatures (key rotation): Sign then signs with every key.
	MultipleSignatures bool `json:"multiple_signatures,omitempty"`
	// BodyHashParam is a query parameter that carries the hex SHA-256 of
	// the body, so that a URL-only signature covers it (Twilio JSON).
	BodyHashParam string `json:"body_hash_param,omitempty"`
	// URLPortVariants verifies the URL with and without its default port,
	// as Twilio's SDKs do.
	URLPortVariants bool `json:"url_port_variants,omitempty"`
	// SetHeaders are fixed headers the provider sends with every delivery.
	SetHeaders []Field `json:"set_headers,omitempty"`
}

// message returns the template, defaulted.
func (s Scheme) message() string {
	if s.Message == "" {
		return "{body}"
	}
	return s.Message
}

// encoding returns the encoding, defaulted.
func (s Scheme) encoding() Encoding {
	if s.Encoding == "" {
		if s.Algorithm == Token {
			return Verbatim
		}
		return Hex
	}
	return s.Encoding
}

// separator returns the KeyValue separator, defaulted.
func (s Scheme) separator() string {
	if s.Syntax.Separator == "" {
		return ","
	}
	return s.Syntax.Separator
}

// Headers returns the names of every header the scheme reads or writes:
// signature headers, then timestamp and id headers, then fixed headers.
func (s Scheme) Headers() []string {
	var hs []string
	if s.Header != "" {
		hs = append(hs, s.Header)
	}
	hs = append(hs, s.ExtraHeaders...)
	if s.Timestamp.Source == TimestampHeader {
		hs = append(hs, s.Timestamp.Header)
	}
	if s.IDHeader != "" {
		hs = append(hs, s.IDHeader)
	}
	for _, f := range s.SetHeaders {
		hs = append(hs, f.Name)
	}
	return hs
}

// HasTimestamp reports whether the scheme carries a timestamp.
func (s Scheme) HasTimestamp() bool { return s.Timestamp.Source != NoTimestamp }

// Validate reports whether the scheme is complete and consistent. Sign and
// Verify call it; a custom scheme can call it early.
func (s Scheme) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("signer: scheme %q: %s: %w", s.Name, fmt.Sprintf(format, args...), ErrInvalidScheme)
	}
	switch s.Algorithm {
	case HMACSHA1, HMACSHA256, HMACSHA384, HMACSHA512, SHA256, Ed25519, ECDSAP256, Token:
	case "":
		return bad("no algorithm")
	default:
		return bad("unknown algorithm %q", s.Algorithm)
	}
	switch s.encoding() {
	case Hex, Base64, Base64URL:
	case Verbatim:
		if s.Algorithm != Token {
			return bad("encoding %q is only for token schemes", Verbatim)
		}
	default:
		return bad("unknown encoding %q", s.Encoding)
	}
	switch s.Key {
	case KeyRaw, KeyWhsec, KeyBase64, KeyHTMLEntities:
	default:
		return bad("unknown key format %q", s.Key)
	}
	t, err := parseTemplate(s.message())
	if err != nil {
		return bad("message: %v", err)
	}
	if s.Algorithm == SHA256 && !t.uses(segSecret) {
		return bad("a plain sha256 scheme must include {secret} in its message")
	}
	if s.Algorithm != SHA256 && t.uses(segSecret) {
		return bad("{secret} is only for plain sha256 schemes")
	}
	switch s.Syntax.Kind {
	case Bare, VersionedList, KeyValue:
		if s.Header == "" {
			return bad("no signature header")
		}
	case InBody:
		if s.Syntax.SignaturePath == "" {
			return bad("in-body syntax needs a signature path")
		}
	case "":
		return bad("no syntax kind")
	default:
		return bad("unknown syntax kind %q", s.Syntax.Kind)
	}
	if (s.Syntax.Kind == KeyValue || s.Syntax.Kind == VersionedList) && s.Syntax.SignatureKey == "" {
		return bad("%s syntax needs a signature key", s.Syntax.Kind)
	}
	if len(s.ExtraHeaders) > 0 && s.Syntax.Kind != Bare {
		return bad("extra signature headers need bare syntax")
	}
	switch s.Timestamp.Source {
	case NoTimestamp:
		if t.uses(segTS) {
			return bad("message uses {ts} but the scheme has no timestamp")
		}
		if s.Tolerance != 0 {
			return bad("tolerance without a timestamp")
		}
	case TimestampHeader:
		if s.Timestamp.Header == "" {
			return bad("timestamp header not named")
		}
	case TimestampInHeader:
		if s.Syntax.Kind != KeyValue || s.Syntax.TimestampKey == "" {
			return bad("a timestamp in the signature header needs key-value syntax with a timestamp key")
		}
	case TimestampInBody:
		if s.Timestamp.Path == "" {
			return bad("timestamp body path not named")
		}
	default:
		return bad("unknown timestamp source %q", s.Timestamp.Source)
	}
	switch s.Timestamp.Format {
	case "", UnixSeconds, UnixMillis, RFC3339, RFC3339Nano:
	default:
		return bad("unknown timestamp format %q", s.Timestamp.Format)
	}
	if s.Tolerance < 0 {
		return bad("negative tolerance")
	}
	if t.uses(segID) && s.IDHeader == "" {
		return bad("message uses {id} but no id header is named")
	}
	if t.uses(segToken) && s.Syntax.TokenPath == "" {
		return bad("message uses {token} but no token path is named")
	}
	for _, h := range s.Headers() {
		if !validHeaderName(h) {
			return bad("invalid header name %q", h)
		}
	}
	return nil
}

// validHeaderName reports whether h is an HTTP token.
func validHeaderName(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// canonical returns the canonical form of a header name.
func canonical(h string) string { return textproto.CanonicalMIMEHeaderKey(h) }
