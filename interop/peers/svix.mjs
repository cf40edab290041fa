// A Svix webhook receiver as Svix's docs write one
// (https://docs.svix.com/receiving/verifying-payloads/how, Node.js): new
// Webhook(secret).verify(payload, headers) of the svix package with the
// raw body and the request's headers (svix-id, svix-timestamp,
// svix-signature); 400 {} when it throws, else the app's handlers and
// 200 {}.
//
//	SVIX_WEBHOOK_SECRET=whsec_… [HOOKLAB_SINK=127.0.0.1:29122] node svix.mjs PORT
import { Webhook } from 'svix';
import { serve, report } from './testmode.mjs';

const secret = process.env.SVIX_WEBHOOK_SECRET;
if (!secret) {
  console.error('SVIX_WEBHOOK_SECRET is not set');
  process.exit(2);
}
const wh = new Webhook(secret);

serve('/webhook', 100 * 1024, async (req, res, rawBody, receivedAt) => {
  let msg;
  try {
    msg = wh.verify(rawBody, req.headers);
  } catch (err) {
    res.writeHead(400, { 'content-type': 'application/json' }).end('{}');
    return;
  }
  await report(req, rawBody, 'all', receivedAt);
  if (msg?.type === 'invoice.paid') await report(req, rawBody, 'invoices', receivedAt);
  res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
});
