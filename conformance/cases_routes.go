package conformance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/matcher"
	"github.com/hooklab/hooklab/sim"
)

// refEventRouting is where the providers say how an event names its type.
const refEventRouting = "GitHub: the X-GitHub-Event header names the event and the payload's action its activity, https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers; " +
	"Stripe: the event's type, https://docs.stripe.com/api/events/object; Standard Webhooks: the payload's type, https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#payload-structure; " +
	refTriggerFanOut

// A routeStyle is how the apps of a provider route an event to a
// handler: by a header naming the event's type (GitHub's X-GitHub-Event),
// refined by a body key (GitHub's action), or by a body key naming the
// type (Stripe's and Standard Webhooks' type).
type routeStyle struct {
	header  string // the type's header, lower-case; "" when the type is in the body
	typeKey string // the body key of the type, when header is ""
	subKey  string // a body key refining the type, or ""
}

// routeStyleOf returns how apps of preset's provider route events.
func routeStyleOf(preset string) routeStyle {
	if preset == "github" {
		return routeStyle{header: "x-github-event", subKey: "action"}
	}
	return routeStyle{typeKey: "type"}
}

// A route is what a handler's trigger filter takes, when the filter is a
// route of the style: the event types, and the sub-types (nil: any).
type route struct {
	types, subs []string
}

// parse returns the route a filter is, and false when the filter is not
// a route of s: exactly a list of type strings where s names the type,
// and, for a style with a sub-key, at most a list of sub-type strings.
func (s routeStyle) parse(raw json.RawMessage) (route, bool) {
	var f map[string]map[string]json.RawMessage
	if canonical(raw) == "" || json.Unmarshal(raw, &f) != nil {
		return route{}, false
	}
	// strs returns the one key of f[part], a list of strings, when it is
	// key (header names in any case).
	strs := func(part, key string) ([]string, bool) {
		var vs []string
		for k, raw := range f[part] {
			if len(f[part]) != 1 || !(k == key || part == "headers" && strings.EqualFold(k, key)) || json.Unmarshal(raw, &vs) != nil || len(vs) == 0 {
				return nil, false
			}
		}
		return vs, vs != nil
	}
	var r route
	var ok bool
	switch {
	case s.header != "":
		if r.types, ok = strs("headers", s.header); !ok {
			return route{}, false
		}
		if _, has := f["body"]; has {
			if s.subKey == "" {
				return route{}, false
			}
			if r.subs, ok = strs("body", s.subKey); !ok {
				return route{}, false
			}
		}
		for k := range f {
			if k != "headers" && k != "body" {
				return route{}, false
			}
		}
	default:
		if r.types, ok = strs("body", s.typeKey); !ok || len(f) != 1 {
			return route{}, false
		}
	}
	return r, true
}

// filter returns the trigger filter of a route.
func (s routeStyle) filter(r route) string {
	f := map[string]map[string][]string{}
	if s.header != "" {
		f["headers"] = map[string][]string{s.header: r.types}
		if len(r.subs) > 0 {
			f["body"] = map[string][]string{s.subKey: r.subs}
		}
	} else {
		f["body"] = map[string][]string{s.typeKey: r.types}
	}
	b, _ := json.Marshal(f)
	return string(b)
}

// event returns a request of one event of preset's provider, of type typ
// (and sub-type sub, when not ""): the body of the provider's fixture of
// that event when there is one (its type and sub-type set), else a small
// body of the provider's shape.
func (s routeStyle) event(preset, typ, sub string) request {
	body := map[string]any{}
	if f, err := fixtures.Lookup(preset + "/" + typ); err == nil && f.Preset == preset {
		if d, err := f.Render(1, time.Now()); err == nil {
			json.Unmarshal(d.Body, &body)
		}
	}
	if len(body) == 0 && s.header == "" {
		body = map[string]any{"id": "evt_" + newRequestID(), "object": "event", "data": map[string]any{"object": map[string]any{}}}
	}
	label := typ
	r := request{Header: http.Header{}}
	if s.header != "" {
		r.Header.Set(s.header, typ)
		if sub != "" {
			body[s.subKey] = sub
			label += "." + sub
		}
	} else {
		body[s.typeKey] = typ
	}
	r.Body, _ = json.Marshal(body)
	r.Label = "valid signature, event " + label
	return r
}

// otherSub returns a sub-type (a GitHub action) of typ that no route
// names for it.
func otherSub(routes []route, typ string) string {
	taken := map[string]bool{}
	for _, r := range routes {
		if slices.Contains(r.types, typ) {
			for _, s := range r.subs {
				taken[s] = true
			}
		}
	}
	for _, s := range []string{"closed", "edited", "created", "deleted", "opened", "completed"} {
		if !taken[s] {
			return s
		}
	}
	return "hooklab_unrouted"
}

// unroutedType returns an event type of preset's provider that no route
// takes: one of its fixtures' events, else "hooklab.unrouted".
func unroutedType(preset string, routes []route) string {
	taken := map[string]bool{}
	for _, r := range routes {
		for _, t := range r.types {
			taken[t] = true
		}
	}
	for _, f := range fixtures.All() {
		if f.Preset == preset && f.Provider == preset && !taken[f.Event] && f.Method == http.MethodPost {
			return f.Event
		}
	}
	return "hooklab.unrouted"
}

// routeTriggers returns the triggers of the EventTypeRouting case: a
// declared app's own catch-all (the first) and every trigger of it that
// is a route of style s, with their routes; for any other target, a
// catch-all and the routes of GitHub's issues, issues.opened and push
// (or, for a body-typed preset, invoice.paid, charge.refunded).
func routeTriggers(t Target, s routeStyle) ([]sim.TriggerSpec, []route) {
	if app, ok := t.(declaredApp); ok {
		var ts []sim.TriggerSpec
		var rs []route
		catchAll := false
		for _, tr := range app.declaredTriggers() {
			if canonical(tr.Filter) == "" {
				if !catchAll {
					catchAll = true
					ts = append(ts, tr)
				}
				continue
			}
			if r, ok := s.parse(tr.Filter); ok {
				ts = append(ts, tr)
				rs = append(rs, r)
			}
		}
		return ts, rs
	}
	rs := []route{{types: []string{"issues"}}, {types: []string{"issues"}, subs: []string{"opened"}}, {types: []string{"push"}}}
	ids := []string{"issues", "issues-opened", "push"}
	if s.header == "" {
		rs = []route{{types: []string{"invoice.paid"}}, {types: []string{"charge.refunded"}}}
		ids = []string{"invoice-paid", "charge-refunded"}
	}
	ts := []sim.TriggerSpec{trig("all", "")}
	for i, r := range rs {
		ts = append(ts, trig(ids[i], s.filter(r)))
	}
	return ts, rs
}

// A routedEvent is an event of the target's provider and the triggers
// of the routing endpoint it must wake, once each.
type routedEvent struct {
	req  request
	want map[string]int
}

// routedEndpoint provisions an endpoint of the target's preset whose
// triggers route events by type (see routeTriggers) and returns one event
// per route (a sub-type route with an event of its type and sub-type; a
// type route with the type alone, or, when the style has sub-types, with
// one no route names) and one event no route takes, with the triggers
// each must wake. The case is skipped when a declared app routes no
// event type.
func routedEndpoint(x *exchange) []routedEvent {
	preset := x.preset()
	style := routeStyleOf(preset)
	triggers, routes := routeTriggers(x.env.target, style)
	if len(routes) == 0 {
		x.Skipf("skipped: the declared endpoint has no trigger routing an event type as %s apps do (a filter on %s only)", preset, style.describe())
	}
	x.ProvisionPreset(targetPreset, nil, triggers...)
	var reqs []request
	seen := map[string]bool{}
	add := func(typ, sub string) {
		if k := typ + "\x00" + sub; !seen[k] {
			seen[k] = true
			reqs = append(reqs, style.event(preset, typ, sub))
		}
	}
	for _, r := range routes {
		switch {
		case len(r.subs) > 0:
			add(r.types[0], r.subs[0])
		case style.subKey != "":
			add(r.types[0], otherSub(routes, r.types[0]))
		default:
			add(r.types[0], "")
		}
	}
	add(unroutedType(preset, routes), "")
	filters := make([]*matcher.RequestFilter, len(triggers))
	for i, t := range triggers {
		if canonical(t.Filter) == "" {
			continue
		}
		f, err := matcher.ParseRequestFilter(t.Filter)
		if err != nil {
			x.Fatalf("trigger %s: filter: %v", t.ID, err)
		}
		filters[i] = f
	}
	out := make([]routedEvent, len(reqs))
	for j, rq := range reqs {
		want := map[string]int{}
		mr := matcher.Request{Method: http.MethodPost, URL: "http://localhost/", Header: rq.Header, Body: rq.Body}
		var woken []string
		for i, t := range triggers {
			if filters[i] == nil || filters[i].Match(mr) {
				want[t.ID] = 1
				woken = append(woken, t.ID)
			}
		}
		slices.Sort(woken)
		rq.Label += fmt.Sprintf(" (routed to %s)", orNone(woken))
		out[j] = routedEvent{req: rq, want: want}
	}
	return out
}

// eventTypeRouting is the body of FanOut/EventTypeRouting.
func eventTypeRouting(x *exchange) {
	events := routedEndpoint(x)
	sent := make([]*response, len(events))
	for j, e := range events {
		sent[j] = x.Send(e.req)
		x.WantAccepted(sent[j])
	}
	for j, r := range sent {
		x.WantDeliveries(events[j].want, r)
	}
}

// declaredEvent provisions a declared app's endpoint with its catch-all
// and its routed handlers, and returns an event routed to the first
// route with the triggers it must wake; for an app that routes no event
// type, the endpoint has the catch-all alone (when declared) and the
// event is one of the provider's, waking it.
func declaredEvent(x *exchange) routedEvent {
	preset := x.preset()
	style := routeStyleOf(preset)
	ts, routes := routeTriggers(x.env.target, style)
	if len(routes) > 0 {
		return routedEndpoint(x)[0]
	}
	x.ProvisionPreset(targetPreset, nil, ts...)
	want := map[string]int{}
	for _, t := range ts {
		want[t.ID] = 1
	}
	return routedEvent{req: style.event(preset, unroutedType(preset, nil), ""), want: want}
}

// isDeclared reports whether the run's target stands for an existing app
// (a manifest), whose handlers are routed as its provider's apps route.
func isDeclared(x *exchange) bool {
	_, ok := x.env.target.(declaredApp)
	return ok
}

// describe names what a route of s filters on.
func (s routeStyle) describe() string {
	if s.header != "" {
		return "headers." + s.header + " and body." + s.subKey
	}
	return "body." + s.typeKey
}

func orNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// envelopeRoute returns the event type, the action its body names and
// the trigger filter of
// FanOut/DeliveryEnvelope's routed handler: a declared app's first route
// of style s that takes a type whatever its sub-type (else its first
// route), or, for any other target, GitHub's issues or the type
// invoice.paid.
func envelopeRoute(t Target, s routeStyle) (typ, action, filter string) {
	action = "opened"
	if app, ok := t.(declaredApp); ok {
		for _, tr := range app.declaredTriggers() {
			r, ok := s.parse(tr.Filter)
			if !ok {
				continue
			}
			if len(r.subs) == 0 {
				return r.types[0], "opened", canonical(tr.Filter)
			}
			if filter == "" {
				typ, action, filter = r.types[0], r.subs[0], canonical(tr.Filter)
			}
		}
		if filter != "" {
			return typ, action, filter
		}
	}
	r := route{types: []string{"issues"}}
	if s.header == "" {
		r = route{types: []string{"invoice.paid"}}
	}
	return r.types[0], action, s.filter(r)
}
