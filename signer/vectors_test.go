package signer_test

// Published and derived test vectors from hooklab's signature reference
// (§3.1 P1–P21, §3.2 D1–D28) and vectors hooklab derived for presets the
// reference has none for. The data lives in testdata/vectors/<preset>.json
// (schema in testdata/vectors/README.md).

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
)

const vecDir = "testdata/vectors"

// hooklabDerived starts the source of vectors hooklab computed itself.
const hooklabDerived = "derived: computed by hooklab"

type vecFile struct {
	Preset  string      `json:"preset"`
	Vectors []vecVector `json:"vectors"`
}

type vecVector struct {
	Name       string            `json:"name"`
	Source     string            `json:"source"`
	Secret     string            `json:"secret"`
	Secrets    []string          `json:"secrets"`
	SignKey    string            `json:"sign_key"`
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Body       *string           `json:"body"`
	BodyFile   string            `json:"body_file"`
	BodyBase64 string            `json:"body_base64"`
	Now        string            `json:"now"`
	ID         string            `json:"id"`
	Headers    map[string]string `json:"headers"`
	Sign       bool              `json:"sign"`
	Want       string            `json:"want"`
}

var vecWant = map[string]error{
	"ok":             nil,
	"no-match":       signer.ErrNoMatch,
	"malformed":      signer.ErrMalformedHeader,
	"missing-header": signer.ErrMissingHeader,
	"too-old":        signer.ErrTimestampTooOld,
	"in-future":      signer.ErrTimestampInFuture,
}

// loadVectors reads every vector file, strictly.
func loadVectors(t testing.TB) []vecFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(vecDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no vector files in %s", vecDir)
	var files []vecFile
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var f vecFile
		require.NoError(t, dec.Decode(&f), path)
		require.Equal(t, strings.TrimSuffix(filepath.Base(path), ".json"), f.Preset, "%s: file name must be the preset name", path)
		require.NotEmpty(t, f.Vectors, path)
		files = append(files, f)
	}
	return files
}

// body returns the exact body bytes of a vector.
func (v *vecVector) body(t testing.TB) []byte {
	t.Helper()
	n := 0
	var b []byte
	if v.Body != nil {
		n++
		b = []byte(*v.Body)
	}
	if v.BodyFile != "" {
		n++
		var err error
		b, err = os.ReadFile(filepath.Join(vecDir, filepath.FromSlash(v.BodyFile)))
		require.NoError(t, err)
	}
	if v.BodyBase64 != "" {
		n++
		var err error
		b, err = base64.StdEncoding.DecodeString(v.BodyBase64)
		require.NoError(t, err)
	}
	require.Equal(t, 1, n, "exactly one of body, body_file, body_base64")
	return b
}

func (v *vecVector) now(t *testing.T) time.Time {
	t.Helper()
	now, err := time.Parse(time.RFC3339Nano, v.Now)
	require.NoError(t, err, "now")
	return now
}

// verifyKeys are the receiver's keys (public keys for asymmetric schemes).
func (v *vecVector) verifyKeys(t *testing.T) []string {
	t.Helper()
	require.True(t, (v.Secret != "") != (len(v.Secrets) > 0), "exactly one of secret, secrets")
	if v.Secret != "" {
		return []string{v.Secret}
	}
	return v.Secrets
}

// signKeys are the sender's keys.
func (v *vecVector) signKeys(t *testing.T) []string {
	if v.SignKey != "" {
		return []string{v.SignKey}
	}
	return v.verifyKeys(t)
}

func (v *vecVector) header() http.Header {
	h := http.Header{}
	for k, val := range v.Headers {
		h.Add(k, val)
	}
	return h
}

// vecMutate changes one byte of a body: the case of its first ASCII letter
// (which keeps JSON and form bodies well-formed), or appends one byte to a
// body without letters.
func vecMutate(b []byte) []byte {
	out := append([]byte(nil), b...)
	for i, c := range out {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			out[i] ^= 0x20
			return out
		}
	}
	return append(out, 'x')
}

func TestVectors(t *testing.T) {
	for _, f := range loadVectors(t) {
		scheme, err := signer.Preset(f.Preset)
		require.NoError(t, err, f.Preset)
		require.Equal(t, f.Preset, scheme.Name)
		for _, v := range f.Vectors {
			t.Run(f.Preset+"/"+v.Name, func(t *testing.T) {
				require.NotEmpty(t, v.Source, "every vector names its source")
				want, ok := vecWant[v.Want]
				require.True(t, ok, "unknown want %q", v.Want)
				require.False(t, v.Sign && v.Want != "ok", "sign is only for ok vectors")
				body := v.body(t)
				now := v.now(t)
				keys := signer.Keys(v.verifyKeys(t)...)

				// (a) Sign reproduces the published headers exactly.
				if v.Sign {
					out, err := signer.Sign(scheme, signer.Keys(v.signKeys(t)...),
						signer.Payload{Method: v.Method, URL: v.URL, Body: body}, signer.At(now), signer.ID(v.ID))
					require.NoError(t, err)
					for name, val := range v.Headers {
						assert.Equal(t, val, out.Header.Get(name), "signed header %s", name)
					}
					if scheme.Syntax.Kind == signer.InBody {
						assert.Equal(t, string(body), string(out.Body), "signed body")
					}
					if scheme.BodyHashParam != "" {
						assert.Equal(t, v.URL, out.URL, "signed URL")
					}
					assert.NoError(t, signer.Verify(scheme, keys, out, signer.At(now)), "signed payload verifies")
				}

				// (b) Verify the delivery as given.
				p := signer.Payload{Method: v.Method, URL: v.URL, Header: v.header(), Body: body}
				err := signer.Verify(scheme, keys, p, signer.At(now))
				if want == nil {
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, want)
					var ve *signer.VerifyError
					assert.True(t, errors.As(err, &ve), "error is a *VerifyError: %v", err)
				}

				// (c) One changed body byte breaks a body-bound signature.
				if want == nil && scheme.Algorithm != signer.Token && scheme.Syntax.Kind != signer.InBody {
					q := p
					q.Body = vecMutate(body)
					assert.ErrorIs(t, signer.Verify(scheme, keys, q, signer.At(now)), signer.ErrNoMatch, "changed body")
				}
			})
		}
	}
}

func TestVectorsCoverEveryPreset(t *testing.T) {
	okBy := map[string]int{}
	for _, f := range loadVectors(t) {
		names := map[string]bool{}
		for _, v := range f.Vectors {
			assert.False(t, names[v.Name], "%s: vector %s listed twice", f.Preset, v.Name)
			names[v.Name] = true
			if v.Want == "ok" {
				okBy[f.Preset]++
			}
		}
	}
	for _, s := range signer.Presets() {
		assert.Positive(t, okBy[s.Name], "preset %s has no ok vector in %s", s.Name, vecDir)
	}
}

// vecRecipe is an independent statement of a preset's construction, used
// to recompute expected values without the code under test.
type vecRecipe struct {
	alg   string // "sha1", "sha256", "sha512" (HMAC), "plain" (SHA-256 of secret+message), "ed25519", "token"
	key   string // "", "whsec", "b64", "html"
	msg   string // {id} {ts} {body} {url} {method} {params} {token}
	ts    string // "", "ms", "rfc3339", "nano"
	b64   bool
	basic bool // token: "Basic " + base64(secret)
}

var vecRecipes = func() map[string]vecRecipe {
	r := map[string]vecRecipe{}
	set := func(rec vecRecipe, names ...string) {
		for _, n := range names {
			r[n] = rec
		}
	}
	set(vecRecipe{alg: "sha256", key: "whsec", msg: "{id}.{ts}.{body}", b64: true},
		"standard-webhooks", "svix", "clerk", "resend", "openai", "replicate", "supabase", "gitlab-signing")
	set(vecRecipe{alg: "ed25519", msg: "{id}.{ts}.{body}", b64: true}, "standard-webhooks-ed25519")
	set(vecRecipe{alg: "ed25519", msg: "{ts}{body}"}, "discord")
	set(vecRecipe{alg: "sha256", msg: "{ts}.{body}"}, "stripe", "calendly", "mux", "tiktok")
	set(vecRecipe{alg: "sha256", msg: "{ts}.{body}", ts: "ms"}, "workos")
	set(vecRecipe{alg: "sha256", msg: "{body}"}, "github", "bitbucket", "meta", "caldotcom", "linear", "sentry",
		"dropbox", "coinbase-commerce", "lemon-squeezy", "launchdarkly", "pagerduty")
	set(vecRecipe{alg: "sha1", msg: "{body}"}, "github-sha1", "intercom", "meta-sha1", "vercel", "segment")
	set(vecRecipe{alg: "sha256", msg: "{body}", b64: true}, "shopify", "xero", "hookdeck", "heroku", "typeform")
	set(vecRecipe{alg: "sha256", key: "html", msg: "{body}", b64: true}, "woocommerce")
	set(vecRecipe{alg: "sha256", key: "b64", msg: "{body}"}, "airtable")
	set(vecRecipe{alg: "sha256", key: "b64", msg: "{body}", b64: true}, "msteams")
	set(vecRecipe{alg: "sha512", msg: "{body}"}, "paystack", "terraform")
	set(vecRecipe{alg: "sha256", msg: "v0:{ts}:{body}"}, "slack", "zoom")
	set(vecRecipe{alg: "sha256", msg: "{ts}:{body}"}, "paddle")
	set(vecRecipe{alg: "sha256", msg: "{ts}:{body}", ts: "ms"}, "webflow")
	set(vecRecipe{alg: "sha256", msg: "{id}{ts}{body}", ts: "nano"}, "twitch")
	set(vecRecipe{alg: "sha256", msg: "{ts}{body}", ts: "rfc3339", b64: true}, "zendesk")
	set(vecRecipe{alg: "sha256", msg: "{body}{ts}", ts: "rfc3339", b64: true}, "box")
	set(vecRecipe{alg: "sha256", msg: "{url}{body}", b64: true}, "square")
	set(vecRecipe{alg: "sha1", msg: "{url}{body}", b64: true}, "square-sha1")
	set(vecRecipe{alg: "sha256", msg: "{method}{url}{body}{ts}", ts: "ms", b64: true}, "hubspot-v3")
	set(vecRecipe{alg: "plain", msg: "{body}"}, "hubspot-v1")
	set(vecRecipe{alg: "plain", msg: "{method}{url}{body}"}, "hubspot-v2")
	set(vecRecipe{alg: "sha1", msg: "{url}{params}", b64: true}, "twilio", "mandrill")
	set(vecRecipe{alg: "sha1", msg: "{url}", b64: true}, "twilio-json")
	set(vecRecipe{alg: "sha256", msg: "{ts}{token}"}, "mailgun")
	set(vecRecipe{alg: "token"}, "okta", "gitlab", "telegram")
	set(vecRecipe{alg: "token", basic: true}, "basic-auth")
	return r
}()

// vecParams renders a form body as Twilio and Mandrill document it: keys
// sorted, each key followed by its value, repeated keys' values sorted.
func vecParams(body []byte) string {
	vals, err := url.ParseQuery(string(body))
	if err != nil || len(body) == 0 {
		return ""
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := append([]string(nil), vals[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k + v)
		}
	}
	return b.String()
}

// expected computes the encoded signature of v under one key with crypto/*
// alone.
func (r vecRecipe) expected(t *testing.T, v *vecVector, secret string, body []byte) string {
	t.Helper()
	if r.alg == "token" {
		if r.basic {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte(secret))
		}
		return secret
	}
	now := v.now(t)
	ts := strconv.FormatInt(now.Unix(), 10)
	switch r.ts {
	case "ms":
		ts = strconv.FormatInt(now.UnixMilli(), 10)
	case "rfc3339":
		ts = now.Format(time.RFC3339)
	case "nano":
		ts = now.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
	}
	method := v.Method
	if method == "" {
		method = http.MethodPost
	}
	token := v.ID
	msg := strings.NewReplacer("{id}", v.ID, "{ts}", ts, "{url}", v.URL, "{method}", method,
		"{params}", vecParams(body), "{token}", token).Replace(strings.ReplaceAll(r.msg, "{body}", "\x00"))
	msgBytes := bytes.ReplaceAll([]byte(msg), []byte{0}, body)

	var sig []byte
	switch r.alg {
	case "ed25519":
		raw := strings.TrimPrefix(secret, "whsk_")
		seed, err := hex.DecodeString(raw)
		if err != nil {
			seed, err = base64.StdEncoding.DecodeString(raw)
		}
		require.NoError(t, err)
		sig = ed25519.Sign(ed25519.NewKeyFromSeed(seed[:ed25519.SeedSize]), msgBytes)
	case "plain":
		s := sha256.Sum256(append([]byte(secret), msgBytes...))
		sig = s[:]
	default:
		key := []byte(secret)
		switch r.key {
		case "whsec":
			k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimPrefix(secret, "v1,"), "whsec_"))
			require.NoError(t, err)
			key = k
		case "b64":
			k, err := base64.StdEncoding.DecodeString(secret)
			require.NoError(t, err)
			key = k
		case "html":
			key = []byte(strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#039;", "'").Replace(secret))
		}
		h := map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New}[r.alg]
		require.NotNil(t, h, "recipe algorithm %q", r.alg)
		m := hmac.New(h, key)
		m.Write(msgBytes)
		sig = m.Sum(nil)
	}
	if r.b64 {
		return base64.StdEncoding.EncodeToString(sig)
	}
	return hex.EncodeToString(sig)
}

// TestVectorsIndependently recomputes the expected signature of every ok
// vector that Sign must reproduce with the standard library alone, so the
// expected values do not depend on the code under test. Every key of a
// vector hooklab derived itself must appear (rotation vectors carry one
// signature per key); published vectors need the first key's.
func TestVectorsIndependently(t *testing.T) {
	for _, f := range loadVectors(t) {
		rec, hasRecipe := vecRecipes[f.Preset]
		for _, v := range f.Vectors {
			if v.Want != "ok" || !v.Sign {
				continue
			}
			t.Run(f.Preset+"/"+v.Name, func(t *testing.T) {
				if !hasRecipe {
					require.False(t, strings.HasPrefix(v.Source, hooklabDerived), "hooklab-derived vector without an independent recipe")
					t.Skip("no independent recipe; published value")
				}
				body := v.body(t)
				var hay []string
				for _, val := range v.Headers {
					hay = append(hay, val)
				}
				hay = append(hay, string(body)) // Mailgun's signature is in the body
				all := strings.Join(hay, "\n")
				keys := v.signKeys(t)
				if !strings.HasPrefix(v.Source, hooklabDerived) {
					keys = keys[:1]
				}
				for i, k := range keys {
					sig := rec.expected(t, &v, k, body)
					if rec.alg == "token" {
						assert.Contains(t, hay, sig, "key %d", i+1)
						continue
					}
					assert.Contains(t, all, sig, "key %d: independently computed signature not in the vector", i+1)
				}
			})
		}
	}
}
