// A Standard Webhooks receiver on the reference library's JavaScript
// package (standardwebhooks, https://github.com/standard-webhooks/standard-webhooks/tree/main/libraries/javascript):
// new Webhook(secret).verify(payload, headers) with the raw body and the
// request's headers, as the library's README shows; 400 {} when it throws
// (as Svix's docs sample answers, https://docs.svix.com/receiving/verifying-payloads/how),
// else a handler per event type and 204.
//
//	STANDARD_WEBHOOKS_SECRET=whsec_… [HOOKLAB_SINK=127.0.0.1:29112] node standardwebhooks.mjs PORT
import { Webhook } from 'standardwebhooks';
import { serve, report } from './testmode.mjs';

const secret = process.env.STANDARD_WEBHOOKS_SECRET;
if (!secret) {
  console.error('STANDARD_WEBHOOKS_SECRET is not set');
  process.exit(2);
}
const wh = new Webhook(secret);

serve('/webhooks', 100 * 1024, async (req, res, rawBody, receivedAt) => {
  let msg;
  try {
    msg = wh.verify(rawBody, req.headers);
  } catch (err) {
    res.writeHead(400, { 'content-type': 'application/json' }).end('{}');
    return;
  }
  await report(req, rawBody, 'all', receivedAt);
  if (msg?.type === 'invoice.paid') await report(req, rawBody, 'invoices', receivedAt);
  res.writeHead(204).end();
});
