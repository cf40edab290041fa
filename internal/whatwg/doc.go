// Package whatwg holds the few algorithms of the WHATWG Encoding and URL
// standards that hooklab must reproduce exactly to agree with Node.js and
// Fetch: UTF-8 decoding with replacement, as Request.text() and
// Request.json() decode a body, and application/x-www-form-urlencoded
// parsing, as URLSearchParams reads a query. signer and matcher use them.
package whatwg
