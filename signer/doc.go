// Package signer signs and verifies webhook deliveries exactly as real
// providers do.
//
// A [Scheme] describes one provider's construction as plain data: which
// bytes are signed (a template over the raw body, timestamp, message id,
// method, URL and form parameters), with which primitive (HMAC-SHA1/256/
// 384/512, plain SHA-256, Ed25519, ECDSA P-256, or a shared token), how the
// signature is encoded (hex, base64, base64url), how the header value is
// written ("sha256=<hex>", "t=…,v1=…", "v1,<b64> v1,<b64>", one header per
// key, or a field of the JSON body), where the timestamp lives and in which
// unit, how the secret's text becomes key bytes, and the default tolerance.
// Presets such as [GitHub], [Stripe], [Slack], [StandardWebhooks] and
// [Twilio] are functions that return a new Scheme on every call (so no
// importer can change a preset for another), checked against the
// providers' published test vectors and official libraries; [Presets]
// lists them all, [Preset] finds one by name, and a custom scheme is a
// Scheme literal.
//
// Typical use on the receiving side:
//
//	v, err := signer.NewVerifier(signer.Stripe(), signer.Keys(os.Getenv("STRIPE_WEBHOOK_SECRET")))
//	...
//	if err := v.VerifyRequest(r); err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized) // errors.Is(err, signer.ErrTimestampTooOld) …
//		return
//	}
//
// and on the sending side:
//
//	signed, err := signer.Sign(signer.GitHub(), signer.Keys("s3cret"), signer.Payload{Body: body})
//
// Verification is layered like go-github's: [Verifier.VerifyRequest] reads
// the body once (with a size limit) and leaves it readable; [Verify] takes
// a [Payload]; [VerifySignature] checks one signature over given bytes. It
// compares decoded bytes in constant time, never lets the header choose
// the algorithm, accepts any of several signatures (key rotation on the
// sender's side) under any of several keys (rotation on the receiver's
// side), fails closed when no secret is set, takes its clock from the [Now]
// option, and reports failures as *[VerifyError] values wrapping one of the
// sentinels ([ErrMissingHeader], [ErrMalformedHeader], [ErrNoMatch],
// [ErrTimestampTooOld], [ErrTimestampInFuture], [ErrMissingSecret]). No
// error text contains a secret or an expected signature, and a [Secret]
// prints as a mask in every fmt, slog and JSON path.
//
// [VerifyRequestSignature] reproduces Trigger.dev v2's helper of the same
// name, quirks included, so code ported from it behaves the same.
//
// The facts behind the presets are in hooklab's signature reference
// (shared/reference/signature-schemes.md); each vector under
// testdata/vectors names its source.
package signer
