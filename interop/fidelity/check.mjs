// The fidelity check: renders every hooklab fixture under several seeds
// (go run ./interop/fidelity/render) and validates each rendered delivery
// against the provider's published machine-readable schema wherever one
// exists:
//
//   github   @octokit/openapi-webhooks: the body against the webhook's
//            requestBody schema for the event and action, and the headers
//            the webhook's parameters mark required.
//   stripe   stripe-mock's OpenAPI spec3.json (Go module
//            github.com/stripe/stripe-mock, pinned with its go.sum hash):
//            the event envelope against "event" and data.object against
//            the schema its "object" names, with no field the spec does
//            not declare, and api_version equal to the spec's version.
//   shopify  shopify-webhook-schemas: the schema of the topic at the API
//            version of the X-Shopify-API-Version header.
//   others   schemas/<provider>/<event>.json when it exists: a JSON Schema
//            (draft-07) whose $comment begins with the citation
//            "package@version#Type". A form-encoded body is validated as
//            the object of its fields, or, when its one field is
//            "payload" holding JSON (Slack's interactivity), as that JSON.
//
// A failure listed in exceptions/<provider>.json ({fixture, instancePath,
// keyword, reason, evidence}) is reported as excepted; an exception that
// matches nothing is an error. Every fixture's "schema" catalogue field
// must name the schema the check used ("" when none).
//
// Usage: node check.mjs [--renders FILE] [--seeds N] [--schemas DIR] [--exceptions DIR] [--verbose]
//   --renders FILE    read the renders (JSON lines of the render program)
//                     from FILE instead of running go run ./interop/fidelity/render
//   --seeds N         render each fixture with seeds 1..N (default 8, at least 5)
//   --schemas DIR     the generated schemas (default schemas/ beside this file)
//   --exceptions DIR  the exceptions (default exceptions/ beside this file)
//   --verbose         print each excepted failure on stderr
// Prints a per-provider table; exit 0 when everything is valid or
// excepted, 1 on any failure, 2 on bad usage.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const require = createRequire(import.meta.url);

// The Stripe spec: stripe-mock at a version whose spec3.json is for the
// API version the Stripe fixtures claim, pinned by its go.sum hash.
const STRIPE_MOCK = {
  module: "github.com/stripe/stripe-mock",
  version: "v0.162.0",
  sum: "h1:5gL4Jh6NBJLMthpiggM3TMK/B9bFM8pTc08pzYy+0XY=",
  spec: "embedded/openapi/spec3.json",
};

// A later stripe-mock, for the fields Stripe added since (to every API
// version): a field declared by neither spec is an error.
const STRIPE_MOCK_NEWER = {
  module: "github.com/stripe/stripe-mock",
  version: "v0.203.0",
  sum: "h1:EzW7nb/fphqcAkgVRHAaC88OaAZo6SBWSl54cflDTio=",
};

// ---- arguments ----

function usage(msg) {
  process.stderr.write(`fidelity: ${msg}\nusage: node check.mjs [--renders FILE] [--seeds N] [--schemas DIR] [--exceptions DIR] [--verbose]\n`);
  process.exit(2);
}

const opts = { renders: "", seeds: 8, verbose: false, schemas: join(here, "schemas"), exceptions: join(here, "exceptions") };
{
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--verbose" || a === "-v") opts.verbose = true;
    else if (a === "--renders") opts.renders = args[++i] ?? usage("--renders needs a FILE");
    else if (a === "--schemas") opts.schemas = args[++i] ?? usage("--schemas needs a DIR");
    else if (a === "--exceptions") opts.exceptions = args[++i] ?? usage("--exceptions needs a DIR");
    else if (a === "--seeds") {
      opts.seeds = Number(args[++i]);
      if (!Number.isInteger(opts.seeds) || opts.seeds < 5 || opts.seeds > 1000) usage("--seeds: want an integer from 5 to 1000");
    } else usage(`unknown argument ${JSON.stringify(a)}`);
  }
}

// ---- the renders ----

function loadRenders() {
  let text;
  if (opts.renders) {
    text = readFileSync(opts.renders, "utf8");
  } else {
    const r = spawnSync("go", ["run", "./interop/fidelity/render", "-seeds", String(opts.seeds)], {
      cwd: root, encoding: "utf8", maxBuffer: 512 << 20,
    });
    if (r.status !== 0) {
      process.stderr.write(`fidelity: go run ./interop/fidelity/render: ${r.error ?? ""}${r.stderr}\n`);
      process.exit(1);
    }
    text = r.stdout;
  }
  return text.split("\n").filter(Boolean).map((l, i) => {
    try {
      return JSON.parse(l);
    } catch (e) {
      process.stderr.write(`fidelity: renders line ${i + 1}: ${e.message}\n`);
      process.exit(1);
    }
  });
}

// ---- schema sources ----

function pkgVersion(name) {
  return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")).version;
}

// header returns the first value of a header, matched without regard to case.
function header(r, name) {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(r.header ?? {})) if (k.toLowerCase() === want) return v[0];
  return undefined;
}

// ajvErrors turns Ajv's errors into {instancePath, keyword, message}. An
// undeclared or a missing property is reported at its own path
// (/data/object/source), so that an exception names the one field. When
// an anyOf (or oneOf) fails and a deeper error says why, the anyOf and
// its branches' errors at its own path ("must be string" of an
// unexpanded id, "must be null" of a nullable value) are dropped.
function ajvErrors(errors) {
  const list = (errors ?? []).map((e) => {
    let path = e.instancePath;
    if (e.keyword === "additionalProperties") path += `/${e.params.additionalProperty}`;
    if (e.keyword === "required") path += `/${e.params.missingProperty}`;
    return { ...e, path };
  });
  const alts = list.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf");
  const explained = (a) => list.some((o) => o.path.startsWith(`${a.instancePath}/`));
  const dropped = (e) => alts.some((a) => a.instancePath === e.instancePath && explained(a) &&
    (e === a || e.schemaPath.startsWith(`${a.schemaPath}/`)));
  const out = [];
  const seen = new Set();
  for (const e of list) {
    if (dropped(e)) continue;
    const path = e.path;
    const message = `${e.message}${e.keyword === "enum" ? ` (${JSON.stringify(e.params.allowedValues)})` : ""}`;
    const key = `${path} ${e.keyword} ${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ instancePath: path, keyword: e.keyword, message });
  }
  return out;
}

function githubSource() {
  const file = require.resolve("@octokit/openapi-webhooks/generated/api.github.com.json");
  const spec = JSON.parse(readFileSync(file, "utf8"));
  const pkg = `@octokit/openapi-webhooks@${pkgVersion("@octokit/openapi-webhooks")}`;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "github", components: spec.components });
  const compiled = new Map();
  return {
    name: pkg,
    check(r, body) {
      const ev = r.event.replaceAll("_", "-");
      const key = body && typeof body.action === "string" && spec.webhooks[`${ev}-${body.action.replaceAll("_", "-")}`]
        ? `${ev}-${body.action.replaceAll("_", "-")}` : ev;
      const hook = spec.webhooks[key]?.post;
      if (!hook) return null;
      const ref = hook.requestBody.content["application/json"].schema.$ref;
      if (!compiled.has(key)) compiled.set(key, ajv.compile({ $ref: `github${ref}` }));
      const validate = compiled.get(key);
      const errors = validate(body) ? [] : ajvErrors(validate.errors);
      for (const p of hook.parameters ?? []) {
        if (p.in !== "header" || !p.required) continue;
        if (/^X-Hub-Signature/i.test(p.name) && !r.signed) continue;
        const v = header(r, p.name);
        if (v === undefined || v === "") {
          errors.push({ instancePath: `header:${p.name}`, keyword: "required", message: `missing header ${p.name}` });
        }
      }
      const evHeader = header(r, "X-GitHub-Event");
      if (evHeader !== undefined && evHeader !== r.event) {
        errors.push({ instancePath: "header:X-GitHub-Event", keyword: "const", message: `is ${evHeader}, want ${r.event}` });
      }
      return { cite: `${pkg}#${key}`, errors };
    },
  };
}

// openapi30 turns an OpenAPI 3.0 schema s into JSON Schema: nullable into
// a null type, and every object with declared properties closed to
// others, so that a field the spec does not declare is an error. newer is
// the same schema in a later spec: Stripe adds fields to every API version
// as it goes, so a field the later spec declares at the same place is
// allowed (without a type) even if s does not declare it.
function openapi30(s, newer) {
  if (Array.isArray(s)) return s.map((x, i) => openapi30(x, Array.isArray(newer) && newer.length === s.length ? newer[i] : undefined));
  if (!s || typeof s !== "object") return s;
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith("x-") || k === "nullable" || k === "description") continue;
    if (k === "properties") {
      out.properties = Object.fromEntries(Object.entries(v).map(([p, ps]) => [p, openapi30(ps, newer?.properties?.[p])]));
    } else {
      out[k] = openapi30(v, newer?.[k]);
    }
  }
  if (out.properties && out.additionalProperties === undefined) {
    for (const p of Object.keys(newer?.properties ?? {})) out.properties[p] ??= {};
    out.additionalProperties = false;
  }
  if (s.nullable) {
    if (out.enum) out.enum = [...out.enum, null];
    if (typeof out.type === "string") {
      out.type = [out.type, "null"];
      return out;
    }
    return { anyOf: [out, { type: "null" }] };
  }
  return out;
}

// goModule downloads a Go module (go mod download) and checks its hash
// against the pinned one; it returns the module's directory.
function goModule({ module, version, sum }) {
  const r = spawnSync("go", ["mod", "download", "-json", `${module}@${version}`], {
    cwd: tmpdir(), encoding: "utf8", env: { ...process.env, GOFLAGS: "-mod=mod" },
  });
  let info;
  try {
    info = JSON.parse(r.stdout);
  } catch {
    throw new Error(`go mod download ${module}@${version}: ${r.error ?? ""}${r.stderr}`);
  }
  if (info.Error) throw new Error(`go mod download ${module}@${version}: ${info.Error}`);
  if (info.Sum !== sum) throw new Error(`${module}@${version}: sum ${info.Sum}, pinned ${sum}`);
  return info.Dir;
}

function stripeSource() {
  const spec = JSON.parse(readFileSync(join(goModule(STRIPE_MOCK), STRIPE_MOCK.spec), "utf8"));
  const newer = JSON.parse(readFileSync(join(goModule(STRIPE_MOCK_NEWER), STRIPE_MOCK.spec), "utf8"));
  const apiVersion = spec.info.version;
  const pkg = `stripe-mock@${STRIPE_MOCK.version}`;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  // Stripe's own formats: seconds since the epoch, and a decimal in a string.
  ajv.addFormat("unix-time", { type: "number", validate: (n) => Number.isInteger(n) && n >= 0 });
  ajv.addFormat("decimal", { type: "string", validate: /^-?[0-9]+(\.[0-9]+)?$/ });
  const schemas = Object.fromEntries(Object.entries(spec.components.schemas).map(([n, sc]) => [n, openapi30(sc, newer.components.schemas[n])]));
  ajv.addSchema({ $id: "stripe", components: { schemas } });
  const compiled = new Map();
  const schemaFor = (name) => {
    if (!compiled.has(name)) compiled.set(name, ajv.compile({ $ref: `stripe#/components/schemas/${name}` }));
    return compiled.get(name);
  };
  return {
    name: `${pkg} (API ${apiVersion}; fields added since: stripe-mock@${STRIPE_MOCK_NEWER.version})`,
    check(r, body) {
      const objName = body?.data?.object?.object;
      if (typeof objName !== "string" || !spec.components.schemas[objName]) return null;
      const errors = [];
      const env = schemaFor("event");
      if (!env(body)) errors.push(...ajvErrors(env.errors));
      const obj = schemaFor(objName);
      if (!obj(body.data.object)) {
        errors.push(...ajvErrors(obj.errors).map((e) => ({ ...e, instancePath: `/data/object${e.instancePath}` })));
      }
      if (body.api_version !== apiVersion) {
        errors.push({ instancePath: "/api_version", keyword: "const", message: `is ${body.api_version}, the spec is for ${apiVersion}` });
      }
      if (body.type !== r.event) {
        errors.push({ instancePath: "/type", keyword: "const", message: `is ${body.type}, want ${r.event}` });
      }
      return { cite: `${pkg}#${objName}`, errors };
    },
  };
}

function shopifySource() {
  const dir = join(dirname(require.resolve("shopify-webhook-schemas/package.json")), "schemas");
  const pkg = `shopify-webhook-schemas@${pkgVersion("shopify-webhook-schemas")}`;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  const compiled = new Map();
  return {
    name: pkg,
    check(r, body) {
      const version = header(r, "X-Shopify-API-Version");
      const topic = header(r, "X-Shopify-Topic") ?? r.event;
      const file = join(dir, version ?? "", `${topic}.json`);
      if (!version || !existsSync(file)) return null;
      const key = `${version}/${topic}`;
      if (!compiled.has(key)) compiled.set(key, ajv.compile(JSON.parse(readFileSync(file, "utf8"))));
      const validate = compiled.get(key);
      return { cite: `${pkg}#${key}`, errors: validate(body) ? [] : ajvErrors(validate.errors) };
    },
  };
}

// genericSource validates against schemas/<provider>/<event>.json.
function genericSource(provider) {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  const compiled = new Map();
  return {
    name: `schemas/${provider}`,
    cites: new Set(),
    check(r, body) {
      const file = join(opts.schemas, provider, `${r.event}.json`);
      if (!existsSync(file)) return null;
      if (!compiled.has(file)) {
        const schema = JSON.parse(readFileSync(file, "utf8"));
        const cite = typeof schema.$comment === "string" ? schema.$comment.trim().split(/\s+/)[0] : "";
        if (!/^.+@[^#\s]+#\S+$/.test(cite)) {
          throw new Error(`${file}: $comment must begin with the citation package@version#Type, got ${JSON.stringify(schema.$comment)}`);
        }
        compiled.set(file, { cite, validate: ajv.compile(schema) });
      }
      const { cite, validate } = compiled.get(file);
      this.cites.add(cite);
      return { cite, errors: validate(body) ? [] : ajvErrors(validate.errors) };
    },
  };
}

// formBody turns a form-encoded body into an object of its fields (the
// last value of a repeated name), or, when its one field is "payload"
// holding JSON (Slack's interactivity), into that JSON.
function formBody(text) {
  const fields = Object.fromEntries(new URLSearchParams(text));
  const names = Object.keys(fields);
  if (names.length === 1 && names[0] === "payload") {
    try {
      return JSON.parse(fields.payload);
    } catch {
      return fields;
    }
  }
  return fields;
}

// ---- exceptions ----

function loadExceptions() {
  const dir = opts.exceptions;
  const out = [];
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".json")).sort()) {
    const list = JSON.parse(readFileSync(join(dir, f), "utf8"));
    if (!Array.isArray(list)) throw new Error(`exceptions/${f}: want a JSON array`);
    list.forEach((x, i) => {
      for (const k of ["fixture", "instancePath", "keyword", "reason", "evidence"]) {
        if (typeof x[k] !== "string" || (k !== "instancePath" && x[k] === "")) {
          throw new Error(`exceptions/${f}[${i}].${k}: want a${k === "instancePath" ? "" : " non-empty"} string`);
        }
      }
      if (!x.fixture.startsWith(`${f.slice(0, -5)}/`)) throw new Error(`exceptions/${f}[${i}].fixture: ${x.fixture} is not a fixture of ${f.slice(0, -5)}`);
      out.push({ ...x, where: `exceptions/${f}[${i}]`, used: 0 });
    });
  }
  return out;
}

// ---- the check ----

function main() {
  const renders = loadRenders();
  const exceptions = loadExceptions();
  // The built-in sources, loaded when a render of their provider comes.
  const builtin = { github: githubSource, stripe: stripeSource, shopify: shopifySource };
  const sources = {};
  const source = (p) => (sources[p] ??= Object.hasOwn(builtin, p) ? builtin[p]() : genericSource(p));
  const rows = new Map();
  const used = new Map(); // fixture -> Set of citations used
  const claims = new Map(); // fixture -> its schema field
  const failures = [];
  const problems = [];

  if (existsSync(opts.schemas)) {
    for (const p of readdirSync(opts.schemas)) {
      if (Object.hasOwn(builtin, p)) problems.push(`schemas/${p}: ${p} has a built-in schema source; a generated schema would not be used`);
    }
  }

  for (const r of renders) {
    const row = rows.get(r.provider) ?? { fixtures: new Set(), checked: 0, valid: 0, excepted: 0, failed: 0, cites: new Set() };
    rows.set(r.provider, row);
    row.fixtures.add(r.fixture);
    claims.set(r.fixture, r.schema ?? "");
    if (!used.has(r.fixture)) used.set(r.fixture, new Set());
    let body;
    const json = /json/i.test(r.content_type ?? "") && r.body !== "";
    const form = /^application\/x-www-form-urlencoded/i.test(r.content_type ?? "") && r.body !== "";
    if (json) {
      try {
        body = JSON.parse(r.body);
      } catch (e) {
        failures.push(`${r.fixture} seed ${r.seed}: body is not JSON: ${e.message}`);
        row.checked++;
        row.failed++;
        continue;
      }
    } else if (form) {
      body = formBody(r.body);
    } else {
      continue;
    }
    const res = source(r.provider).check(r, body);
    if (!res) continue;
    row.checked++;
    // A generated schema is cited by its package@version, a built-in
    // source by its own name.
    row.cites.add(source(r.provider).name.startsWith("schemas/") ? res.cite.split("#")[0] : source(r.provider).name);
    used.get(r.fixture).add(res.cite);
    let real = 0;
    let excepted = 0;
    for (const e of res.errors) {
      const x = exceptions.find((x) => x.fixture === r.fixture && x.instancePath === e.instancePath && x.keyword === e.keyword);
      if (x) {
        x.used++;
        excepted++;
        if (opts.verbose) process.stderr.write(`excepted: ${r.fixture} seed ${r.seed}: ${e.instancePath} ${e.keyword}: ${e.message}\n`);
      } else {
        real++;
        failures.push(`${r.fixture} seed ${r.seed}: ${e.instancePath || "/"}: ${e.keyword}: ${e.message} [${res.cite}]`);
      }
    }
    if (real > 0) row.failed++;
    else if (excepted > 0) row.excepted++;
    else row.valid++;
  }

  // A generated schema for no fixture would never be used.
  const walk = (dir, rel) => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name), rel ? `${rel}/${e.name}` : e.name) : e.name.endsWith(".json") ? [`${rel}/${e.name.slice(0, -5)}`] : []);
  if (existsSync(opts.schemas)) {
    for (const name of walk(opts.schemas, "")) {
      if (!claims.has(name)) problems.push(`schemas/${name}.json: no fixture ${name}`);
    }
  }

  for (const [fx, cites] of used) {
    const claim = claims.get(fx);
    if (cites.size > 1) problems.push(`${fx}: checked against several schemas across seeds: ${[...cites].join(", ")}`);
    const got = [...cites][0] ?? "";
    if (claim !== got) {
      problems.push(got === ""
        ? `${fx}: its catalogue field "schema" is ${JSON.stringify(claim)}, but no schema checked it`
        : `${fx}: checked against ${got}, but its catalogue field "schema" is ${JSON.stringify(claim)}`);
    }
  }
  // An exception that matches nothing is stale; one for a fixture not
  // rendered is stale too when every fixture was rendered (a --renders
  // file may hold only some).
  for (const x of exceptions) {
    if (x.used > 0) continue;
    if (claims.has(x.fixture)) problems.push(`${x.where}: exception for ${x.fixture} ${x.instancePath} ${x.keyword} matches nothing; remove it`);
    else if (!opts.renders) problems.push(`${x.where}: exception for ${x.fixture}, which is not a fixture; remove it`);
  }

  // The table.
  const head = ["provider", "fixtures", "renders checked", "valid", "excepted", "failed", "schema source"];
  const lines = [...rows.keys()].sort().map((p) => {
    const r = rows.get(p);
    return [p, r.fixtures.size, r.checked, r.valid, r.excepted, r.failed, r.cites.size ? [...r.cites].sort().join(", ") : "none checked"].map(String);
  });
  const tot = [...rows.values()].reduce((a, r) => ({
    fixtures: a.fixtures + r.fixtures.size, checked: a.checked + r.checked, valid: a.valid + r.valid, excepted: a.excepted + r.excepted, failed: a.failed + r.failed,
  }), { fixtures: 0, checked: 0, valid: 0, excepted: 0, failed: 0 });
  lines.push(["total", tot.fixtures, tot.checked, tot.valid, tot.excepted, tot.failed, ""].map(String));
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l) => l.map((c, i) => (i === 0 || i === l.length - 1 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ").trimEnd();
  process.stdout.write(`${fmt(head)}\n${lines.map(fmt).join("\n")}\n`);

  for (const f of failures) process.stdout.write(`FAIL ${f}\n`);
  for (const p of problems) process.stdout.write(`ERROR ${p}\n`);
  if (failures.length || problems.length) {
    process.stdout.write(`fidelity: ${failures.length} failure(s), ${problems.length} error(s)\n`);
    process.exit(1);
  }
  process.stdout.write(`fidelity: ok (${tot.checked} renders checked against published schemas, ${tot.excepted} with excepted failures)\n`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`fidelity: ${e.message}\n`);
  process.exit(1);
}
