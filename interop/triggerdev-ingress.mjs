// triggerdev-ingress.mjs is Trigger.dev v2 (platform and SDK together) as a
// webhook ingress that speaks hooklab's conformance control protocol
// (conformance/PROTOCOL.md). It is the executable side of the triggerdev-v2
// profile's differential test (sim/interop_triggerdev_test.go): the same
// requests go to it and to `hooklab serve --profile triggerdev-v2`, and the
// answers and deliveries must be identical.
//
// It is built on the published packages, pinned in package.json:
//   - @trigger.dev/sdk 2.3.19: verifyRequestSignature, run per run;
//   - @trigger.dev/core 2.3.19: requestFilterMatches (respondWith's filter),
//     eventFilterMatches and EventFilterSchema (the dispatchers),
//     RequestFilterSchema, RequestWithRawBodySchema.
// The platform (the webapp) is not published. Its request handling
// (apps/webapp/app/services/httpendpoint/HandleHttpEndpointService.ts, the
// route api.v1.http-endpoints.$httpEndpointId.env.$envType.$shortcode.ts,
// server.ts, utils/requestUrl.server.ts, utils/createHttpSourceRequest.ts)
// and its dispatcher matching (services/events/deliverEvent.server.ts,
// EventMatcher; services/events/ingestSendEvent.server.ts) are rebuilt here
// from the source at tag @trigger.dev/sdk@2.3.18, and so is the SDK's
// DELIVER_HTTP_ENDPOINT_REQUEST_FOR_RESPONSE and run start (parsePayload).
// Node's own HTTP server and Fetch classes (Request, Response, Headers)
// play themselves: the platform is an express + Remix app on Node.
//
// Usage: node triggerdev-ingress.mjs [--addr 127.0.0.1:0]
// It prints "listening http://HOST:PORT" on stdout once it serves, and runs
// until killed. Endpoints are served at /hooks/<id>.
//
// Behaviour, step by step (the Go profile's doc, sim/profile_triggerdev.go,
// has the same table):
//
// | step | behaviour |
// |---|---|
// | trailing slash | express middleware: a path ending in "/" (not "/") gets 301, Location = the path without the slash, runs of "/" collapsed, query kept; body "Moved Permanently. Redirecting to <Location>" (text/plain; charset=utf-8; express negotiates it by Accept, modelled for a client that sends none) |
// | method | Remix: GET, HEAD (loader) and POST, PUT, PATCH, DELETE (action) are served; any other method gets 405 with an empty body (the Remix router's 405; its body is not modelled) |
// | route | /hooks/<id> names a live endpoint, else 404 {"error":true,"message":"Could not find http endpoint"} (application/json; charset=utf-8) |
// | request as the platform sees it | URL http://<Host><request-target> parsed as a WHATWG URL; headers as Node's IncomingMessage joins them (names lower-case; repeats joined ", ", cookie "; ", set-cookie last, and the first of content-type, content-length, user-agent, authorization, host, … kept); body dropped for GET and HEAD (Remix) |
// | body size | no limit, as the platform; a hard safety cap of 1 GiB answers 413 with an empty body; the spec's maxBody is ignored |
// | respondWith | requestFilterMatches(platform request, RequestFilterSchema.parse(filter)); on a match the handler (the spec's declared response, templates rendered against the SDK-rebuilt request: url upgraded to https on x-forwarded-proto: https, headers as one value per lower-case name, raw body except for GET) is called as the SDK does: new Response(body, {status, headers}) (text/plain;charset=UTF-8 added when no content-type is declared), then {status, headers, body: await text()} and the platform's new Response(body, {status, headers}); a throw anywhere (204/304 with a body, a status outside 200-599, a header value Fetch refuses, HEAD's Request with a body, hmac without a secret) answers 500 with an empty body |
// | skipTriggering | the handler's response as is, whatever its status; no event, no runs |
// | handler status ≠ 200 | that response; no event, no runs |
// | event | rawBody = UTF-8 decode of the body (BOM stripped, invalid bytes → U+FFFD; "" for GET/HEAD); url = requestUrl() (https on exactly "https"); headers as above; id = idempotency-key ?? x-request-id header (an empty header counts) ?? a fresh ULID |
// | duplicate event id | a repeated idempotency-key / x-request-id on the same endpoint is answered as usual and starts no runs (2.3.18 returns the stored event); the ids are kept per endpoint, at most 100000 (oldest forgotten first) |
// | answer | the handler's 200 response, else 200 with an empty body and no content-type; always Strict-Transport-Security |
// | dispatchers | after the answer, each trigger in spec order: filter parsed with EventFilterSchema (at creation: an invalid one is a 400 there); content-type containing "application/json" (case-sensitive): JSON.parse(rawBody) (a failure wakes no trigger at all), eventFilterMatches({context:{}, payload:{url, method, headers, body}}, {payload: F, context: {}}); otherwise eventFilterMatches({url, method, headers, rawBody}, {payload: F, context: {}}), so only a filter with no keys matches |
// | run | per matching trigger: new Request(url, {method, headers, body: rawBody}) (Fetch adds content-type: text/plain;charset=UTF-8 when the stored headers have none); GET and HEAD throw there, and the run fails before verification |
// | verification | per run, verifyRequestSignature({request, headerName, headerEncoding, secret, algorithm: "sha256"}) for each secret, newest first, until one succeeds; the delivery says verified:true, or verified:false with the VerifyResult reason ("Missing header", "Failed sha256 verification"); for GET/HEAD, verify or not, the reason is the Request constructor's message ("Request with GET/HEAD method cannot have body."); with no verify, verified:false and no reason |
// | delivery | one envelope per run, POSTed to the trigger's deliver URL: the run's request (method, url, headers one value per lower-case name, body = UTF-8 of rawBody, base64), a fresh id per delivery ("id" and the Hooklab-Delivery-Id header, the same on every retry; Hooklab-Delivery-Attempt counts), receivedAt, deliveredAt; 5 attempts, 100 ms backoff doubling, retried only after a network error or a non-2xx answer |
//
// Specs are checked as the platform would take them: trigger filters with
// EventFilterSchema, respondWith's with RequestFilterSchema (which drops
// unknown keys). hooklab checks both against its own RequestFilter grammar,
// so a few filters this adapter takes (a "url" key, an upper-case header
// name) the Go profile refuses with 400; the differential sends none.
//
// What it cannot express, it declines with 501 {"error":"not implemented"}:
// a verify scheme that verifyRequestSignature cannot check (anything but
// HMAC-SHA256 of the body alone, one header, hex, base64 or base64url, a
// raw key, no timestamp, a bare value with no prefix or "sha256=" or
// "hmac-sha256="), and response templates outside the subset below.
//
// Templates (the declared response is hooklab's Go text/template, see
// sim.ResponseSpec): actions {{f arg…}} with the functions query, header,
// body, hmac, json, method, rawBody; arguments are string literals ("…" or
// `…`), other calls in parentheses, or bare no-argument functions. body's
// path must be plain dot-separated keys ([A-Za-z0-9_-]); it is read from a
// JSON body as gjson does (the first of repeated keys; strings unescaped,
// integers as written, other numbers as Go's 'f' format, objects and arrays
// as their raw text, null and missing as ""); on a body that is not JSON it
// gives "" (gjson's lenient reading of broken JSON is not reproduced).
// query is Go's url.Values (a pair with ";" or a bad escape is dropped; the
// last value wins). hmac signs only an opaque token (1 to 256 of A-Z a-z
// 0-9 _ -), and a rendered body over 1 MiB or header values over 8 KiB in
// all are errors, as in hooklab; any error is the handler throwing (500).
// hooklab's 16 MiB meter of template work is not reproduced.
import http from "node:http";
import crypto from "node:crypto";
import { Buffer } from "node:buffer";
import { verifyRequestSignature } from "@trigger.dev/sdk";
import {
  requestFilterMatches,
  eventFilterMatches,
  EventFilterSchema,
  RequestFilterSchema,
  RequestWithRawBodySchema,
} from "@trigger.dev/core";

const PATH_PREFIX = "/hooks/";
const SAFETY_CAP = 1 << 30; // 1 GiB
const MAX_EVENT_IDS = 100000;
const STS = `max-age=${60 * 60 * 24 * 365 * 100}`;
const DELIVERY_ATTEMPTS = 5;
const DELIVERY_BACKOFF_MS = 100;
const CONTROL_BODY_MAX = 16 << 20;
// hooklab's bounds on a rendered respondWith response (sim/response.go).
const MAX_RESPONSE_BODY = 1 << 20;
const MAX_RESPONSE_HEADERS = 8 << 10;

// Presets verifyRequestSignature can check: header and encoding. The
// prefix does not matter: verifyRequestSignature strips "hmac-sha256=" and
// "sha256=" whatever the scheme writes.
const PRESETS = {
  bitbucket: ["X-Hub-Signature", "hex"],
  caldotcom: ["X-Cal-Signature-256", "hex"],
  "coinbase-commerce": ["X-CC-Webhook-Signature", "hex"],
  dropbox: ["X-Dropbox-Signature", "hex"],
  github: ["X-Hub-Signature-256", "hex"],
  heroku: ["Heroku-Webhook-Hmac-SHA256", "base64"],
  launchdarkly: ["X-LD-Signature", "hex"],
  "lemon-squeezy": ["X-Signature", "hex"],
  meta: ["X-Hub-Signature-256", "hex"],
  sentry: ["Sentry-Hook-Signature", "hex"],
  shopify: ["X-Shopify-Hmac-Sha256", "base64"],
  typeform: ["Typeform-Signature", "base64"],
  xero: ["x-xero-signature", "base64"],
};

class SpecError extends Error {}
class NotImplemented extends Error {}

// ---------------------------------------------------------------- spec

const ID_RE = /^[A-Za-z0-9._~-]+$/;

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function onlyKeys(obj, keys, path) {
  for (const k of Object.keys(obj)) {
    if (!keys.includes(k)) throw new SpecError(`${path}${path ? "." : ""}${k}: unknown key`);
  }
}

function compileVerify(v) {
  if (!isObject(v)) throw new SpecError("verify: want an object");
  onlyKeys(v, ["preset", "scheme", "secret", "secrets", "secretEnv", "tolerance"], "verify");
  let header, encoding;
  if (v.preset !== undefined && v.scheme !== undefined) throw new SpecError('verify: both "preset" and "scheme"');
  if (typeof v.preset === "string" && v.preset !== "") {
    const p = PRESETS[v.preset];
    if (!p) throw new NotImplemented(`verify.preset: ${JSON.stringify(v.preset)} is not a scheme verifyRequestSignature can check (HMAC-SHA256 of the body alone in one header)`);
    [header, encoding] = p;
  } else if (isObject(v.scheme)) {
    const s = v.scheme;
    const why = schemeMisfit(s);
    if (why) throw new NotImplemented(`verify.scheme: ${why}: verifyRequestSignature checks HMAC-SHA256 of the body alone in one header`);
    header = s.header;
    encoding = s.encoding || "hex";
  } else {
    throw new SpecError('verify: want "preset" or "scheme"');
  }
  let secrets;
  const n = [v.secret !== undefined, v.secrets !== undefined, v.secretEnv !== undefined].filter(Boolean).length;
  if (n > 1) throw new SpecError('verify: more than one of "secret", "secrets" and "secretEnv"');
  if (v.secret !== undefined) secrets = [v.secret];
  else if (v.secrets !== undefined) secrets = v.secrets;
  else if (v.secretEnv !== undefined) {
    const val = process.env[String(v.secretEnv)];
    if (!val) throw new SpecError(`verify.secretEnv: environment variable ${v.secretEnv} is not set`);
    secrets = val.split(",");
  } else secrets = [];
  if (!Array.isArray(secrets) || secrets.length === 0) throw new SpecError('verify: no secret: want "secret" or "secrets"');
  secrets.forEach((s, i) => {
    if (typeof s !== "string") throw new SpecError(`verify.secrets[${i}]: want a string`);
    if (s === "") throw new SpecError(`verify.secrets[${i}]: empty`);
  });
  return { header, encoding, secrets };
}

function schemeMisfit(s) {
  if (s.algorithm !== "hmac-sha256") return `algorithm ${JSON.stringify(s.algorithm)}`;
  if (s.key) return `key format ${JSON.stringify(s.key)}`;
  if (s.message && s.message !== "{body}") return `message ${JSON.stringify(s.message)}`;
  if (!["", undefined, "hex", "base64", "base64url"].includes(s.encoding)) return `encoding ${JSON.stringify(s.encoding)}`;
  if (!s.header) return "no signature header";
  if (s.extra_headers?.length) return "extra signature headers";
  const syn = s.syntax ?? {};
  if (syn.kind !== "bare") return `syntax ${JSON.stringify(syn.kind)}`;
  if (!["", undefined, "sha256=", "hmac-sha256="].includes(syn.prefix)) return `prefix ${JSON.stringify(syn.prefix)}`;
  if (s.timestamp?.source) return "a timestamp";
  if (s.id_header) return "a message id";
  if (s.body_hash_param) return "a body hash parameter";
  if (s.multiple_signatures) return "several signatures per header";
  return "";
}

function compile(spec) {
  if (!isObject(spec)) throw new SpecError("want a JSON object");
  onlyKeys(spec, ["id", "source", "verify", "respondWith", "triggers", "maxBody"], "");
  if (typeof spec.id !== "string" || spec.id === "") throw new SpecError("id: missing");
  if (!ID_RE.test(spec.id)) throw new SpecError(`id: ${JSON.stringify(spec.id)}: want letters, digits and -._~ only`);
  if (spec.maxBody !== undefined && (typeof spec.maxBody !== "number" || spec.maxBody < 0)) {
    throw new SpecError("maxBody: want a non-negative number");
  }
  const ep = { id: spec.id, token: crypto.randomUUID(), verify: null, respond: null, triggers: [], seen: new Set(), seenOrder: [] };
  if (spec.verify !== undefined && spec.verify !== null) ep.verify = compileVerify(spec.verify);
  if (spec.respondWith !== undefined && spec.respondWith !== null) {
    const r = spec.respondWith;
    if (!isObject(r)) throw new SpecError("respondWith: want an object");
    onlyKeys(r, ["filter", "skipTriggering", "response"], "respondWith");
    if (r.filter === undefined || r.filter === null) {
      throw new SpecError("respondWith.filter: missing: without a filter Trigger.dev never calls the handler");
    }
    const f = RequestFilterSchema.safeParse(r.filter);
    if (!f.success) throw new SpecError(`respondWith.filter: ${f.error.issues.map((i) => i.path.join(".") + ": " + i.message).join("; ")}`);
    const resp = r.response ?? {};
    if (!isObject(resp)) throw new SpecError("respondWith.response: want an object");
    onlyKeys(resp, ["status", "headers", "body"], "respondWith.response");
    const status = resp.status === undefined || resp.status === 0 ? 200 : resp.status;
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new SpecError(`respondWith.response.status: ${status} is not an HTTP status`);
    }
    const headers = [];
    for (const name of Object.keys(resp.headers ?? {}).sort()) {
      headers.push([name, parseTemplate(String(resp.headers[name]), `respondWith.response.headers.${name}`)]);
    }
    ep.respond = {
      filter: f.data,
      skip: r.skipTriggering === true,
      status,
      headers,
      body: parseTemplate(resp.body === undefined ? "" : String(resp.body), "respondWith.response.body"),
    };
  }
  const ids = new Set();
  for (const [i, t] of (spec.triggers ?? []).entries()) {
    const path = `triggers[${i}]`;
    if (!isObject(t)) throw new SpecError(`${path}: want an object`);
    onlyKeys(t, ["id", "filter", "deliver"], path);
    if (typeof t.id !== "string" || t.id === "") throw new SpecError(`${path}.id: missing`);
    if (ids.has(t.id)) throw new SpecError(`${path}.id: ${JSON.stringify(t.id)} used twice`);
    ids.add(t.id);
    // onRequest({filter}) stores filter ?? {} as the dispatcher's payload
    // filter; the platform parses it with EventFilterSchema.
    const raw = t.filter === undefined || t.filter === null ? {} : t.filter;
    const f = EventFilterSchema.safeParse(raw);
    if (!f.success) throw new SpecError(`${path}.filter: ${f.error.issues.map((x) => x.path.join(".") + ": " + x.message).join("; ")}`);
    if (t.deliver !== undefined && t.deliver !== "") {
      let u;
      try {
        u = new URL(t.deliver);
      } catch {
        throw new SpecError(`${path}.deliver: not a URL`);
      }
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new SpecError(`${path}.deliver: want an http(s) URL`);
    }
    ep.triggers.push({ id: t.id, filter: f.data, deliver: t.deliver || "" });
  }
  return ep;
}

// ---------------------------------------------------------------- templates

const FUNCS = { query: 1, header: 1, body: 1, hmac: 2, json: 1, method: 0, rawBody: 0 };
const BODY_PATH_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

// parseTemplate compiles the supported subset of Go text/template into a
// list of parts: strings (literal text) and call trees.
function parseTemplate(src, path) {
  const parts = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    if (open < 0) {
      parts.push(src.slice(i));
      break;
    }
    if (open > i) parts.push(src.slice(i, open));
    const close = src.indexOf("}}", open + 2);
    if (close < 0) throw new SpecError(`${path}: unclosed action`);
    const action = src.slice(open + 2, close);
    if (action.startsWith("-") || action.endsWith("-") || action.trimStart().startsWith("/*")) {
      throw new NotImplemented(`${path}: template trim markers and comments are outside the adapter's template subset`);
    }
    const toks = tokenize(action, path);
    const p = { toks, i: 0 };
    const call = parseCommand(p, path);
    if (p.i !== toks.length) throw new NotImplemented(`${path}: {{${action}}} is outside the adapter's template subset`);
    parts.push(call);
    i = close + 2;
  }
  return parts;
}

function tokenize(s, path) {
  const toks = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
    } else if (c === "(" || c === ")") {
      toks.push({ t: c });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let out = "";
      for (;;) {
        if (j >= s.length) throw new SpecError(`${path}: unterminated string`);
        const d = s[j];
        if (d === '"') break;
        if (d === "\\") {
          const e = s[j + 1];
          const simple = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", a: "\x07", b: "\b", f: "\f", v: "\v" };
          if (e in simple) {
            out += simple[e];
            j += 2;
            continue;
          }
          throw new NotImplemented(`${path}: string escape \\${e} is outside the adapter's template subset`);
        }
        out += d;
        j++;
      }
      toks.push({ t: "str", v: out });
      i = j + 1;
    } else if (c === "`") {
      const j = s.indexOf("`", i + 1);
      if (j < 0) throw new SpecError(`${path}: unterminated raw string`);
      toks.push({ t: "str", v: s.slice(i + 1, j) });
      i = j + 1;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
      if (!m) throw new NotImplemented(`${path}: ${JSON.stringify(s.slice(i, i + 10))} is outside the adapter's template subset`);
      toks.push({ t: "id", v: m[0] });
      i += m[0].length;
    }
  }
  return toks;
}

// parseCommand reads "f arg…" up to the end or a ")".
function parseCommand(p, path) {
  const head = p.toks[p.i];
  if (!head || head.t !== "id" || !(head.v in FUNCS)) {
    throw new NotImplemented(`${path}: only the functions ${Object.keys(FUNCS).join(", ")} are in the adapter's template subset`);
  }
  p.i++;
  const args = [];
  while (p.i < p.toks.length && p.toks[p.i].t !== ")") {
    args.push(parseArg(p, path));
  }
  if (args.length !== FUNCS[head.v]) throw new SpecError(`${path}: ${head.v} wants ${FUNCS[head.v]} arguments, got ${args.length}`);
  if (head.v === "body" && typeof args[0] === "string" && !BODY_PATH_RE.test(args[0])) {
    throw new NotImplemented(`${path}: body path ${JSON.stringify(args[0])} is outside the adapter's plain dot paths`);
  }
  if (head.v === "body" && typeof args[0] !== "string") {
    throw new NotImplemented(`${path}: body with a computed path is outside the adapter's template subset`);
  }
  return { f: head.v, args };
}

function parseArg(p, path) {
  const t = p.toks[p.i];
  if (t.t === "str") {
    p.i++;
    return t.v;
  }
  if (t.t === "(") {
    p.i++;
    const c = parseCommand(p, path);
    if (p.toks[p.i]?.t !== ")") throw new SpecError(`${path}: unclosed parenthesis`);
    p.i++;
    return c;
  }
  if (t.t === "id" && FUNCS[t.v] === 0) {
    p.i++;
    return { f: t.v, args: [] };
  }
  throw new NotImplemented(`${path}: argument outside the adapter's template subset`);
}

// A template value is a byte string (a Buffer), as Go's strings are bytes.
function render(parts, ctx) {
  const out = [];
  for (const part of parts) out.push(typeof part === "string" ? Buffer.from(part, "utf8") : evalCall(part, ctx));
  return Buffer.concat(out);
}

function evalArg(a, ctx) {
  return typeof a === "string" ? Buffer.from(a, "utf8") : evalCall(a, ctx);
}

function evalCall(c, ctx) {
  const a = c.args.map((x) => evalArg(x, ctx));
  switch (c.f) {
    case "method":
      return Buffer.from(ctx.method, "utf8");
    case "rawBody":
      return ctx.body;
    case "header":
      // Headers.get gives a JS string (Node read the bytes as latin1);
      // in a template it is that string's UTF-8, as in Go.
      return Buffer.from(ctx.headers.get(a[0].toString("utf8")) ?? "", "utf8");
    case "query":
      return goQuery(ctx.url, a[0]);
    case "body":
      return gjsonString(ctx.body, a[0].toString("utf8"));
    case "json":
      return Buffer.from(goJSONString(a[0]), "utf8");
    case "hmac": {
      const alg = a[0].toString("utf8");
      const algs = { sha1: ["sha1", "hex"], sha256: ["sha256", "hex"], sha256b64: ["sha256", "base64"], sha512: ["sha512", "hex"] };
      if (!algs[alg]) throw new Error(`hmac: unknown algorithm ${JSON.stringify(alg)}`);
      if (!ctx.key) throw new Error("hmac: the endpoint has no secret");
      // hooklab signs only opaque tokens, so that no endpoint is a signing
      // oracle (sim/response.go isToken).
      if (!/^[A-Za-z0-9_-]{1,256}$/.test(a[1].toString("latin1"))) throw new Error("hmac: the value is not an opaque token");
      return Buffer.from(crypto.createHmac(algs[alg][0], Buffer.from(ctx.key, "utf8")).update(a[1]).digest(algs[alg][1]), "utf8");
    }
  }
  throw new Error(`unknown function ${c.f}`);
}

// goQuery is Go's url.Parse(u).Query()[name], last value: pairs split on
// "&"; a pair with ";" or a bad escape is dropped; "+" is a space.
function goQuery(url, name) {
  const q = url.indexOf("?");
  if (q < 0) return Buffer.alloc(0);
  let raw = url.slice(q + 1);
  const hash = raw.indexOf("#");
  if (hash >= 0) raw = raw.slice(0, hash);
  let last = null;
  for (const pair of raw.split("&")) {
    if (pair === "" || pair.includes(";")) continue;
    const eq = pair.indexOf("=");
    const k = goUnescape(eq < 0 ? pair : pair.slice(0, eq));
    const v = goUnescape(eq < 0 ? "" : pair.slice(eq + 1));
    if (k === null || v === null) continue;
    if (k.equals(name)) last = v;
  }
  return last ?? Buffer.alloc(0);
}

function goUnescape(s) {
  const out = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "%") {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) return null;
      out.push(parseInt(h, 16));
      i += 2;
    } else if (c === "+") {
      out.push(0x20);
    } else {
      for (const b of Buffer.from(c, "utf8")) out.push(b);
    }
  }
  return Buffer.from(out);
}

// goJSONString is Go's json.Marshal of a string held as bytes.
function goJSONString(buf) {
  let out = '"';
  let i = 0;
  while (i < buf.length) {
    const b = buf[i];
    if (b < 0x80) {
      const c = String.fromCharCode(b);
      if (c === '"' || c === "\\") out += "\\" + c;
      else if (c === "\n") out += "\\n";
      else if (c === "\r") out += "\\r";
      else if (c === "\t") out += "\\t";
      else if (c === "\b") out += "\\b";
      else if (c === "\f") out += "\\f";
      else if (b < 0x20 || c === "<" || c === ">" || c === "&") out += "\\u00" + b.toString(16).padStart(2, "0");
      else out += c;
      i++;
      continue;
    }
    const [cp, size] = decodeRune(buf, i);
    if (cp < 0) out += "\\ufffd";
    else if (cp === 0x2028 || cp === 0x2029) out += "\\u" + cp.toString(16);
    else out += String.fromCodePoint(cp);
    i += size;
  }
  return out + '"';
}

// decodeRune is Go's utf8.DecodeRune: [codepoint, size], or [-1, 1].
function decodeRune(b, i) {
  const c0 = b[i];
  const cont = (x) => x !== undefined && (x & 0xc0) === 0x80;
  if (c0 >= 0xc2 && c0 <= 0xdf && cont(b[i + 1])) return [((c0 & 0x1f) << 6) | (b[i + 1] & 0x3f), 2];
  if (c0 >= 0xe0 && c0 <= 0xef && cont(b[i + 1]) && cont(b[i + 2])) {
    const cp = ((c0 & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
    if (cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff)) return [cp, 3];
  }
  if (c0 >= 0xf0 && c0 <= 0xf4 && cont(b[i + 1]) && cont(b[i + 2]) && cont(b[i + 3])) {
    const cp = ((c0 & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
    if (cp >= 0x10000 && cp <= 0x10ffff) return [cp, 4];
  }
  return [-1, 1];
}

// gjsonString reads a plain dot path from a JSON body as gjson's
// Result.String() does; "" for a body that is not JSON.
function gjsonString(body, path) {
  const text = body.toString("latin1"); // positions are bytes
  try {
    JSON.parse(new TextDecoder().decode(body));
  } catch {
    return Buffer.alloc(0);
  }
  let span = [skipWS(text, 0), -1];
  span[1] = skipValue(text, span[0]);
  for (const key of path.split(".")) {
    span = child(text, span[0], key);
    if (!span) return Buffer.alloc(0);
  }
  const raw = text.slice(span[0], span[1]);
  const c = raw[0];
  if (c === '"') return gjsonUnescape(Buffer.from(raw.slice(1, -1), "latin1"));
  if (c === "{" || c === "[") return Buffer.from(raw, "latin1");
  if (raw === "true" || raw === "false") return Buffer.from(raw);
  if (raw === "null") return Buffer.alloc(0);
  if (/^-?[0-9]+$/.test(raw)) return Buffer.from(raw);
  return Buffer.from(goFormatFloat(Number(raw)));
}

// gjsonUnescape is gjson's string unescaping over bytes: bytes that are
// not part of an escape are kept as they are (invalid UTF-8 included); a
// high surrogate \u escape followed by a low one is a pair, and any other
// surrogate escape gives U+FFFD (tidwall/gjson 1.20.1, pinned in go.mod).
function gjsonUnescape(b) {
  if (!b.includes(0x5c)) return b;
  const out = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 0x5c) {
      out.push(b[i]);
      continue;
    }
    const e = String.fromCharCode(b[++i]);
    const simple = { '"': 0x22, "\\": 0x5c, "/": 0x2f, b: 0x08, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09 };
    if (e in simple) {
      out.push(simple[e]);
      continue;
    }
    // e === "u"
    let cp = parseInt(b.subarray(i + 1, i + 5).toString("latin1"), 16);
    i += 4;
    if (cp >= 0xd800 && cp < 0xdc00 && b[i + 1] === 0x5c && b[i + 2] === 0x75) {
      // a high surrogate takes a low one that follows (gjson 1.20)
      const lo = parseInt(b.subarray(i + 3, i + 7).toString("latin1"), 16);
      if (lo >= 0xdc00 && lo < 0xe000) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i += 6;
      }
    }
    if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
    for (const x of Buffer.from(String.fromCodePoint(cp), "utf8")) out.push(x);
  }
  return Buffer.from(out);
}

function skipWS(s, i) {
  while (i < s.length && " \t\n\r".includes(s[i])) i++;
  return i;
}

// skipValue returns the end of the (valid) JSON value at i.
function skipValue(s, i) {
  const c = s[i];
  if (c === '"') {
    i++;
    while (s[i] !== '"') i += s[i] === "\\" ? 2 : 1;
    return i + 1;
  }
  if (c === "{" || c === "[") {
    let depth = 0;
    for (; i < s.length; i++) {
      const d = s[i];
      if (d === '"') {
        i = skipValue(s, i) - 1;
      } else if (d === "{" || d === "[") depth++;
      else if (d === "}" || d === "]") {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return i;
  }
  while (i < s.length && !",}] \t\n\r".includes(s[i])) i++;
  return i;
}

// child returns the span of key in the object or array at i, or null.
function child(s, i, key) {
  const open = s[i];
  if (open !== "{" && open !== "[") return null;
  let idx = 0;
  i = skipWS(s, i + 1);
  while (i < s.length && s[i] !== "}" && s[i] !== "]") {
    if (open === "{") {
      const kEnd = skipValue(s, i);
      const k = JSON.parse(Buffer.from(s.slice(i, kEnd), "latin1").toString("utf8"));
      i = skipWS(s, kEnd);
      i = skipWS(s, i + 1); // ':'
      const vEnd = skipValue(s, i);
      if (k === key) return [i, vEnd];
      i = skipWS(s, vEnd);
    } else {
      const vEnd = skipValue(s, i);
      if (String(idx) === key) return [i, vEnd];
      idx++;
      i = skipWS(s, vEnd);
    }
    if (s[i] === ",") i = skipWS(s, i + 1);
  }
  return null;
}

// goFormatFloat is Go's strconv.FormatFloat(f, 'f', -1, 64).
function goFormatFloat(f) {
  if (f === Infinity) return "+Inf";
  if (f === -Infinity) return "-Inf";
  if (Number.isNaN(f)) return "NaN";
  if (Object.is(f, -0)) return "-0";
  let s = String(f);
  const e = s.indexOf("e");
  if (e < 0) return s;
  let mant = s.slice(0, e);
  const exp = Number(s.slice(e + 1));
  let neg = "";
  if (mant[0] === "-") {
    neg = "-";
    mant = mant.slice(1);
  }
  const dot = mant.indexOf(".");
  const digits = mant.replace(".", "");
  let point = (dot < 0 ? mant.length : dot) + exp;
  if (point <= 0) return neg + "0." + "0".repeat(-point) + digits;
  if (point >= digits.length) return neg + digits + "0".repeat(point - digits.length);
  return neg + digits.slice(0, point) + "." + digits.slice(point);
}

// ---------------------------------------------------------------- server

const endpoints = new Map();
let baseURL = "";

function sendJSON(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req, cap) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    let over = false;
    req.on("data", (c) => {
      n += c.length;
      if (n > cap) over = true;
      if (!over) chunks.push(c);
    });
    req.on("end", () => resolve(over ? null : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

async function control(req, res, path) {
  if (path === "/endpoints" && req.method === "POST") {
    const body = await readBody(req, CONTROL_BODY_MAX);
    if (body === null) return sendJSON(res, 413, { error: "spec too large" });
    let spec;
    try {
      spec = JSON.parse(body.toString("utf8"));
    } catch (e) {
      return sendJSON(res, 400, { error: "invalid spec", reason: `request body: ${e.message}` });
    }
    let ep;
    try {
      ep = compile(spec);
    } catch (e) {
      if (e instanceof NotImplemented) return sendJSON(res, 501, { error: "not implemented", reason: e.message });
      if (e instanceof SpecError) return sendJSON(res, 400, { error: "invalid spec", reason: e.message });
      throw e;
    }
    if (endpoints.has(ep.id)) {
      return sendJSON(res, 409, { error: "invalid spec", reason: `endpoint ${JSON.stringify(ep.id)}: endpoint already exists` });
    }
    endpoints.set(ep.id, ep);
    return sendJSON(res, 201, { id: ep.id, url: baseURL + PATH_PREFIX + ep.id });
  }
  if (path === "/endpoints" && req.method === "GET") {
    await readBody(req, 0);
    return sendJSON(res, 200, { endpoints: [...endpoints.keys()].sort() });
  }
  const id = path.slice("/endpoints/".length);
  if (path.startsWith("/endpoints/") && id !== "" && !id.includes("/") && req.method === "DELETE") {
    await readBody(req, 0);
    if (!endpoints.delete(id)) return sendJSON(res, 404, { error: "unknown endpoint", reason: `no endpoint ${JSON.stringify(id)}` });
    res.writeHead(204);
    return res.end();
  }
  await readBody(req, 0);
  return sendJSON(res, 404, { error: "not found", reason: `${req.method} ${path} is not part of the control API` });
}

// platformHeaders is Remix's createRemixHeaders over Node's req.headers.
function platformHeaders(req) {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const x of v) h.append(k, x);
    else h.set(k, v);
  }
  return h;
}

// requestUrl is the platform's requestUrl(): https on exactly "https".
function requestUrl(request) {
  const u = new URL(request.url);
  if (request.headers.get("x-forwarded-proto") === "https") u.protocol = "https:";
  return u;
}

function writeResponse(res, status, headers, body, method) {
  headers.set("Strict-Transport-Security", STS);
  const out = {};
  for (const [k, v] of headers) out[k] = v;
  res.writeHead(status, out);
  res.end(method === "HEAD" ? undefined : body);
}

async function hook(req, res, pathname, search) {
  const received = new Date();
  const method = req.method;
  if (!["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].includes(method)) {
    await readBody(req, SAFETY_CAP);
    return writeResponse(res, 405, new Headers(), "", method);
  }
  // Remix hands the route its params percent-decoded.
  let id = pathname.slice(PATH_PREFIX.length);
  try {
    id = decodeURIComponent(id);
  } catch {
    // a malformed escape stays as it is
  }
  const ep = id !== "" && !id.includes("/") ? endpoints.get(id) : undefined;
  const bytes = await readBody(req, SAFETY_CAP);
  if (!ep) {
    return writeResponse(res, 404, new Headers({ "content-type": "application/json; charset=utf-8" }),
      JSON.stringify({ error: true, message: "Could not find http endpoint" }), method);
  }
  if (bytes === null) return writeResponse(res, 413, new Headers(), "", method);
  const hasBody = method !== "GET" && method !== "HEAD";
  const platform = new Request(`http://${req.headers.host}${req.url}`, {
    method,
    headers: platformHeaders(req),
    body: hasBody ? new Uint8Array(bytes) : undefined,
  });
  let answer; // [status, Headers, body]
  try {
    answer = await immediateResponse(ep, platform, bytes);
  } catch {
    return writeResponse(res, 500, new Headers(), "", method);
  }
  if (answer?.stop) return writeResponse(res, answer.status, answer.headers, answer.body, method);

  const rawBody = await platform.text();
  const url = requestUrl(platform).href;
  const headers = Object.fromEntries(platform.headers);
  const eventId = platform.headers.get("idempotency-key") ?? platform.headers.get("x-request-id");
  let duplicate = false;
  if (eventId !== null) {
    duplicate = ep.seen.has(eventId);
    if (!duplicate) {
      ep.seen.add(eventId);
      ep.seenOrder.push(eventId);
      if (ep.seenOrder.length > MAX_EVENT_IDS) ep.seen.delete(ep.seenOrder.shift());
    }
  }
  if (answer) writeResponse(res, answer.status, answer.headers, answer.body, method);
  else writeResponse(res, 200, new Headers(), undefined, method);
  if (!duplicate) dispatch(ep, { url, method, headers, rawBody }, received);
}

// immediateResponse is step 7 of the platform's flow: undefined when the
// filter does not match, {stop, status, headers, body} otherwise.
async function immediateResponse(ep, platform, bytes) {
  const rw = ep.respond;
  if (!rw || !(await requestFilterMatches(platform, rw.filter))) return undefined;
  // createHttpSourceRequest, then the SDK's rebuilt request.
  const src = await platform.clone().arrayBuffer();
  const sdkReq = new Request(requestUrl(platform).href, {
    method: platform.method,
    headers: Object.fromEntries(platform.headers),
    body: platform.method !== "GET" ? new Uint8Array(src) : undefined,
    duplex: "half",
  });
  const body = Buffer.from(await sdkReq.clone().arrayBuffer());
  const ctx = { method: sdkReq.method, url: sdkReq.url, headers: sdkReq.headers, body, key: ep.verify?.secrets[0] };
  // hooklab renders each header into a Go http.Header with Set, in sorted
  // order: names canonicalised, the last of two spellings wins.
  // Its bounds: 8 KiB of rendered header values, 1 MiB of body.
  const hdrs = {};
  let headerBytes = 0;
  for (const [name, tmpl] of rw.headers) {
    const v = render(tmpl, ctx);
    headerBytes += v.length;
    if (headerBytes > MAX_RESPONSE_HEADERS) throw new Error("respondWith: headers too large");
    hdrs[goCanonicalHeaderKey(name)] = new TextDecoder("utf-8", { ignoreBOM: true }).decode(v);
  }
  const bodyBytes = render(rw.body, ctx);
  if (bodyBytes.length > MAX_RESPONSE_BODY) throw new Error("respondWith: body too large");
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bodyBytes);
  const handled = new Response(text, { status: rw.status, headers: hdrs });
  // The SDK's answer, as the platform parses it.
  const sdk = { status: handled.status, headers: Object.fromEntries(handled.headers.entries()), body: await handled.text() };
  const wire = JSON.parse(JSON.stringify(sdk));
  const resp = new Response(wire.body, { status: wire.status, headers: wire.headers });
  const out = { status: resp.status, headers: new Headers(resp.headers), body: Buffer.from(await resp.arrayBuffer()) };
  if (rw.skip || out.status !== 200) out.stop = true;
  return out;
}

// goCanonicalHeaderKey is Go's http.CanonicalHeaderKey: a name made of
// token characters gets upper case at its start and after each "-",
// lower case elsewhere; any other name is left as it is.
function goCanonicalHeaderKey(name) {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) return name;
  let upper = true;
  let out = "";
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === "-";
  }
  return out;
}

// dispatch is DeliverEventService + EventMatcher, then one run per match.
function dispatch(ep, payload, received) {
  const parsed = RequestWithRawBodySchema.safeParse(payload);
  if (!parsed.success) return;
  const data = parsed.data;
  const matches = [];
  try {
    for (const t of ep.triggers) {
      const filter = { payload: t.filter, context: {} };
      let ok;
      if (data.headers["content-type"]?.includes("application/json")) {
        const body = JSON.parse(data.rawBody); // a throw ends the transaction: no runs
        ok = eventFilterMatches({ context: {}, payload: { url: data.url, method: data.method, headers: data.headers, body } }, filter);
      } else {
        ok = eventFilterMatches(data, filter);
      }
      if (ok) matches.push(t);
    }
  } catch {
    return;
  }
  for (const t of matches) run(ep, t, data, received);
}

async function run(ep, t, data, received) {
  let verification = { verified: false };
  let request = { method: data.method, url: data.url, headers: data.headers, body: "" };
  let runReq;
  try {
    runReq = new Request(data.url, { method: data.method, headers: data.headers, body: data.rawBody });
  } catch (e) {
    verification = { verified: false, reason: String(e?.message ?? e) };
  }
  if (runReq) {
    request = { method: runReq.method, url: runReq.url, headers: Object.fromEntries(runReq.headers), body: data.rawBody };
    if (ep.verify) {
      let result;
      for (const secret of ep.verify.secrets) {
        result = await verifyRequestSignature({
          request: runReq.clone(),
          headerName: ep.verify.header,
          headerEncoding: ep.verify.encoding,
          secret,
          algorithm: "sha256",
        });
        if (result.success) break;
      }
      verification = result.success ? { verified: true } : { verified: false, reason: result.reason };
    }
  }
  const headers = {};
  for (const [k, v] of Object.entries(request.headers)) headers[k] = [v];
  const envelope = {
    id: crypto.randomUUID(),
    endpoint: ep.id,
    trigger: t.id,
    request: { method: request.method, url: request.url, headers, body: Buffer.from(request.body, "utf8").toString("base64") },
    verification,
    receivedAt: received.toISOString(),
    deliveredAt: "",
  };
  if (!t.deliver) return;
  let wait = DELIVERY_BACKOFF_MS;
  for (let attempt = 1; ; attempt++) {
    envelope.deliveredAt = new Date().toISOString();
    try {
      const r = await fetch(t.deliver, {
        method: "POST",
        headers: { "content-type": "application/json", "hooklab-delivery-id": envelope.id, "hooklab-delivery-attempt": String(attempt) },
        body: JSON.stringify(envelope),
      });
      await r.arrayBuffer();
      if (r.status >= 200 && r.status < 300) return;
    } catch {
      // a network error: retry
    }
    if (attempt === DELIVERY_ATTEMPTS) {
      process.stderr.write(`delivery to trigger ${JSON.stringify(t.id)} failed after ${attempt} attempts\n`);
      return;
    }
    await new Promise((r) => setTimeout(r, wait));
    wait *= 2;
  }
}

const server = http.createServer(async (req, res) => {
  try {
    const q = req.url.indexOf("?");
    const pathname = q < 0 ? req.url : req.url.slice(0, q);
    const search = q < 0 ? "" : req.url.slice(q);
    if (pathname.startsWith(PATH_PREFIX) || pathname === PATH_PREFIX.slice(0, -1)) {
      if (pathname.endsWith("/") && pathname.length > 1) {
        // express's clean-URL middleware, before any route.
        await readBody(req, SAFETY_CAP);
        const loc = pathname.slice(0, -1).replace(/\/+/g, "/") + search;
        const h = new Headers({ location: loc, "content-type": "text/plain; charset=utf-8" });
        return writeResponse(res, 301, h, `Moved Permanently. Redirecting to ${loc}`, req.method);
      }
      return await hook(req, res, pathname, search);
    }
    return await control(req, res, pathname);
  } catch (e) {
    process.stderr.write(`internal error: ${e?.stack ?? e}\n`);
    if (!res.headersSent) {
      res.writeHead(500);
    }
    res.end();
  }
});

// Idle keep-alive connections stay open a minute, so that a client reusing
// one does not race Node's default 5 s close.
server.keepAliveTimeout = 60000;
server.headersTimeout = 65000;

let addr = "127.0.0.1:0";
const ai = process.argv.indexOf("--addr");
if (ai >= 0 && process.argv[ai + 1]) addr = process.argv[ai + 1];
const colon = addr.lastIndexOf(":");
server.listen(Number(addr.slice(colon + 1)), addr.slice(0, colon) || "127.0.0.1", () => {
  const a = server.address();
  baseURL = `http://${a.address}:${a.port}`;
  process.stdout.write(`listening ${baseURL}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
