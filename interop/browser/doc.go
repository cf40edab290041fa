// Package browser holds hooklab's end-to-end tests of the web inspector
// (hooklab serve --ui): they build the hooklab binary, start it as a
// subprocess, and drive a real headless Chromium with chromedp, as a person
// would use the pages — open the endpoints page, click Send on an example,
// watch requests arrive live with their verification and triggers, read why a
// signature failed or a filter missed, and check that hostile header values
// render as text.
//
// The tests depend only on the CLI and the DOM contract of the inspector
// (data-testid attributes, see issue 13), not on package sim/inspect. They
// live in a module of their own so that chromedp stays out of hooklab's
// go.mod. Run them with:
//
//	cd interop/browser && go test ./...
//
// Chromium is found at $HOOKLAB_CHROMIUM, /usr/bin/chromium, or on PATH
// (chromium, chromium-browser, google-chrome). The tests build hooklab from
// ../../cmd/hooklab once, or run $HOOKLAB_BIN when set. Without it the tests skip,
// except under CI=true, where they fail. Screenshots go to
// $HOOKLAB_SCREENSHOTS when set (a relative path is taken from hooklab's
// root, so HOOKLAB_SCREENSHOTS=docs/screenshots writes the README's), else
// to a temporary directory whose path the tests log.
package browser
