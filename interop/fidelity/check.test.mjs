// Tests of check.mjs: run by node --test interop/fidelity/check.test.mjs (from .ci/run).
// Each renders real fixtures once with the render program, breaks or
// re-labels them, and runs the check on the result.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");

// renders renders the fixtures named (a comma-separated list) with seeds
// 1..5 and returns each one's renders.
function renders(names) {
  const r = spawnSync("go", ["run", "./interop/fidelity/render", "-fixture", names, "-seeds", "5"], { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const all = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  return names.split(",").map((n) => all.filter((x) => x.fixture === n));
}

const [github, stripe] = renders("github/pull_request,stripe/charge.refunded");

// check writes the renders, the exceptions and the schemas to a temporary
// directory and runs check.mjs on them, resolving to its status and output.
async function check(list, { exceptions = {}, schemas = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "fidelity-test-"));
  const file = join(dir, "renders.jsonl");
  writeFileSync(file, list.map((r) => JSON.stringify(r)).join("\n"));
  mkdirSync(join(dir, "exceptions"));
  for (const [p, x] of Object.entries(exceptions)) writeFileSync(join(dir, "exceptions", `${p}.json`), JSON.stringify(x));
  mkdirSync(join(dir, "schemas"));
  for (const [name, schema] of Object.entries(schemas)) {
    mkdirSync(dirname(join(dir, "schemas", `${name}.json`)), { recursive: true });
    writeFileSync(join(dir, "schemas", `${name}.json`), JSON.stringify(schema));
  }
  return new Promise((resolve, reject) => {
    const p = spawn("node", [join(here, "check.mjs"), "--renders", file, "--exceptions", join(dir, "exceptions"), "--schemas", join(dir, "schemas")]);
    let out = "";
    p.stdout.on("data", (b) => { out += b; });
    p.stderr.on("data", (b) => { out += b; });
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, out }));
  });
}

function edit(list, fn) {
  return list.map((r) => {
    const body = JSON.parse(r.body);
    const out = fn({ ...r }, body) ?? {};
    return { ...r, ...out, body: JSON.stringify(body) };
  });
}

const noTeamType = () => edit(github, (r, b) => { delete b.pull_request.requested_teams[0].type; });
const teamException = {
  fixture: "github/pull_request", instancePath: "/pull_request/requested_teams/0/type", keyword: "required",
  reason: "test", evidence: "test",
};

// The cases run concurrently: each is a separate node process.
describe("check.mjs", { concurrency: 4 }, () => {
  test("valid renders pass with the counts in the table", async () => {
    const r = await check([...github, ...stripe], { exceptions: { stripe: [
      { fixture: "stripe/charge.refunded", instancePath: "/data/object/source", keyword: "additionalProperties", reason: "test", evidence: "test" },
    ] } });
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /^github +1 +5 +5 +0 +0 +@octokit\/openapi-webhooks@/m);
    assert.match(r.out, /^stripe +1 +5 +0 +5 +0 +stripe-mock@v0\.162\.0 \(API 2022-11-15/m);
  });

  test("a missing required field fails, naming the path and the schema", async () => {
    const r = await check(noTeamType());
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /FAIL github\/pull_request seed 1: \/pull_request\/requested_teams\/0\/type: required: .*\[@octokit\/openapi-webhooks@[0-9.]+#pull-request-opened\]/);
  });

  test("a failure matching an exception is excepted", async () => {
    const r = await check(noTeamType(), { exceptions: { github: [teamException] } });
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /^github +1 +5 +0 +5 +0 /m);
  });

  test("an exception that matches nothing is an error", async () => {
    const r = await check(github, { exceptions: { github: [teamException] } });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /ERROR exceptions\/github\.json\[0\]: exception for github\/pull_request .* matches nothing/);
  });

  test("an exception without evidence is refused", async () => {
    const r = await check(noTeamType(), { exceptions: { github: [{ ...teamException, evidence: "" }] } });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /exceptions\/github\.json\[0\]\.evidence/);
  });

  test("a missing GitHub header fails", async () => {
    const list = github.map((r) => {
      const header = { ...r.header };
      delete header["X-Github-Hook-Id"];
      return { ...r, header };
    });
    const r = await check(list);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /FAIL github\/pull_request seed 1: header:X-Github-Hook-Id: required/);
  });

  test("a field no Stripe spec declares fails, one a later spec declares passes, and so does an api_version the spec is not for", async () => {
    const r = await check(edit(stripe, (_, b) => {
      b.api_version = "2024-06-20";
      b.data.object.not_a_stripe_field = 1;
      b.data.object.payment_method_details.card.overcapture = { maximum_amount_capturable: 1, status: "unavailable" };
      b.data.object.balance_transaction = { id: "txn_1", object: "balance_transaction" }; // expanded, but incomplete
    }), { exceptions: { stripe: [
      { fixture: "stripe/charge.refunded", instancePath: "/data/object/source", keyword: "additionalProperties", reason: "test", evidence: "test" },
    ] } });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /FAIL stripe\/charge\.refunded seed 1: \/data\/object\/not_a_stripe_field: additionalProperties/);
    assert.match(r.out, /FAIL stripe\/charge\.refunded seed 1: \/api_version: const: is 2024-06-20, the spec is for 2022-11-15/);
    assert.doesNotMatch(r.out, /overcapture/);
    // The expanded object's own errors, not that it is no id (string).
    assert.match(r.out, /FAIL stripe\/charge\.refunded seed 1: \/data\/object\/balance_transaction\/amount: required/);
    assert.doesNotMatch(r.out, /\/data\/object\/balance_transaction: (type|anyOf)/);
  });

  test("a schema field that disagrees with the schema used is an error", async () => {
    const wrong = await check(github.map((r) => ({ ...r, schema: "@octokit/openapi-webhooks@1.0.0#push" })));
    assert.equal(wrong.status, 1, wrong.out);
    assert.match(wrong.out, /ERROR github\/pull_request: checked against @octokit\/openapi-webhooks@[0-9.]+#pull-request-opened, but its catalogue field "schema" is "@octokit\/openapi-webhooks@1.0.0#push"/);
    const acme = github.map((r) => ({ ...r, fixture: "acme/thing", provider: "acme", event: "thing", schema: "acme-types@1.0.0#Thing" }));
    const unchecked = await check(acme);
    assert.equal(unchecked.status, 1, unchecked.out);
    assert.match(unchecked.out, /ERROR acme\/thing: its catalogue field "schema" is "acme-types@1.0.0#Thing", but no schema checked it/);
  });

  test("a generated schema is used, and cited by its $comment", async () => {
    const acme = github.map((r) => ({ ...r, fixture: "acme/thing", provider: "acme", event: "thing", schema: "acme-types@1.0.0#Thing" }));
    const schema = {
      $schema: "http://json-schema.org/draft-07/schema#", $comment: "acme-types@1.0.0#Thing generated by a test",
      type: "object", required: ["action", "number"], properties: { action: { const: "opened" }, number: { type: "integer" } },
    };
    const ok = await check(acme, { schemas: { "acme/thing": schema } });
    assert.equal(ok.status, 0, ok.out);
    assert.match(ok.out, /^acme +1 +5 +5 +0 +0 +acme-types@1\.0\.0$/m);
    const bad = await check(acme, { schemas: { "acme/thing": { ...schema, properties: { action: { const: "closed" } } } } });
    assert.equal(bad.status, 1, bad.out);
    assert.match(bad.out, /FAIL acme\/thing seed 1: \/action: const/);
    const noCite = await check(acme, { schemas: { "acme/thing": { ...schema, $comment: "generated" } } });
    assert.equal(noCite.status, 1, noCite.out);
    assert.match(noCite.out, /\$comment must begin with the citation package@version#Type/);
    const orphan = await check(acme, { schemas: { "acme/thing": schema, "acme/other": schema } });
    assert.equal(orphan.status, 1, orphan.out);
    assert.match(orphan.out, /ERROR schemas\/acme\/other\.json: no fixture acme\/other/);
  });

  test("a form-encoded body is checked as its fields, or as the JSON of its one payload field", async () => {
    const form = (body) => github.map((r) => ({ ...r, fixture: "acme/form", provider: "acme", event: "form", schema: "acme-types@1.0.0#Form", content_type: "application/x-www-form-urlencoded", body }));
    const fields = {
      $comment: "acme-types@1.0.0#Form", type: "object", required: ["command", "text"],
      properties: { command: { const: "/deploy" }, text: { type: "string" } },
    };
    const ok = await check(form("command=%2Fdeploy&text=prod+now"), { schemas: { "acme/form": fields } });
    assert.equal(ok.status, 0, ok.out);
    const bad = await check(form("command=%2Fship&text=x"), { schemas: { "acme/form": fields } });
    assert.equal(bad.status, 1, bad.out);
    assert.match(bad.out, /FAIL acme\/form seed 1: \/command: const/);
    const payload = { $comment: "acme-types@1.0.0#Form", type: "object", required: ["type"], properties: { type: { const: "block_actions" } } };
    const inner = await check(form(`payload=${encodeURIComponent(JSON.stringify({ type: "block_actions" }))}`), { schemas: { "acme/form": payload } });
    assert.equal(inner.status, 0, inner.out);
  });
});
