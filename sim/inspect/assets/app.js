// hooklab inspector: copy, reveal, send, replay, and the live list.
// Every value from a request is set with textContent, never as HTML.
"use strict";

function post(url) {
  return fetch(url, { method: "POST", headers: { "X-Hooklab": "1" }, credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { return r.text().then(function (t) { throw new Error(t || r.status); }); } return r.json(); });
}

function copyText(text, btn) {
  var done = function () { if (btn) { var was = btn.textContent; btn.textContent = "Copied"; setTimeout(function () { btn.textContent = was; }, 1200); } };
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done, done); return; }
  var ta = document.createElement("textarea");
  ta.value = text; ta.setAttribute("readonly", ""); ta.className = "offscreen";
  document.body.appendChild(ta); ta.select();
  try { document.execCommand("copy"); } catch (e) { /* nothing to do */ }
  document.body.removeChild(ta); done();
}

document.addEventListener("click", function (ev) {
  var b = ev.target.closest("button");
  if (!b) { return; }
  var t = b.dataset.testid;
  if (b.dataset.copy !== undefined) { copyText(b.dataset.copy, b); return; }
  if (b.dataset.copyFrom) { copyText(document.getElementById(b.dataset.copyFrom).textContent, b); return; }
  if (t === "secret-reveal" || t === "secret-copy") {
    var card = b.closest("[data-testid=endpoint-card]");
    var shown = card.querySelector("[data-testid=secret]");
    post("/_hooklab/api/secret?endpoint=" + encodeURIComponent(b.dataset.endpoint)).then(function (r) {
      if (t === "secret-copy") { copyText(r.secrets[0], b); return; }
      if (shown.dataset.masked === "yes") { shown.textContent = r.secrets.join(", "); shown.dataset.masked = "no"; b.textContent = "Hide"; }
      else { shown.textContent = "••••••"; shown.dataset.masked = "yes"; b.textContent = "Reveal"; }
    }, function (e) { shown.textContent = "reveal failed: " + e.message; });
    return;
  }
  if (t === "example-send") {
    var out = b.parentNode.querySelector("[data-testid=example-outcome]");
    out.textContent = "sending…"; b.disabled = true;
    post("/_hooklab/api/send?endpoint=" + encodeURIComponent(b.dataset.endpoint) + "&example=" + encodeURIComponent(b.dataset.example))
      .then(function (r) { out.textContent = r.text; }, function (e) { out.textContent = "failed: " + e.message; })
      .then(function () { b.disabled = false; });
    return;
  }
  if (t === "action-replay") {
    var o = document.getElementById("action-outcome");
    o.textContent = "replaying…";
    post("/_hooklab/api/replay?id=" + encodeURIComponent(b.dataset.request))
      .then(function (r) { o.textContent = "replayed: " + r.text; }, function (e) { o.textContent = "failed: " + e.message; });
  }
});

// The live list.
(function () {
  var list = document.getElementById("list");
  if (!list) { return; }
  var keep = parseInt(list.dataset.keep, 10) || 1000;
  var fe = document.getElementById("f-endpoint"), fs = document.getElementById("f-status"), fv = document.getElementById("f-verified");
  var count = document.getElementById("count");
  var queue = [], updates = {}, scheduled = false;

  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) { e.className = cls; } if (text !== undefined) { e.textContent = text; } return e; }
  function span(cls, testid, text) { var s = el("span", cls, text); if (testid) { s.dataset.testid = testid; } return s; }

  function build(r) {
    var row = el("div", "row s" + r.statusClass);
    row.setAttribute("role", "listitem");
    row.dataset.testid = "request-row"; row.dataset.request = r.id; row.dataset.endpoint = r.endpoint;
    row.dataset.status = r.statusClass; row.dataset.verified = r.verified;
    var l1 = el("div", "line1");
    var a = el("a"); a.dataset.testid = "request-link"; a.href = "/_hooklab/requests/" + r.id;
    a.append(span("time", null, r.time), span("method", "request-method", r.method), " ", span("path", "request-path", r.path));
    var v = span("verified", "request-verified", r.verifiedText); v.dataset.verified = r.verified;
    var listen = (r.provider || "") + (r.event ? " · " + r.event : "");
    l1.append(a, " ", span("status", "request-status", String(r.status)), " ", v, " ",
      span("respond muted", null, r.respondWith ? "respondWith " + r.respondWith : ""), " ", span("listen muted", null, listen));
    var l2 = el("div", "line2");
    (r.triggers || []).forEach(function (t) {
      var s = span("trig " + (t.fired ? "fired" : "missed"), "trigger-row");
      s.dataset.trigger = t.id;
      s.append(el("b", null, t.id), " ", span(null, "trigger-fired", t.fired ? "fired" : "not fired"));
      if (!t.fired) { s.append(" ", span(null, "trigger-explain", t.explain || "")); }
      (t.deliveries || []).forEach(function (d) {
        s.append(" ", span("deliv", null, d.status + (d.attempts ? " ×" + d.attempts : "") + (d.latency ? " " + d.latency : "")));
      });
      l2.append(s);
    });
    row.append(l1, l2);
    return row;
  }

  function visible(row) {
    return (fe.value === "all" || row.dataset.endpoint === fe.value) &&
      (fs.value === "all" || row.dataset.status === fs.value) &&
      (fv.value === "all" || row.dataset.verified === fv.value);
  }
  function applyFilters() {
    var n = 0;
    for (var row = list.firstElementChild; row; row = row.nextElementSibling) {
      var show = visible(row); row.hidden = !show; if (show) { n++; }
    }
    count.textContent = String(n);
  }
  [fe, fs, fv].forEach(function (s) { s.addEventListener("change", applyFilters); });

  function flush() {
    scheduled = false;
    if (queue.length) {
      var frag = document.createDocumentFragment();
      var start = Math.max(0, queue.length - keep);
      for (var i = queue.length - 1; i >= start; i--) { var row = build(queue[i]); row.hidden = !visible(row); frag.append(row); }
      queue = [];
      list.prepend(frag);
      while (list.childElementCount > keep) { list.lastElementChild.remove(); }
    }
    Object.keys(updates).forEach(function (id) {
      var old = list.querySelector('[data-request="' + id + '"]');
      if (old) { var row = build(updates[id]); row.hidden = old.hidden; old.replaceWith(row); }
    });
    updates = {};
    applyFilters();
  }
  function schedule() { if (!scheduled) { scheduled = true; requestAnimationFrame(flush); } }

  var es = new EventSource("/_hooklab/events");
  var live = document.getElementById("live");
  es.onopen = function () { document.body.dataset.live = "connected"; live.textContent = "live"; };
  es.onerror = function () { document.body.dataset.live = "reconnecting"; live.textContent = "reconnecting…"; };
  es.addEventListener("request", function (m) { queue.push(JSON.parse(m.data)); if (queue.length > keep) { queue.splice(0, queue.length - keep); } schedule(); });
  es.addEventListener("update", function (m) { var r = JSON.parse(m.data); updates[r.id] = r; schedule(); });
  applyFilters();
})();
