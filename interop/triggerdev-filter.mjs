// triggerdev-filter.mjs runs Trigger.dev v2's event and request filters
// (@trigger.dev/core, pinned in package.json: eventFilterMatches,
// requestFilterMatches, EventFilterSchema, RequestFilterSchema) on cases read
// from stdin, one JSON object per line, and writes one JSON line per case to
// stdout, in order. go test ./matcher/ -run TriggerDev drives it.
//
// Inputs ("op" selects the operation):
//   {"op":"event", "payload": P, "filter": F}
//       -> {"match": eventFilterMatches(P, F)} or {"throw": "<message>"}
//       "payload_undefined": true  passes undefined as the payload;
//       "payload_text": "..."      JSON.parse's this text as the payload
//                                  (duplicate keys, escapes, BOM-free text);
//       "parse": true              first runs EventFilterSchema.safeParse(F),
//                                  as the platform does, and matches with the
//                                  parsed filter; an invalid filter gives
//                                  {"invalid": true}.
//   {"op":"schema", "filter": F}
//       -> {"valid": EventFilterSchema.safeParse(F).success, "parsed": data}
//   {"op":"request_schema", "filter": RF}
//       -> the same with RequestFilterSchema
//   {"op":"request", "filter": RF, "request": {"method": M, "url": U,
//        "headers": [["name","value"], ...], "body_base64": "..." | null}}
//       -> {"match": await requestFilterMatches(new Request(...),
//                                               RequestFilterSchema.parse(RF))}
//          or {"throw": "<message>"}; no body is sent for GET and HEAD.
//   {"op":"bench", "payload": P, "filter": F, "n": N}
//       -> {"ns_per_op": ..., "n": N, "matched": <every call matched>}:
//       eventFilterMatches N times after a warm-up. "payload_text" may
//       replace "payload". "from_text": true includes JSON.parse of the
//       payload text in every iteration. Without "n" (or n <= 0), n is
//       calibrated so that the measured run takes "target_ms" (default 1000).
// Header values are byte strings: each character U+0000-U+00FF is one byte.
// {"harness_error": "..."} means the case could not be set up (bad JSON, a
// header or URL that Fetch refuses).
import { serveJSONLines } from "./jsonl.mjs";
import { Buffer } from "node:buffer";
import {
  eventFilterMatches,
  requestFilterMatches,
  EventFilterSchema,
  RequestFilterSchema,
} from "@trigger.dev/core";

function event(c) {
  let payload;
  if (c.payload_undefined) {
    payload = undefined;
  } else if (typeof c.payload_text === "string") {
    payload = JSON.parse(c.payload_text);
  } else {
    payload = c.payload;
  }
  let filter = c.filter;
  if (c.parse) {
    const r = EventFilterSchema.safeParse(filter);
    if (!r.success) return { invalid: true };
    filter = r.data;
  }
  try {
    return { match: eventFilterMatches(payload, filter) };
  } catch (e) {
    return { throw: String(e?.message ?? e) };
  }
}

function schema(s, c) {
  const r = s.safeParse(c.filter);
  return r.success ? { valid: true, parsed: r.data } : { valid: false };
}

async function request(c) {
  let req, filter;
  try {
    filter = RequestFilterSchema.parse(c.filter);
    const r = c.request;
    const init = { method: r.method, headers: r.headers ?? [] };
    const m = String(r.method).toUpperCase();
    if (m !== "GET" && m !== "HEAD" && r.body_base64 !== null && r.body_base64 !== undefined) {
      init.body = new Uint8Array(Buffer.from(r.body_base64, "base64"));
    }
    req = new Request(r.url, init);
  } catch (e) {
    return { harness_error: String(e?.message ?? e) };
  }
  try {
    return { match: await requestFilterMatches(req, filter) };
  } catch (e) {
    return { throw: String(e?.message ?? e) };
  }
}

function bench(c) {
  const filter = c.filter;
  const text = typeof c.payload_text === "string" ? c.payload_text : JSON.stringify(c.payload);
  const payload = JSON.parse(text);
  let sink = 0;
  // Two plain loops (no per-iteration closure call) so V8 optimizes them
  // as it would a real caller.
  const time = c.from_text
    ? (n) => {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < n; i++) if (eventFilterMatches(JSON.parse(text), filter)) sink++;
        return Number(process.hrtime.bigint() - t0);
      }
    : (n) => {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < n; i++) if (eventFilterMatches(payload, filter)) sink++;
        return Number(process.hrtime.bigint() - t0);
      };
  let n = Math.floor(Number(c.n) || 0);
  if (n <= 0) {
    // Calibrate: grow n until a run takes 100 ms, then size the run for
    // target_ms (default 1000).
    const target = (Number(c.target_ms) || 1000) * 1e6;
    n = 1;
    let ns = time(n);
    while (ns < 1e8) {
      n = Math.min(n * 10, Math.ceil((n * 1.2e8) / Math.max(ns, 1)));
      ns = time(n);
    }
    n = Math.max(1, Math.ceil((n * target) / ns));
  } else {
    time(Math.min(n, c.from_text ? 10000 : 100000)); // warm-up
  }
  sink = 0;
  const ns = time(n);
  return { ns_per_op: ns / n, n, matched: sink === n };
}

async function run(c) {
  switch (c.op) {
    case "event":
      return event(c);
    case "schema":
      return schema(EventFilterSchema, c);
    case "request_schema":
      return schema(RequestFilterSchema, c);
    case "request":
      return await request(c);
    case "bench":
      return bench(c);
    default:
      return { harness_error: `unknown op ${JSON.stringify(c.op)}` };
  }
}

await serveJSONLines(run);
