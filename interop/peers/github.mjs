// A GitHub webhook receiver as GitHub's docs write one in JavaScript
// (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries,
// "JavaScript example"): the body as text, verify(secret, body,
// X-Hub-Signature-256) of @octokit/webhooks-methods (what that sample's
// Webhooks.verify calls), 401 "Unauthorized" when it is false, else a
// handler per event and 202 "Accepted". As in the sample, nothing catches
// what verify throws (a request without a signature): it is answered 500.
//
//	GITHUB_WEBHOOK_SECRET=… [HOOKLAB_SINK=127.0.0.1:29132] node github.mjs PORT
import { verify } from '@octokit/webhooks-methods';
import { serve, report } from './testmode.mjs';

const secret = process.env.GITHUB_WEBHOOK_SECRET;
if (!secret) {
  console.error('GITHUB_WEBHOOK_SECRET is not set');
  process.exit(2);
}

serve('/webhooks/github', 25 * 1024 * 1024, async (req, res, rawBody, receivedAt) => {
  const signature = req.headers['x-hub-signature-256'];
  const body = rawBody.toString('utf8'); // req.text() in the sample
  if (!(await verify(secret, body, signature))) {
    res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
    return;
  }
  // The app's handlers: by event (X-GitHub-Event), and by the payload's
  // action, as GitHub apps route issues.opened.
  const event = req.headers['x-github-event'];
  let action;
  try {
    action = JSON.parse(body).action;
  } catch {
    // not JSON: no handler routes by action
  }
  await report(req, rawBody, 'all', receivedAt);
  if (event === 'issues') await report(req, rawBody, 'issues', receivedAt);
  if (event === 'push') await report(req, rawBody, 'push', receivedAt);
  if (action === 'opened') await report(req, rawBody, 'opened', receivedAt);
  if (action === 'closed') await report(req, rawBody, 'closed', receivedAt);
  res.writeHead(202, { 'content-type': 'text/plain' }).end('Accepted');
});
