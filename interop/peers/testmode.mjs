// The few lines every peer shares: reading the raw body the libraries
// verify, and the test mode of conformance/PROTOCOL.md ("Manifests"): for
// each handler a verified webhook runs, POST a delivery envelope to the
// suite's sink (HOOKLAB_SINK, host:port), passing every header through.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';

// readBody reads the raw body, answering 413 (and resolving null) past
// limit bytes, as express.raw's default "100kb" limit does.
export function readBody(req, res, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > limit) {
        res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
        res.end('Payload Too Large');
        req.destroy();
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// report POSTs the envelope of one handler run to the sink, when test mode
// is on (HOOKLAB_SINK set); a sink that does not take it is logged.
export async function report(req, rawBody, trigger, receivedAt) {
  const sink = process.env.HOOKLAB_SINK;
  if (!sink) return;
  const id = randomUUID();
  const envelope = {
    id,
    endpoint: process.env.HOOKLAB_ENDPOINT || 'declared',
    trigger,
    request: {
      method: req.method,
      url: `http://${req.headers.host}${req.url}`,
      headers: req.headersDistinct, // name -> every value, in order
      body: rawBody.toString('base64'),
    },
    verification: { verified: true },
    receivedAt,
    deliveredAt: new Date().toISOString(),
  };
  try {
    const res = await fetch(`http://${sink}/deliveries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'hooklab-delivery-id': id, 'hooklab-delivery-attempt': '1' },
      body: JSON.stringify(envelope),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) console.error(`sink answered ${res.status} to the envelope of ${trigger}`);
  } catch (err) {
    console.error(`sink: ${err.message}`);
  }
}

// serve listens on 127.0.0.1 at the port given as the first argument (or
// PORT), serving POST path with handle(req, res, rawBody, receivedAt);
// another method gets 405 with Allow: POST, another path 404.
export function serve(path, limit, handle) {
  const port = Number(process.argv[2] || process.env.PORT);
  if (!Number.isInteger(port) || port <= 0) {
    console.error('usage: node PEER.mjs PORT (or PORT=…); HOOKLAB_SINK=host:port turns test mode on');
    process.exit(2);
  }
  const server = createServer(async (req, res) => {
    const receivedAt = new Date().toISOString();
    const url = new URL(req.url, 'http://peer');
    if (url.pathname !== path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'POST' }).end('Method Not Allowed');
      return;
    }
    try {
      const body = await readBody(req, res, limit);
      if (body !== null) await handle(req, res, body, receivedAt);
    } catch (err) {
      console.error(`peer: ${err.message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
    }
  });
  server.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}${path}`));
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
}
