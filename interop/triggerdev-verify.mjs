// triggerdev-verify.mjs runs Trigger.dev v2's verifyRequestSignature
// (@trigger.dev/sdk, pinned in package.json) on cases read from stdin, one
// JSON object per line, and writes one JSON line per case to stdout, in
// order. go test ./signer/ -run TestTriggerDevDifferential drives it.
//
// Input:
//   {"headers": [["name", "value"], ...],  // in order; repeats allowed
//    "body_base64": "...",                  // the exact body bytes
//    "headerName": "...",
//    "headerEncoding": "hex" | ... | null,  // null or absent: the SDK's default
//    "secret": "..." | null,                // a string secret (used as UTF-8)
//    "secret_base64": "...",                // or: a Buffer secret (raw bytes)
//    "algorithm": "sha256"}
// Header values are byte strings: each character U+0000-U+00FF is one byte
// on the wire, as Fetch treats them.
//
// Output: {"result": <the VerifyResult returned>} or {"throw": "<message>"}
// when verifyRequestSignature throws or rejects. {"harness_error": "..."}
// means the case could not be set up (bad JSON, a header Fetch refuses).
import { serveJSONLines } from "./jsonl.mjs";
import { Buffer } from "node:buffer";
import { verifyRequestSignature } from "@trigger.dev/sdk";

async function run(c) {
  let request;
  try {
    const secret =
      c.secret_base64 !== undefined && c.secret_base64 !== null
        ? Buffer.from(c.secret_base64, "base64")
        : c.secret;
    request = {
      request: new Request("http://localhost/hook", {
        method: "POST",
        headers: c.headers ?? [],
        body: new Uint8Array(Buffer.from(c.body_base64 ?? "", "base64")),
      }),
      headerName: c.headerName,
      headerEncoding: c.headerEncoding ?? undefined,
      secret,
      algorithm: c.algorithm,
    };
  } catch (e) {
    return { harness_error: String(e?.message ?? e) };
  }
  try {
    return { result: await verifyRequestSignature(request) };
  } catch (e) {
    return { throw: String(e?.message ?? e) };
  }
}

await serveJSONLines(run);
