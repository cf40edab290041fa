// Package view serves the live load view: a small web page that shows a
// hooklab load run as it happens (latency over time, the rate requested
// and achieved, status codes, errors, deliveries lost and doubled), or a
// saved report (hooklab report --ui FILE).
//
// A View is an http.Handler. Publish hands it each load.Snapshot (wire
// it to load.Plan.Watch); it never blocks, whatever the browsers
// connected to it do. The page is server-rendered from an html/template
// with the latest figures, then kept up to date by a little plain
// JavaScript that reads snapshots from Server-Sent Events and draws the
// plot as SVG. Everything it loads is embedded (go:embed): no CDN, no
// inline script, and a Content-Security-Policy of script-src 'self'.
// Every value shown (target URLs, status codes, error kinds from a file)
// is escaped, on the server by html/template and in the browser by
// textContent.
//
// Typical use, serving a run on loopback:
//
//	v := view.New(view.Title("hooklab load"), view.Target(url))
//	srv := httptest.NewServer(v) // or http.Server on 127.0.0.1
//	plan.Watch = v.Publish
//	rep, err := load.Run(ctx, plan)
//	// the page at srv.URL + view.Path shows the run, then its report
//
// and a saved report: view.New(view.Title(name)).Publish(load.SnapshotOf(rep)).
package view
