// Package inspect is the web inspector of hooklab serve --ui and hooklab
// listen --ui: a bounded Store of the last requests an Ingress (as its
// sim.Observer) or a listen.Receiver (through listen.OnEntry) saw, a
// publisher of their summaries as Server-Sent Events, and an http.Handler
// that serves the pages under Prefix ("/_hooklab/"):
//
//	/_hooklab/                  endpoints: title, icon, URL, masked secret, respondWith, triggers, examples to send
//	/_hooklab/requests          the live list, newest first, with every trigger's verdict
//	/_hooklab/requests/{id}     one request: headers, body, the signature check, explanations, deliveries
//	/_hooklab/requests/{id}/raw the request as raw HTTP (sim/record's format)
//	/_hooklab/events            the Server-Sent Events stream of new and updated requests
//
// The pages are html/template, plain JavaScript and CSS embedded in the
// binary: no CDN, no build step, no request leaves the page. Every value
// from a request is escaped by html/template (none is ever marked safe);
// a secret appears only in the answer to an explicit reveal (a POST); the
// pages are served with a Content-Security-Policy that allows only the
// inspector's own scripts and styles.
//
// Access: with an empty Config.Token the handler answers only clients on
// a loopback address that name a loopback host (so a DNS-rebinding page
// cannot reach it); with a token, every request must carry
// "Authorization: Bearer TOKEN" or the cookie that opening any page with
// "?token=TOKEN" sets. Actions (reveal, send, replay) are POSTs that must
// carry the header "X-Hooklab: 1", which a cross-site form cannot send.
//
// Memory is bounded: the Store keeps the last Keep requests (default
// 1000), each body cut at MaxBody bytes (default 64 KiB) and shown as
// truncated; a subscriber to the event stream that falls 256 events
// behind is dropped, never waited for.
package inspect
