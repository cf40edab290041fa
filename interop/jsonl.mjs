// Shared by the interop scripts: read JSON lines on stdin, answer each with
// one JSON line on stdout, in order. A case the harness itself cannot run
// is answered {"harness_error": "..."}, so the Go side always gets one line
// per case.
import { createInterface } from "node:readline";

export async function serveJSONLines(run) {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    let out;
    try {
      out = await run(JSON.parse(line));
    } catch (e) {
      out = { harness_error: String(e?.message ?? e) };
    }
    process.stdout.write(JSON.stringify(out) + "\n");
  }
}
