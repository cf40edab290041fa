package signer_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/signer"
)

func TestSecretNeverPrintsItsValue(t *testing.T) {
	const value = "sk_live_DO-NOT-PRINT"
	s := signer.NewSecret(value)
	type holder struct {
		Key  signer.Secret
		Keys signer.KeySet
	}
	h := holder{Key: s, Keys: signer.KeySet{s, s}}

	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("verify", "secret", s, "holder", h)
	jsonOut, err := json.Marshal(h)
	require.NoError(t, err)
	text, err := s.MarshalText()
	require.NoError(t, err)

	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", s), "%s": fmt.Sprintf("%s", s), "%q": fmt.Sprintf("%q", s), "%x": fmt.Sprintf("%x", s),
		"%#v": fmt.Sprintf("%#v", s), "%+v holder": fmt.Sprintf("%+v", h), "%#v holder": fmt.Sprintf("%#v", h),
		"String": s.String(), "slog": logBuf.String(), "json": string(jsonOut), "text": string(text),
	}
	for how, out := range outputs {
		assert.NotContains(t, out, value, how)
		assert.Contains(t, out, "REDACTED", how)
	}
	assert.Equal(t, value, string(s.Bytes()), "Bytes is the one way to the value")
}

func TestErrorsNeverContainSecretOrExpectedSignature(t *testing.T) {
	const secret = "distinctive-secret-xyz"
	body := []byte(`{"a":1}`)
	for _, s := range signer.Presets() {
		signKeys, verifyKeys := fuzzKeys(s)
		if s.Algorithm != signer.Ed25519 && s.Algorithm != signer.ECDSAP256 && s.Key == signer.KeyRaw {
			signKeys, verifyKeys = signer.Keys(secret), signer.Keys(secret)
		}
		good, err := signer.Sign(s, signKeys, signer.Payload{URL: "https://example.com/h", Body: body}, signer.At(t1700))
		require.NoError(t, err, s.Name)
		tampered := good
		tampered.Body = bytes.Replace(good.Body, []byte(`"a":1`), []byte(`"a":2`), 1)
		if s.Syntax.Kind == signer.InBody {
			tampered.Body = bytes.Replace(good.Body, []byte(`"token":"`), []byte(`"token":"x`), 1)
		}
		err = signer.Verify(s, verifyKeys, tampered, signer.At(t1700))
		if s.Algorithm == signer.Token {
			continue // a token is not bound to the body
		}
		require.ErrorIs(t, err, signer.ErrNoMatch, s.Name)
		msg := err.Error()
		assert.NotContains(t, msg, secret, s.Name)
		for _, vs := range good.Header {
			for _, v := range vs {
				for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '=' || r == ' ' || r == ';' }) {
					if len(part) >= 16 {
						assert.NotContains(t, msg, part, "%s: error %q quotes a signature", s.Name, msg)
					}
				}
			}
		}
	}
}
