// validate.mjs is the generator's self-check: it renders each fixture in
// targets.mjs under several seeds with the hooklab CLI (built once from this
// checkout) and validates it with ajv against the generated schema, applying
// interop/fidelity/exceptions/<provider>.json the way the fidelity check does
// (an error whose fixture, instancePath and keyword equal an exception's is
// excepted; an exception that matches nothing is an error).
//
//   node interop/fidelity/tsschema/validate.mjs [--seeds N] [--verbose] [FIXTURE...]
//
// Exit 0 when every render is valid or excepted, 1 otherwise.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { TARGETS, here, schemasDir } from './targets.mjs';

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const si = args.indexOf('--seeds');
const seeds = si >= 0 ? Number(args[si + 1]) : 5;
const only = args.filter((a, i) => !a.startsWith('--') && !(si >= 0 && i === si + 1));
if (!Number.isInteger(seeds) || seeds < 1) {
  console.error('validate.mjs: --seeds wants a positive integer');
  process.exit(2);
}

const root = join(here, '..', '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'tsschema-'));
const bin = join(tmp, 'hooklab');
execFileSync('go', ['build', '-o', bin, './cmd/hooklab'], { cwd: root, stdio: 'inherit' });

// decode turns a rendered body into the value the schema describes.
function decode(mode, body) {
  if (mode === 'json') return JSON.parse(body);
  const form = Object.fromEntries(new URLSearchParams(body));
  if (mode === 'form') return form;
  if (mode === 'form-payload') return JSON.parse(form.payload);
  throw new Error(`unknown body mode ${mode}`);
}

// ajvErrors normalises ajv's errors as the fidelity check does
// (interop/fidelity/check.mjs): a missing or extra property is named in the
// path, and the errors of union members (anyOf, oneOf, the null of T | null)
// are dropped when an error at or below the same place explains them.
function ajvErrors(errors) {
  const all = (errors ?? []).map((e) => {
    let path = e.instancePath;
    if (e.keyword === 'additionalProperties') path += `/${e.params.additionalProperty}`;
    if (e.keyword === 'required') path += `/${e.params.missingProperty}`;
    return {
      instancePath: path,
      keyword: e.keyword,
      branch: e.keyword === 'anyOf' || e.keyword === 'oneOf' || (e.keyword === 'type' && e.params.type === 'null'),
      at: e.instancePath,
      message: `${e.message}${e.keyword === 'enum' ? ` (${JSON.stringify(e.params.allowedValues)})` : ''}`,
    };
  });
  const out = [];
  const seen = new Set();
  for (const e of all) {
    if (e.branch && all.some((o) => !o.branch && (o.at === e.at || o.at.startsWith(`${e.at}/`)))) continue;
    const key = `${e.instancePath} ${e.keyword} ${e.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ instancePath: e.instancePath, keyword: e.keyword, message: e.message });
  }
  return out;
}

const exceptions = [];
for (const p of new Set(TARGETS.map((t) => t.fixture.split('/')[0]))) {
  const f = join(here, '..', 'exceptions', `${p}.json`);
  if (existsSync(f)) for (const x of JSON.parse(readFileSync(f, 'utf8'))) exceptions.push({ ...x, used: 0 });
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
const now = '1764979200'; // 2025-12-06T00:00:00Z: a fixed clock, so that runs repeat.
const rows = new Map();
let failed = 0;
try {
  for (const t of TARGETS) {
    if (only.length && !only.includes(t.fixture)) continue;
    const validate = ajv.compile(JSON.parse(readFileSync(join(schemasDir, `${t.fixture}.json`), 'utf8')));
    const provider = t.fixture.split('/')[0];
    const row = rows.get(provider) ?? { fixtures: 0, checked: 0, valid: 0, excepted: 0, failed: 0 };
    rows.set(provider, row);
    row.fixtures++;
    for (let seed = 1; seed <= seeds; seed++) {
      const body = execFileSync(bin, ['fixtures', 'show', t.fixture, '--seed', String(seed), '--now', now], { encoding: 'utf8' });
      row.checked++;
      const errors = validate(decode(t.body, body)) ? [] : ajvErrors(validate.errors);
      let real = 0;
      let exc = 0;
      for (const e of errors) {
        const x = exceptions.find((x) => x.fixture === t.fixture && x.instancePath === e.instancePath && x.keyword === e.keyword);
        if (x) {
          x.used++;
          exc++;
          if (verbose) console.error(`excepted: ${t.fixture} seed ${seed}: ${e.instancePath} ${e.keyword}: ${e.message}`);
        } else {
          real++;
          console.log(`FAIL ${t.fixture} seed ${seed}: ${e.instancePath || '/'}: ${e.keyword}: ${e.message}`);
        }
      }
      if (real) row.failed++;
      else if (exc) row.excepted++;
      else row.valid++;
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
for (const x of exceptions) {
  if (only.length && !only.includes(x.fixture)) continue;
  if (x.used === 0) {
    console.log(`ERROR exception ${x.fixture} ${x.instancePath} ${x.keyword} matches nothing`);
    failed++;
  }
}
console.log('provider  fixtures  renders  valid  excepted  failed');
for (const [p, r] of [...rows].sort()) {
  console.log(`${p.padEnd(8)}  ${String(r.fixtures).padStart(8)}  ${String(r.checked).padStart(7)}  ${String(r.valid).padStart(5)}  ${String(r.excepted).padStart(8)}  ${String(r.failed).padStart(6)}`);
  failed += r.failed;
}
process.exit(failed ? 1 : 0);
