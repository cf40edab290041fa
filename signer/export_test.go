package signer

// VerifyHmacSha256 gives the external tests verifyHmacSha256, which
// mirrors the Trigger.dev SDK's helper of that name.
func VerifyHmacSha256(headerValue, headerEncoding string, secret Secret, body string) bool {
	return verifyHmacSha256(headerValue, headerEncoding, secret, []byte(body))
}
