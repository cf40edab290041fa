// A Stripe webhook receiver as Stripe's docs write one, on stripe-node's
// webhooks.constructEvent (https://docs.stripe.com/webhooks/quickstart,
// Node): the raw body, the Stripe-Signature header and the endpoint's
// signing secret; 400 "Webhook Error: …" when it throws, else a handler
// per event type and 200 {"received": true}. The body limit is
// express.raw's default (100kb) that the sample reads the body with.
//
//	STRIPE_WEBHOOK_SECRET=whsec_… [HOOKLAB_SINK=127.0.0.1:9998] node stripe.mjs PORT
import Stripe from 'stripe';
import { serve, report } from './testmode.mjs';

const stripe = new Stripe('sk_test_unused'); // no API call is made
const endpointSecret = process.env.STRIPE_WEBHOOK_SECRET;
if (!endpointSecret) {
  console.error('STRIPE_WEBHOOK_SECRET is not set');
  process.exit(2);
}

serve('/webhook', 100 * 1024, async (req, res, rawBody, receivedAt) => {
  const sig = req.headers['stripe-signature'];
  let event;
  try {
    event = stripe.webhooks.constructEvent(rawBody, sig, endpointSecret);
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(`Webhook Error: ${err.message}`);
    return;
  }
  // Handle the event: "all" runs for every one, the others by type.
  await report(req, rawBody, 'all', receivedAt);
  switch (event.type) {
    case 'checkout.session.completed':
      await report(req, rawBody, 'checkout-completed', receivedAt);
      break;
    case 'payment_intent.succeeded':
    case 'payment_intent.payment_failed':
      await report(req, rawBody, 'payments', receivedAt);
      break;
    default:
      // Unexpected event type: the sample logs it and still answers 200.
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received: true }));
});
