// hooklab load view: reads snapshots from the event stream and updates
// the figures and the latency plot. Every value is set with textContent
// or as an SVG attribute: nothing from a snapshot is parsed as HTML.
"use strict";
(function () {
  var NS = "http://www.w3.org/2000/svg";
  var W = 960, H = 340, L = 76, R = 944, TOP = 16, BOTTOM = 296, BARS = 60;
  var state = { points: [], width: 1, done: false };

  function $(id) { return document.querySelector('[data-testid="' + id + '"]'); }
  function set(id, text) { var e = $(id); if (e && e.textContent !== text) e.textContent = text; }
  function fixed(v, p) { return (isFinite(v) && v !== 0 ? v : 0).toFixed(p); }
  function ms(count, v) { return count ? fixed(v, 3) + " ms" : "-"; }
  function counts(m) {
    var ks = Object.keys(m || {}).sort();
    if (!ks.length) return "-";
    return ks.map(function (k) { return k + ": " + m[k]; }).join(", ");
  }

  function apply(s) {
    var d = s.series;
    if (d.reset) state.points = [];
    state.points.length = Math.min(d.from, state.points.length);
    Array.prototype.push.apply(state.points, d.points);
    state.width = d.width_s || 1;
    state.done = s.state === "done";
    var st = $("load-state");
    if (st) { st.textContent = s.state; st.className = "state state-" + s.state; }
    set("load-elapsed", fixed(s.elapsed_s, 1) + "s");
    set("load-rate-requested", s.rate_requested > 0 ? fixed(s.rate_requested, 2) + "/s" : "none (closed loop)");
    set("load-rate-achieved", fixed(s.rate_achieved, 2) + "/s");
    set("load-requests", String(s.requests));
    set("load-success", fixed(100 * s.success_ratio, 2) + "%");
    set("load-latency-p50", ms(s.latency_ms.count, s.latency_ms.p50));
    set("load-latency-p99", ms(s.latency_ms.count, s.latency_ms.p99));
    set("load-latency-max", ms(s.latency_ms.count, s.latency_ms.max));
    set("load-in-flight", String(s.in_flight));
    set("load-dropped", String(s.dropped));
    set("load-status-codes", counts(s.status_codes));
    set("load-errors", counts(s.errors));
    set("load-deliveries", s.delivered === undefined ? "no sink" :
      s.delivered + " delivered, " + s.lost + " lost, " + s.duplicated + " doubled");
    var dl = s.delivery_ms;
    set("load-delivery-latency", dl ? ms(dl.count, dl.p50) + ", " + ms(dl.count, dl.p99) : "-");
    var c = s.chaos;
    if (c) {
      var retries = 0;
      Object.keys(c.retries || {}).forEach(function (k) { retries += c.retries[k]; });
      set("load-chaos", c.duplicates + " duplicates sent, " + c.reordered + " reordered, " + retries +
        " retries (" + c.retried + " retried, " + c.gave_up + " gave up)");
    }
    set("load-bucket", String(state.width));
    draw();
  }

  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  var TICKS = [0.001, 0.01, 0.1, 1, 10, 100, 1000, 10000, 60000, 600000, 3600000];
  function tickLabel(v) {
    if (v >= 3600000) return v / 3600000 + "h";
    if (v >= 60000) return v / 60000 + "m";
    if (v >= 1000) return v / 1000 + "s";
    if (v >= 1) return v + "ms";
    return Math.round(v * 1000) + "µs";
  }
  function timeLabel(sec, total) {
    if (total <= 120) return (sec === Math.floor(sec) ? sec : sec.toFixed(1)) + "s";
    var s = Math.round(sec), m = Math.floor(s / 60) % 60, h = Math.floor(s / 3600);
    var ss = ("0" + s % 60).slice(-2);
    return total >= 3600 ? h + ":" + ("0" + m).slice(-2) + ":" + ss : Math.floor(s / 60) + ":" + ss;
  }

  function draw() {
    var svg = $("load-plot");
    if (!svg) return;
    var ps = state.points, n = Math.max(ps.length, 1), w = state.width;
    var lo = Infinity, hi = 0, maxN = 1;
    ps.forEach(function (p) {
      if (!p.n) return;
      maxN = Math.max(maxN, p.n);
      [p.p50, p.p99, p.max, p.up99].forEach(function (v) {
        if (v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      });
    });
    var ylo = TICKS[0], yhi = TICKS[TICKS.length - 1];
    if (hi > 0) {
      TICKS.forEach(function (t) { if (t <= lo) ylo = t; });
      for (var i = TICKS.length - 1; i >= 0; i--) if (TICKS[i] > ylo && TICKS[i] >= hi) yhi = TICKS[i];
    } else { ylo = 0.1; yhi = 1000; }
    var latBottom = BOTTOM - BARS - 12;
    function x(sec) { return L + sec / (n * w) * (R - L); }
    function y(v) {
      var f = Math.log(Math.max(v, ylo) / ylo) / Math.log(yhi / ylo);
      return latBottom - f * (latBottom - TOP);
    }
    var frag = document.createDocumentFragment();
    TICKS.forEach(function (t) {
      if (t < ylo || t > yhi) return;
      var yy = y(t).toFixed(1);
      frag.appendChild(el("line", { "class": "grid", x1: L, y1: yy, x2: R, y2: yy }));
      frag.appendChild(el("text", { x: L - 6, y: (+yy + 4).toFixed(1), "text-anchor": "end" }, tickLabel(t)));
    });
    var total = n * w, step = 1;
    [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].some(function (s) {
      step = s; return total / s <= 10;
    });
    for (var k = 0; k * step <= total + 1e-9; k++) {
      var xx = x(k * step).toFixed(1);
      frag.appendChild(el("line", { "class": "grid", x1: xx, y1: TOP, x2: xx, y2: BOTTOM }));
      frag.appendChild(el("text", { x: xx, y: BOTTOM + 16, "text-anchor": "middle" }, timeLabel(k * step, total)));
    }
    frag.appendChild(el("line", { "class": "axis", x1: L, y1: latBottom, x2: R, y2: latBottom }));
    frag.appendChild(el("line", { "class": "axis", x1: L, y1: BOTTOM, x2: R, y2: BOTTOM }));
    frag.appendChild(el("text", { x: L - 6, y: BOTTOM - BARS + 14, "text-anchor": "end" }, maxN + "/bucket"));
    var bw = (R - L) / n;
    ps.forEach(function (p, i) {
      if (!p.n) return;
      var h = p.n / maxN * BARS, he = p.err / maxN * BARS;
      frag.appendChild(el("rect", { "class": "bar", x: (L + i * bw + bw * 0.1).toFixed(1), y: (BOTTOM - h).toFixed(1),
        width: Math.max(bw * 0.8, 1).toFixed(1), height: h.toFixed(1) }));
      if (p.err) frag.appendChild(el("rect", { "class": "bar-err", x: (L + i * bw + bw * 0.1).toFixed(1), y: (BOTTOM - he).toFixed(1),
        width: Math.max(bw * 0.8, 1).toFixed(1), height: he.toFixed(1) }));
    });
    [["max", "max"], ["up99", "up99"], ["p50", "p50"], ["p99", "p99"]].forEach(function (l) {
      var d = "";
      ps.forEach(function (p, i) {
        if (!p.n || !(p[l[0]] > 0)) return;
        var cmd = (i === 0 || !ps[i - 1].n || !(ps[i - 1][l[0]] > 0)) ? "M" : "L";
        var cx = x((i + 0.5) * w), cy = y(p[l[0]]);
        d += cmd + cx.toFixed(1) + " " + cy.toFixed(1);
        var next = ps[i + 1];
        if (cmd === "M" && (!next || !next.n || !(next[l[0]] > 0))) {
          var half = Math.max(3, 0.4 * bw);
          d += "m-" + half.toFixed(1) + " 0h" + (2 * half).toFixed(1);
        }
      });
      if (d) frag.appendChild(el("path", { "class": "line " + l[1], d: d }));
    });
    if (!ps.some(function (p) { return p.n; })) {
      frag.appendChild(el("text", { x: (L + R) / 2, y: (TOP + latBottom) / 2, "text-anchor": "middle", "class": "empty" },
        state.done ? "No requests were sent." : "Waiting for the first answers…"));
    }
    svg.replaceChildren(frag);
  }

  function connect() {
    var url = document.body.dataset.events;
    if (!url || !window.EventSource) { draw(); return; }
    var es = new EventSource(url);
    es.onopen = function () { document.body.dataset.live = "connected"; };
    es.addEventListener("snapshot", function (ev) {
      var s;
      try { s = JSON.parse(ev.data); } catch (e) { return; }
      apply(s);
      if (state.done) es.close(); // the run is over: nothing more will come
    });
    es.onerror = function () {
      if (!state.done) document.body.dataset.live = "reconnecting";
    };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", connect);
  else connect();
})();
