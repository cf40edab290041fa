// official.mjs signs and verifies webhooks with the providers' official
// libraries (pinned in package.json), so that go test ./signer/ -run
// TestOfficialLibraries can cross-check hooklab's presets against them.
// It reads one JSON object per line on stdin and writes one JSON line per
// input on stdout, in order.
//
// Input: {"lib": "stripe" | "octokit" | "standardwebhooks" | "svix",
//         "op": "sign" | "verify",
//         "secret": "...",        // as the provider shows it (whsec_..., text)
//         "body_base64": "...",   // the exact body bytes
//         "timestamp": 1700000000, // sign: unix seconds (stripe, standardwebhooks, svix)
//         "id": "msg_...",        // sign: message id (standardwebhooks, svix)
//         "headers": {"Name": "value"}, // verify: the delivery's headers
//         "now": 1700000000,      // verify, optional: the clock, unix seconds
//         "tolerance": 300}       // verify, optional: stripe's tolerance in seconds
//
// Output: sign  -> {"headers": {"Name": "value", ...}} (what the library produces)
//         verify-> {"ok": true} or {"ok": false, "error": "<message>"}
//         a library that throws while signing -> {"error": "<message>"}
//         {"harness_error": "..."} for malformed input.
//
// Clocks: stripe's constructEvent takes the clock as its receivedAt
// parameter (ms). standardwebhooks and svix read Date.now(), so when "now"
// is given, Date.now is replaced for the duration of that one call; without
// "now" the real clock is used.
import { serveJSONLines } from "./jsonl.mjs";
import { Buffer } from "node:buffer";
import Stripe from "stripe";
import { sign as octokitSign, verify as octokitVerify } from "@octokit/webhooks-methods";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";

const stripe = new Stripe("sk_test_hooklab_interop");

// header returns a header's value from a plain object, case-insensitively.
function header(headers, name) {
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() === name.toLowerCase()) return v;
  }
  return undefined;
}

async function withNow(now, f) {
  if (now === undefined || now === null) return f();
  const real = Date.now;
  Date.now = () => now * 1000;
  try {
    return await f();
  } finally {
    Date.now = real;
  }
}

async function sign(c, body) {
  switch (c.lib) {
    case "stripe":
      return {
        "Stripe-Signature": stripe.webhooks.generateTestHeaderString({
          payload: body.toString("utf8"),
          secret: c.secret,
          timestamp: c.timestamp,
        }),
      };
    case "octokit":
      return { "X-Hub-Signature-256": await octokitSign(c.secret, body.toString("utf8")) };
    case "standardwebhooks":
      return {
        "webhook-id": c.id,
        "webhook-timestamp": String(c.timestamp),
        "webhook-signature": new StandardWebhook(c.secret).sign(c.id, new Date(c.timestamp * 1000), body),
      };
    case "svix":
      return {
        "svix-id": c.id,
        "svix-timestamp": String(c.timestamp),
        "svix-signature": new SvixWebhook(c.secret).sign(c.id, new Date(c.timestamp * 1000), body),
      };
  }
  throw new Error(`unknown lib ${c.lib}`);
}

// verify returns normally when the library accepts the delivery and throws
// (or returns false) when it does not.
async function verify(c, body) {
  switch (c.lib) {
    case "stripe":
      stripe.webhooks.constructEvent(
        body,
        header(c.headers, "Stripe-Signature"),
        c.secret,
        c.tolerance ?? undefined,
        undefined,
        c.now === undefined || c.now === null ? undefined : c.now * 1000,
      );
      return true;
    case "octokit":
      return octokitVerify(c.secret, body.toString("utf8"), header(c.headers, "X-Hub-Signature-256"));
    case "standardwebhooks":
      return withNow(c.now, () => {
        new StandardWebhook(c.secret).verify(body, c.headers, { jsonParse: false });
        return true;
      });
    case "svix":
      return withNow(c.now, () => {
        new SvixWebhook(c.secret).verify(body, c.headers);
        return true;
      });
  }
  throw new Error(`unknown lib ${c.lib}`);
}

async function run(c) {
  const body = Buffer.from(c.body_base64 ?? "", "base64");
  if (c.op === "sign") {
    try {
      return { headers: await sign(c, body) };
    } catch (e) {
      return { error: String(e?.message ?? e) };
    }
  }
  if (c.op === "verify") {
    try {
      const ok = await verify(c, body);
      return ok ? { ok: true } : { ok: false, error: "verify returned false" };
    } catch (e) {
      return { ok: false, error: String(e?.message ?? e) };
    }
  }
  return { harness_error: `unknown op ${c.op}` };
}

await serveJSONLines(run);
