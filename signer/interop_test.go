package signer_test

// Differential tests against JavaScript: Trigger.dev v2's published
// verifyRequestSignature (@trigger.dev/sdk 2.3.19) and the providers'
// official libraries (stripe, @octokit/webhooks-methods, standardwebhooks,
// svix), pinned by interop/package-lock.json. Each test batches all its
// cases into one Node process running a script in interop/ that reads JSON
// lines on stdin and writes one JSON line per case on stdout.
//
// The tests skip when node or interop/node_modules is missing (install
// with: npm ci --prefix interop), and fail instead when CI is set.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
)

// interopDir returns the interop/ directory next to signer/, skipping the
// test (or failing it when CI is set) if Node or its packages are missing.
func interopDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "interop"))
	require.NoError(t, err, "filepath.Abs(../interop)")
	unavailable := func(why string) {
		t.Helper()
		msg := why + "; install the Node packages with `npm ci --prefix interop` from the repository root (Node 20+)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set, so a missing interop environment is a failure)")
		}
		t.Skip(msg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		unavailable("node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		unavailable(filepath.Join(dir, "node_modules") + " is missing")
	}
	return dir
}

// runNode runs `node script` in dir once, writing one JSON line per input,
// and returns one raw JSON value per input, in order.
func runNode(t *testing.T, dir, script string, inputs []any) []json.RawMessage {
	t.Helper()
	var stdin bytes.Buffer
	enc := json.NewEncoder(&stdin)
	enc.SetEscapeHTML(false)
	for _, in := range inputs {
		require.NoError(t, enc.Encode(in), "encoding a case for %s", script)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Dir = dir
	cmd.Stdin = &stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n\t%s", script, err, strings.ReplaceAll(stderr.String(), "\n", "\n\t"))
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(inputs) == 0 {
		return nil
	}
	if len(lines) != len(inputs) {
		t.Fatalf("node %s: %d output lines for %d cases\n\tstderr: %s", script, len(lines), len(inputs), stderr.String())
	}
	res := make([]json.RawMessage, len(lines))
	for i, l := range lines {
		res[i] = json.RawMessage(l)
	}
	return res
}

// latin1 spells a byte string as a JavaScript byte string: one character
// U+0000-U+00FF per byte. Fetch header values are byte strings.
func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// --- Trigger.dev v2 verifyRequestSignature -------------------------------

// tdCase is one differential case for VerifyRequestSignature.
type tdCase struct {
	name       string
	headers    [][2]string // in order; repeats allowed
	rawKeys    bool        // store headers under the names as given, not canonicalised
	body       []byte
	headerName string
	encoding   string // "" is sent as null (the SDK's default, hex)
	secret     []byte
	nullSecret bool // an empty secret is sent as null instead of ""
	algorithm  string
}

// tdInput is a case as interop/triggerdev-verify.mjs reads it.
type tdInput struct {
	Headers        [][2]string `json:"headers"`
	BodyBase64     string      `json:"body_base64"`
	HeaderName     string      `json:"headerName"`
	HeaderEncoding *string     `json:"headerEncoding"`
	Secret         *string     `json:"secret"`
	SecretBase64   *string     `json:"secret_base64,omitempty"`
	Algorithm      string      `json:"algorithm"`
}

func (c tdCase) input() tdInput {
	in := tdInput{BodyBase64: base64.StdEncoding.EncodeToString(c.body), HeaderName: c.headerName, Algorithm: c.algorithm}
	in.Headers = make([][2]string, len(c.headers))
	for i, h := range c.headers {
		in.Headers[i] = [2]string{h[0], latin1(h[1])}
	}
	if c.encoding != "" {
		e := c.encoding
		in.HeaderEncoding = &e
	}
	switch {
	case len(c.secret) == 0 && c.nullSecret:
	case utf8.Valid(c.secret):
		s := string(c.secret)
		in.Secret = &s
	default:
		s := base64.StdEncoding.EncodeToString(c.secret)
		in.SecretBase64 = &s
	}
	return in
}

// fetchValid reports whether Fetch's Headers accepts every header of the
// case: a token name, and a value without NUL, CR or LF once trimmed.
// Go's http.Header has no such rule, so only such cases are comparable.
func (c tdCase) fetchValid() bool {
	for _, h := range c.headers {
		if !isToken(h[0]) || strings.ContainsAny(strings.Trim(h[1], " \t\r\n"), "\x00\r\n") {
			return false
		}
	}
	return true
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// run gives the case to hooklab: the result, or the error's text.
func (c tdCase) run() (signer.VerifyResult, error) {
	r := httptest.NewRequest(http.MethodPost, "http://localhost/hook", bytes.NewReader(c.body))
	for _, h := range c.headers {
		if c.rawKeys {
			r.Header[h[0]] = append(r.Header[h[0]], h[1])
		} else {
			r.Header.Add(h[0], h[1])
		}
	}
	return signer.VerifyRequestSignature(r, signer.VerifyRequestSignatureParams{
		HeaderName: c.headerName, HeaderEncoding: c.encoding, Secret: signer.SecretBytes(c.secret), Algorithm: c.algorithm,
	})
}

// tdSig writes HMAC-SHA256(secret, msg) as Node's digest(encoding) would
// for the encodings whose output is a byte string; for the others (whose
// output can never equal a header) it writes hex.
func tdSig(secret, msg []byte, encoding string) string {
	sum := tdSum(string(secret), msg)
	switch strings.ToLower(encoding) {
	case "base64":
		return base64.StdEncoding.EncodeToString(sum)
	case "base64url":
		return base64.RawURLEncoding.EncodeToString(sum)
	case "binary", "latin1":
		return string(sum)
	case "ascii":
		return asciiOf(sum)
	}
	return hex.EncodeToString(sum)
}

// Bodies for the differential cases: pitfall 3 of signature-schemes.md §4
// and the encodings of pitfall 5.
var tdBodies = []struct {
	name string
	b    string
}{
	{"JSON", tdBody},
	{"Empty", ""},
	{"Latin1Text", "héllo"},
	{"Astral", `{"emoji":"😀👍🏽","cjk":"漢字"}`},
	{"CRLF", "a\r\nb\r\n"},
	{"NUL", "a\x00b"},
	{"FFFE", "\xff\xfe"},
	{"FFInside", "a\xffb"},
	{"LoneContinuations", "\x80\xbf\x80"},
	{"TruncatedFourByte", "\xf0\x90\x80"},
	{"TruncatedFourByteInside", "x\xf0\x90\x80y"},
	{"TruncatedThreeByte", "\xe2\x82"},
	{"TruncatedTwoByteAtEnd", "ok\xc2"},
	{"SurrogateED", "\xed\xa0\x80"},
	{"SurrogatePair", "\xed\xa0\xbd\xed\xb8\x80"},
	{"OverlongC0AF", "\xc0\xaf"},
	{"OverlongE080AF", "\xe0\x80\xaf"},
	{"AboveMaxF490", "\xf4\x90\x80\x80"},
	{"F5ToFF", "\xf5\xf8\xfc\xfe"},
	{"BOM", "\xef\xbb\xbf" + tdBody},
	{"BOMOnly", "\xef\xbb\xbf"},
	{"TwoBOMs", "\xef\xbb\xbf\xef\xbb\xbfA"},
	{"ThreeBOMs", "\xef\xbb\xbf\xef\xbb\xbf\xef\xbb\xbfA"},
	{"BOMThenInvalid", "\xef\xbb\xbf\xff"},
	{"TruncatedBOM", "\xef\xbb"},
	{"BOMInside", "A\xef\xbb\xbf"},
	{"Mixed", "\xef\xbb\xbf{\"a\":\"\xff\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xbf\xbf\xf0\x8f\xbf\xbf\"}"},
}

var tdEncodings = []string{
	"", "hex", "base64", "base64url", "binary", "latin1", "HEX", "Base64", "BASE64URL", "Binary",
	"ascii", "utf8", "utf-8", "ucs2", "utf16le", "buffer", "bogus", "baſe64",
}

const tdHeader = "X-Trigger-Signature"

// tdFixedCases are the hand-written differential cases.
func tdFixedCases() []tdCase {
	secret := []byte(tdSecret)
	one := func(name string, body []byte, value string) tdCase {
		return tdCase{name: name, headers: [][2]string{{tdHeader, value}}, body: body, headerName: tdHeader, secret: secret, algorithm: "sha256"}
	}
	var cs []tdCase
	// Every body, signed over its raw bytes and over Request.text().
	for _, b := range tdBodies {
		body := []byte(b.b)
		cs = append(cs,
			one("Body/"+b.name+"/RawSigned", body, "sha256="+tdSig(secret, body, "hex")),
			one("Body/"+b.name+"/TextSigned", body, "sha256="+tdSig(secret, requestTextForTest(body), "hex")),
		)
	}
	// Every encoding, correctly written and upper-cased, on two bodies.
	for _, e := range tdEncodings {
		for _, body := range []string{tdBody, "héllo"} {
			// Raw-byte encodings can produce NUL, CR or LF, which no Fetch
			// header carries: take the first secret whose digest has none.
			for i := 0; ; i++ {
				key := append([]byte(tdSecret), strings.Repeat("!", i)...)
				sig := tdSig(key, []byte(body), e)
				c := one("Encoding/"+e+"/"+body, []byte(body), sig)
				c.encoding, c.secret = e, key
				upper := one("Encoding/"+e+"/"+body+"/Upper", []byte(body), strings.ToUpper(sig))
				upper.encoding, upper.secret = e, key
				if c.fetchValid() && upper.fetchValid() {
					cs = append(cs, c, upper)
					break
				}
			}
		}
	}
	// Prefixes (triggerdev-v2.md §2 "Prefix examples").
	hx := tdSig(secret, []byte(tdBody), "hex")
	for _, p := range []struct{ name, value string }{
		{"None", hx},
		{"Sha256", "sha256=" + hx},
		{"HmacSha256", "hmac-sha256=" + hx},
		{"Xsha256", "xsha256=" + hx},
		{"UpperSHA256", "SHA256=" + hx},
		{"UpperHMAC", "HMAC-SHA256=" + hx},
		{"HmacThenSha", "hmac-sha256=sha256=" + hx},
		{"ShaThenHmac", "sha256=hmac-sha256=" + hx},
		{"ShaTwice", "sha256=sha256=" + hx},
		{"HmacTwice", "hmac-sha256=hmac-sha256=" + hx},
		{"Middle", hx[:20] + "sha256=" + hx[20:]},
		{"MiddleHmac", hx[:5] + "hmac-sha256=" + hx[5:]},
		{"End", hx + "sha256="},
		{"Sha1", "sha1=" + hx},
		{"SpaceAfterEquals", "sha256= " + hx},
	} {
		cs = append(cs, one("Prefix/"+p.name, []byte(tdBody), p.value))
	}
	// Header presence, repeats, whitespace, name case.
	good := "sha256=" + hx
	bad := "sha256=" + strings.Repeat("0", 64)
	hdrs := func(name string, raw bool, kv ...string) tdCase {
		c := one("Header/"+name, []byte(tdBody), "")
		c.headers, c.rawKeys = nil, raw
		for i := 0; i+1 < len(kv); i += 2 {
			c.headers = append(c.headers, [2]string{kv[i], kv[i+1]})
		}
		return c
	}
	cs = append(cs,
		hdrs("Absent", false),
		hdrs("OnlyOther", false, "X-Other", good),
		hdrs("Empty", false, tdHeader, ""),
		hdrs("WhitespaceOnly", false, tdHeader, " \t "),
		hdrs("TwoEmpty", false, tdHeader, "", tdHeader, ""),
		hdrs("TwoGood", false, tdHeader, good, tdHeader, good),
		hdrs("BadThenGood", false, tdHeader, bad, tdHeader, good),
		hdrs("GoodThenBad", false, tdHeader, good, tdHeader, bad),
		hdrs("GoodThenEmpty", false, tdHeader, good, tdHeader, ""),
		hdrs("EmptyThenGood", false, tdHeader, "", tdHeader, good),
		hdrs("Whitespace", false, tdHeader, " \t"+good+"\t "),
		hdrs("TrailingCRLF", false, tdHeader, good+"\r\n"),
		hdrs("InnerSpace", false, tdHeader, "sha256= "+hx),
		hdrs("Lowercase", false, strings.ToLower(tdHeader), good),
		hdrs("Uppercase", false, strings.ToUpper(tdHeader), good),
		hdrs("MixedSpellingsRepeated", false, strings.ToLower(tdHeader), bad, strings.ToUpper(tdHeader), good),
		hdrs("RawLowercaseKey", true, strings.ToLower(tdHeader), good),
		hdrs("RawLowercaseKeyRepeated", true, strings.ToLower(tdHeader), good, strings.ToLower(tdHeader), good),
		hdrs("ControlCharInValue", false, tdHeader, good+"\x01"),
		hdrs("HighByteInValue", false, tdHeader, good+"\xff"),
	)
	for _, n := range []string{strings.ToLower(tdHeader), strings.ToUpper(tdHeader), "x-TRIGGER-signature"} {
		c := one("HeaderName/"+n, []byte(tdBody), good)
		c.headerName = n
		cs = append(cs, c)
	}
	for _, n := range []string{"", "bad name", "x:y", "é", "x-trigger-signature "} {
		c := one("InvalidHeaderName/"+n, []byte(tdBody), good)
		c.headerName = n
		cs = append(cs, c)
	}
	// Secrets.
	for _, s := range []struct {
		name   string
		secret []byte
		null   bool
	}{
		{"Empty", nil, false},
		{"Null", nil, true},
		{"OneByte", []byte("k"), false},
		{"Unicode", []byte("sëcret–🔑"), false},
		{"NonUTF8Bytes", []byte{0xff, 0x00, 0x80, 0xfe}, false},
		{"Long", bytes.Repeat([]byte("0123456789abcdef"), 13), false},
		{"DashboardHex", []byte("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"), false},
	} {
		c := one("Secret/"+s.name, []byte(tdBody), "sha256="+tdSig(s.secret, []byte(tdBody), "hex"))
		c.secret, c.nullSecret = s.secret, s.null
		cs = append(cs, c)
	}
	// Algorithms and the order of the checks.
	for _, a := range []string{"sha256", "SHA256", "sha-256", "sha512", "sha1", "md5", ""} {
		c := one("Algorithm/"+a, []byte(tdBody), good)
		c.algorithm = a
		cs = append(cs, c)
	}
	order := []tdCase{
		one("Order/EmptySecretMissingHeader", []byte(tdBody), ""),
		one("Order/EmptySecretUnsupportedAlgorithm", []byte(tdBody), good),
		one("Order/EmptySecretInvalidHeaderName", []byte(tdBody), good),
		one("Order/MissingHeaderUnsupportedAlgorithm", []byte(tdBody), ""),
		one("Order/InvalidHeaderNameUnsupportedAlgorithm", []byte(tdBody), good),
	}
	order[0].secret, order[0].headers = nil, nil
	order[1].secret, order[1].algorithm = nil, "md5"
	order[2].secret, order[2].headerName = nil, "bad name"
	order[3].headers, order[3].algorithm = nil, "md5"
	order[4].headerName, order[4].algorithm = "bad name", "md5"
	cs = append(cs, order...)
	// Tampering.
	cs = append(cs,
		one("Tamper/Body", []byte(`{"foo":"baz"}`), good),
		one("Tamper/TrailingNewline", []byte(tdBody+"\n"), good),
		one("Tamper/EmptyBody", nil, good),
		one("Tamper/Signature", []byte(tdBody), "sha256="+hx[:63]+"f"),
		one("Tamper/Truncated", []byte(tdBody), "sha256="+hx[:62]),
		one("Tamper/Extended", []byte(tdBody), "sha256="+hx+"00"),
	)
	return cs
}

// tdRandomCases generates n cases from a fixed seed.
func tdRandomCases(seed uint64, n int) []tdCase {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	pieces := []string{
		"a", "Z", "{", "}", `"`, ":", ",", " ", "\n", "\r\n", "\t", "\x00", "é", "€", "😀", "漢",
		"\xff", "\xfe", "\x80", "\xbf", "\xc0", "\xc1", "\xc2", "\xe0\x80", "\xe0\xa0", "\xed\xa0\x80",
		"\xed\x9f\xbf", "\xf0\x90", "\xf0\x90\x80", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80",
		"\xef\xbb\xbf", "\xef\xbb", "\xc3\xa9\xa9",
	}
	secrets := [][]byte{[]byte(tdSecret), []byte("k"), []byte("sëcret"), {0xff, 0x01}, nil}
	encodings := append([]string{"hex", "hex", "", "base64", "base64url", "binary"}, tdEncodings...)
	prefixes := []string{"", "sha256=", "sha256=", "hmac-sha256=", "xsha256=", "SHA256=", "sha256=sha256=", "hmac-sha256=sha256="}
	algorithms := []string{"sha256", "sha256", "sha256", "sha256", "sha256", "sha256", "sha256", "sha256", "SHA256", "sha512", ""}
	var cs []tdCase
	for len(cs) < n {
		var body strings.Builder
		if rng.IntN(5) == 0 {
			body.WriteString("\xef\xbb\xbf")
		}
		for range rng.IntN(24) {
			if rng.IntN(3) == 0 {
				body.WriteString(pick(pieces))
			} else {
				body.WriteByte(byte('a' + rng.IntN(26)))
			}
		}
		b := []byte(body.String())
		secret := secrets[rng.IntN(len(secrets))]
		if rng.IntN(4) == 0 {
			secret = make([]byte, 1+rng.IntN(40))
			for i := range secret {
				secret[i] = byte(rng.UintN(256))
			}
		}
		enc := pick(encodings)
		var sig string
		switch rng.IntN(5) {
		case 0: // over the raw bytes
			sig = tdSig(secret, b, enc)
		case 1: // tampered
			sig = tdSig(secret, b, enc)
			if sig != "" {
				i := rng.IntN(len(sig))
				sig = sig[:i] + string(rune('A'+rng.IntN(26))) + sig[i+1:]
			}
		default: // over Request.text(), which verifies when the rest is right
			sig = tdSig(secret, requestTextForTest(b), enc)
		}
		value := pick(prefixes) + sig
		if rng.IntN(6) == 0 {
			value = " \t"[rng.IntN(2):] + value + " "
		}
		name := tdHeader
		switch rng.IntN(3) {
		case 0:
			name = strings.ToLower(name)
		case 1:
			name = strings.ToUpper(name)
		}
		var headers [][2]string
		switch rng.IntN(12) {
		case 0: // absent
		case 1:
			headers = [][2]string{{tdHeader, ""}}
		case 2:
			headers = [][2]string{{tdHeader, value}, {name, value}}
		case 3:
			headers = [][2]string{{tdHeader, "sha256=junk"}, {tdHeader, value}}
		default:
			headers = [][2]string{{name, value}}
		}
		c := tdCase{
			name:       fmt.Sprintf("Random/%03d", len(cs)),
			headers:    headers,
			body:       b,
			headerName: []string{tdHeader, strings.ToLower(tdHeader), strings.ToUpper(tdHeader)}[rng.IntN(3)],
			encoding:   enc,
			secret:     secret,
			nullSecret: rng.IntN(2) == 0,
			algorithm:  pick(algorithms),
		}
		if c.fetchValid() {
			cs = append(cs, c)
		}
	}
	return cs
}

// tdOutput is what interop/triggerdev-verify.mjs writes for a case.
type tdOutput struct {
	Result       map[string]any `json:"result"`
	Throw        *string        `json:"throw"`
	HarnessError *string        `json:"harness_error"`
}

func TestTriggerDevDifferential(t *testing.T) {
	dir := interopDir(t)
	fixed := tdFixedCases()
	for _, c := range fixed {
		require.True(t, c.fetchValid(), "case %s: a header Fetch would refuse", c.name)
	}
	cases := append(fixed, tdRandomCases(20240611, 300)...)
	inputs := make([]any, len(cases))
	for i, c := range cases {
		inputs[i] = c.input()
	}
	outs := runNode(t, dir, "triggerdev-verify.mjs", inputs)

	matched := 0
	outcomes := map[string]int{}
	for i, c := range cases {
		var node tdOutput
		if err := json.Unmarshal(outs[i], &node); err != nil {
			t.Errorf("%s: node output %s: %v", c.name, outs[i], err)
			continue
		}
		if node.HarnessError != nil {
			t.Errorf("%s: node could not set the case up: %s", c.name, *node.HarnessError)
			continue
		}
		res, err := c.run()
		got := describeGo(res, err)
		want := describeNode(node)
		if got != want {
			t.Errorf("%s: VerifyRequestSignature(%s) = %s, want (Node) %s", c.name, describeCase(c), got, want)
			continue
		}
		matched++
		if strings.HasPrefix(want, "throw ") {
			outcomes["throw"]++
		} else {
			outcomes[want]++
		}
	}
	t.Logf("%d differential cases (%d fixed, %d random), %d matched Node's verifyRequestSignature; outcomes: %v",
		len(cases), len(fixed), len(cases)-len(fixed), matched, outcomes)
	if len(cases) < 200 {
		t.Errorf("only %d differential cases, want at least 200", len(cases))
	}
}

// describeGo and describeNode put both sides in one comparable form:
// `result {"success":...}` with the SDK's JSON keys, or `throw <message>`.
func describeGo(res signer.VerifyResult, err error) string {
	if err != nil {
		return "throw " + err.Error()
	}
	b, _ := json.Marshal(res)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return "result " + canonicalJSON(m)
}

func describeNode(o tdOutput) string {
	if o.Throw != nil {
		return "throw " + *o.Throw
	}
	return "result " + canonicalJSON(o.Result)
}

func canonicalJSON(m map[string]any) string {
	b, _ := json.Marshal(m) // map keys are sorted
	return string(b)
}

func describeCase(c tdCase) string {
	return fmt.Sprintf("headers=%q body=%q headerName=%q encoding=%q secret=%dB algorithm=%q",
		c.headers, c.body, c.headerName, c.encoding, len(c.secret), c.algorithm)
}

// --- Official libraries ----------------------------------------------------

// offInput is a request to interop/official.mjs.
type offInput struct {
	Lib        string            `json:"lib"`
	Op         string            `json:"op"`
	Secret     string            `json:"secret"`
	BodyBase64 string            `json:"body_base64"`
	Timestamp  int64             `json:"timestamp,omitempty"`
	ID         string            `json:"id,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	Now        *int64            `json:"now,omitempty"`
}

// offOutput is its answer.
type offOutput struct {
	Headers      map[string]string `json:"headers"`
	OK           *bool             `json:"ok"`
	Error        string            `json:"error"`
	HarnessError string            `json:"harness_error"`
}

// offProvider pairs an official library with hooklab's preset.
type offProvider struct {
	name    string // subtest name
	lib     string // official.mjs "lib"
	scheme  signer.Scheme
	secrets []string // newest first; [1] is an older key for rotation
	timed   bool     // signs a timestamp checked against the clock
	rotates bool     // the header carries one signature per key
}

var offProviders = []offProvider{
	// Stripe's secret is used verbatim; the GitHub one is GitHub docs' example.
	{"Stripe", "stripe", signer.Stripe(), []string{"whsec_hooklab_interop_3b1f9a", "whsec_hooklab_interop_old"}, true, true},
	{"GitHub", "octokit", signer.GitHub(), []string{"It's a Secret to Everybody"}, false, false},
	// The Standard Webhooks spec's example secret.
	{"StandardWebhooks", "standardwebhooks", signer.StandardWebhooks(), []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_dGhlIG9sZGVyIGtleSBvZiB0aGUgdHdv"}, true, true},
	{"Svix", "svix", signer.Svix(), []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_dGhlIG9sZGVyIGtleSBvZiB0aGUgdHdv"}, true, true},
}

// offBodies are JSON (stripe's constructEvent parses the body after
// verifying it) and valid UTF-8 (the libraries hash text).
var offBodies = []struct{ name, body string }{
	{"Event", `{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"amount":2000}}}`},
	{"Unicode", `{"text":"héllo wörld – 😀 漢字","escaped":"\u00e9\n","n":1.0}`},
	{"TrailingNewline", "{\"a\":1}\n"},
	{"Large", `{"items":[` + strings.TrimSuffix(strings.Repeat(`{"k":"0123456789abcdef","v":[1,2,3]},`, 120), ",") + `]}`},
}

const (
	offTS = 1700000000
	offID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
)

func offHeader(m map[string]string) http.Header {
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

// flatten returns the scheme's signature, timestamp and id headers of a
// signed payload as official.mjs takes them.
func flatten(s signer.Scheme, h http.Header) map[string]string {
	m := map[string]string{}
	for _, name := range s.Headers() {
		if v := h.Get(name); v != "" {
			m[name] = v
		}
	}
	return m
}

func int64p(v int64) *int64 { return &v }

func TestOfficialLibraries(t *testing.T) {
	dir := interopDir(t)
	type check struct {
		name string
		in   offInput
		fn   func(t *testing.T, out offOutput)
	}
	var checks []check
	add := func(name string, in offInput, fn func(t *testing.T, out offOutput)) {
		checks = append(checks, check{name, in, fn})
	}
	b64 := base64.StdEncoding.EncodeToString
	realNow := time.Now()

	for _, p := range offProviders {
		keys := signer.Keys(p.secrets[0])
		for _, bd := range offBodies {
			body := []byte(bd.body)
			tampered := append([]byte(nil), body...)
			tampered[len(tampered)/2] ^= 0x01
			at := time.Unix(offTS, 0)
			hook, err := signer.Sign(p.scheme, keys, signer.Payload{Body: body}, signer.At(at), signer.ID(offID))
			require.NoError(t, err, "signer.Sign(%s, %s)", p.scheme.Name, bd.name)
			hookHeaders := flatten(p.scheme, hook.Header)
			base := offInput{Lib: p.lib, Secret: p.secrets[0], BodyBase64: b64(body), Timestamp: offTS, ID: offID}
			prefix := p.name + "/" + bd.name + "/"

			// (a) the official signature equals hooklab's; (c) hooklab
			// verifies it; (d) and not over a tampered body.
			in := base
			in.Op = "sign"
			add(prefix+"SameSignature", in, func(t *testing.T, out offOutput) {
				require.Empty(t, out.Error, "official sign(%s)", bd.name)
				require.NotEmpty(t, out.Headers, "official sign(%s) headers", bd.name)
				for name, want := range out.Headers {
					assert.Equal(t, want, hook.Header.Get(name), "signer.Sign(%s, %s) header %s (want: the official library's)", p.scheme.Name, bd.name, name)
				}
				err := signer.Verify(p.scheme, keys, signer.Payload{Header: offHeader(out.Headers), Body: body}, signer.At(at))
				assert.NoError(t, err, "signer.Verify(%s, officially signed %s)", p.scheme.Name, bd.name)
				err = signer.Verify(p.scheme, keys, signer.Payload{Header: offHeader(out.Headers), Body: tampered}, signer.At(at))
				assert.ErrorIs(t, err, signer.ErrNoMatch, "signer.Verify(%s, officially signed, tampered body)", p.scheme.Name)
			})

			// (b) the official library accepts hooklab's delivery; (d) but
			// not with a tampered body.
			in = base
			in.Op, in.Headers, in.Now = "verify", hookHeaders, int64p(offTS)
			add(prefix+"HooklabSignedVerifiesOfficially", in, func(t *testing.T, out offOutput) {
				assert.True(t, out.OK != nil && *out.OK, "official verify(hooklab-signed %s) = %v (%s), want ok", bd.name, out.OK, out.Error)
			})
			in.BodyBase64 = b64(tampered)
			add(prefix+"TamperedFailsOfficially", in, func(t *testing.T, out offOutput) {
				assert.True(t, out.OK != nil && !*out.OK, "official verify(hooklab-signed, tampered %s) = ok, want rejected", bd.name)
			})
		}

		body := []byte(offBodies[0].body)
		if p.timed {
			// The tolerance window, seen from both sides: a delivery signed
			// at offTS, verified at offTS+d.
			for _, d := range []int64{-301, -300, -1, 0, 299, 300, 301, 3600} {
				hook, err := signer.Sign(p.scheme, keys, signer.Payload{Body: body}, signer.At(time.Unix(offTS, 0)), signer.ID(offID))
				require.NoError(t, err)
				now := time.Unix(offTS+d, 0)
				hookErr := signer.Verify(p.scheme, keys, hook, signer.At(now))
				in := offInput{Lib: p.lib, Op: "verify", Secret: p.secrets[0], BodyBase64: b64(body), Headers: flatten(p.scheme, hook.Header), Now: int64p(offTS + d)}
				rel := fmt.Sprintf("Plus%ds", d)
				if d < 0 {
					rel = fmt.Sprintf("Minus%ds", -d)
				}
				add(p.name+"/Clock/VerifiedAtSigned"+rel, in, func(t *testing.T, out offOutput) {
					require.NotNil(t, out.OK)
					assert.Equal(t, *out.OK, hookErr == nil,
						"verify(signed at %d, now %d): official ok=%v (%s), signer.Verify err=%v", offTS, offTS+d, *out.OK, out.Error, hookErr)
				})
			}
			// With the real clock: signed now, verified by the library's
			// own Date.now().
			hook, err := signer.Sign(p.scheme, keys, signer.Payload{Body: body}, signer.At(realNow))
			require.NoError(t, err)
			in := offInput{Lib: p.lib, Op: "verify", Secret: p.secrets[0], BodyBase64: b64(body), Headers: flatten(p.scheme, hook.Header)}
			add(p.name+"/Clock/RealNow", in, func(t *testing.T, out offOutput) {
				assert.True(t, out.OK != nil && *out.OK, "official verify(hooklab-signed at real now) = %v (%s), want ok", out.OK, out.Error)
			})
		}
		if p.rotates {
			// hooklab signs with both keys; the library accepts either.
			rot, err := signer.Sign(p.scheme, signer.Keys(p.secrets...), signer.Payload{Body: body}, signer.At(time.Unix(offTS, 0)), signer.ID(offID))
			require.NoError(t, err)
			for i, s := range p.secrets {
				in := offInput{Lib: p.lib, Op: "verify", Secret: s, BodyBase64: b64(body), Headers: flatten(p.scheme, rot.Header), Now: int64p(offTS)}
				add(fmt.Sprintf("%s/Rotation/Key%d", p.name, i), in, func(t *testing.T, out offOutput) {
					assert.True(t, out.OK != nil && *out.OK, "official verify(signed with %d keys, secret %d) = %v (%s), want ok", len(p.secrets), i, out.OK, out.Error)
				})
			}
		}
	}
	// A known behaviour difference (signature-schemes.md §4 pitfall 4):
	// octokit refuses to sign or verify an empty payload; hooklab signs it.
	add("GitHub/EmptyBody/OctokitRefuses", offInput{Lib: "octokit", Op: "sign", Secret: offProviders[1].secrets[0]}, func(t *testing.T, out offOutput) {
		assert.Contains(t, out.Error, "payload required", "octokit sign(empty body)")
		_, err := signer.Sign(signer.GitHub(), signer.Keys(offProviders[1].secrets[0]), signer.Payload{})
		assert.NoError(t, err, "signer.Sign(GitHub, empty body)")
	})

	inputs := make([]any, len(checks))
	for i, c := range checks {
		inputs[i] = c.in
	}
	outs := runNode(t, dir, "official.mjs", inputs)
	leaves := make([]leaf, len(checks))
	for i, c := range checks {
		leaves[i] = leaf{path: strings.Split(c.name, "/"), fn: func(t *testing.T) {
			var out offOutput
			require.NoError(t, json.Unmarshal(outs[i], &out), "official.mjs output %s", outs[i])
			require.Empty(t, out.HarnessError, "official.mjs could not run the case")
			c.fn(t, out)
		}}
	}
	runTree(t, leaves)
}

// A leaf is a test at a path of subtest names.
type leaf struct {
	path []string
	fn   func(t *testing.T)
}

// runTree runs leaves as nested subtests, one t.Run per path element, so
// that no subtest name contains "/" and siblings share their parent, in
// the order the leaves are given.
func runTree(t *testing.T, leaves []leaf) {
	t.Helper()
	var order []string
	groups := map[string][]leaf{}
	for _, l := range leaves {
		head := l.path[0]
		if _, ok := groups[head]; !ok {
			order = append(order, head)
		}
		groups[head] = append(groups[head], leaf{path: l.path[1:], fn: l.fn})
	}
	for _, head := range order {
		t.Run(head, func(t *testing.T) {
			var children []leaf
			for _, l := range groups[head] {
				if len(l.path) == 0 {
					l.fn(t)
				} else {
					children = append(children, l)
				}
			}
			if len(children) > 0 {
				runTree(t, children)
			}
		})
	}
}
