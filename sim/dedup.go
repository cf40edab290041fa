package sim

import (
	"cmp"
	"container/list"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hooklab/hooklab/internal/stage"
	"github.com/hooklab/hooklab/matcher"
)

// Defaults and bounds of a DedupSpec.
const (
	// DefaultDedupWindow is how long an endpoint remembers a delivery id
	// unless its spec says otherwise: Stripe, GitHub and Standard Webhooks
	// senders retry for up to about three days, but most duplicates come
	// within minutes.
	DefaultDedupWindow = 24 * time.Hour
	// MaxDedupWindow is the longest window a spec may set.
	MaxDedupWindow = 30 * 24 * time.Hour
	// DefaultDedupMax is how many ids an endpoint remembers unless its
	// spec says otherwise; past it the oldest is forgotten first.
	DefaultDedupMax = 10000
	// MaxDedupMax is the most ids a spec may have an endpoint remember:
	// each costs at most MaxEventIDLen bytes and about 150 more.
	MaxDedupMax = 1 << 20
)

// DedupByEventID is the DedupSpec.By that takes the id where the
// endpoint's preset carries it (PresetIDSource) or, for a custom scheme,
// its signed id header.
const DedupByEventID = "event-id"

// A DedupSpec makes an endpoint idempotent, as a receiver that promises
// to act once per event is: a delivery that verifies and carries an id
// the endpoint has taken within Window is answered 200 (respondWith's
// response, if one matched, else {"ok":true,…,"duplicate":true}) and
// wakes no trigger. Ids are remembered only after verification, so a
// forged request never keeps the real one out. A request that carries no
// id is taken as a new event. The zero value de-duplicates by the event
// id for DefaultDedupWindow, remembering at most DefaultDedupMax ids.
//
// In JSON: {"by": "event-id" | "header:NAME" | "body:PATH", "window":
// "24h", "max": 10000}, every field optional.
type DedupSpec struct {
	// By is where the id is: DedupByEventID ("" means it), "header:NAME"
	// or "body:PATH" (see ParseIDSource).
	By string
	// Window is how long an id is remembered after it was first taken;
	// zero means DefaultDedupWindow, at most MaxDedupWindow.
	Window time.Duration
	// Max is the most ids remembered, the oldest forgotten first; zero
	// means DefaultDedupMax, at most MaxDedupMax.
	Max int
}

type dedupSpecJSON struct {
	By     string `json:"by,omitempty"`
	Window string `json:"window,omitempty"`
	Max    int    `json:"max,omitempty"`
}

// MarshalJSON writes the wire form, the window as a Go duration.
func (d DedupSpec) MarshalJSON() ([]byte, error) {
	j := dedupSpecJSON{By: d.By, Max: d.Max}
	if d.Window != 0 {
		j.Window = d.Window.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the wire form; the window is a Go duration ("24h",
// "90m").
func (d *DedupSpec) UnmarshalJSON(data []byte) error {
	var j dedupSpecJSON
	if err := strictUnmarshal(data, &j); err != nil {
		return err
	}
	*d = DedupSpec{By: j.By, Max: j.Max}
	if j.Window != "" {
		w, err := time.ParseDuration(j.Window)
		if err != nil {
			return fmt.Errorf("window: %q is not a duration such as \"24h\"", j.Window)
		}
		d.Window = w
	}
	return nil
}

// Source returns where the id is for an endpoint verified as v (nil: not
// verified), and false with the reason when By names nothing it can use.
func (d DedupSpec) Source(v *VerifySpec) (IDSource, error) {
	if d.By != "" && d.By != DedupByEventID {
		return ParseIDSource(d.By)
	}
	switch {
	case v == nil:
		return IDSource{}, fmt.Errorf(`%q needs the endpoint's verify preset; say "header:NAME" or "body:PATH"`, DedupByEventID)
	case v.Preset != "":
		if src, ok := PresetIDSource(v.Preset); ok {
			return src, nil
		}
		return IDSource{}, fmt.Errorf(`%q: the preset %s carries no event id hooklab knows; say "header:NAME" or "body:PATH"`, DedupByEventID, v.Preset)
	case v.Scheme != nil:
		if src, ok := SchemeIDSource(*v.Scheme); ok {
			return src, nil
		}
		return IDSource{}, fmt.Errorf(`%q: the scheme has no id_header; say "header:NAME" or "body:PATH"`, DedupByEventID)
	}
	return IDSource{}, fmt.Errorf(`%q needs a verify preset or scheme`, DedupByEventID)
}

// compileDedup checks a dedup spec and builds the endpoint's memory of
// ids.
func compileDedup(d DedupSpec, v *VerifySpec) (*stage.Dedup, error) {
	src, err := d.Source(v)
	if err != nil {
		return nil, &specError{Path: "dedup.by", Err: err}
	}
	switch {
	case d.Window < 0 || d.Window > MaxDedupWindow:
		return nil, specErrorf("dedup.window", "%s is out of range: want up to %s, or 0 for %s", d.Window, MaxDedupWindow, DefaultDedupWindow)
	case d.Max < 0 || d.Max > MaxDedupMax:
		return nil, specErrorf("dedup.max", "%d is out of range: want 1 to %d, or 0 for %d", d.Max, MaxDedupMax, DefaultDedupMax)
	}
	seen := newSeenIDs(cmp.Or(d.Window, DefaultDedupWindow), cmp.Or(d.Max, DefaultDedupMax))
	return &stage.Dedup{
		Source: src.String(),
		ID:     func(r matcher.Request) string { return src.ID(r.Header, r.Body) },
		First:  seen.first,
	}, nil
}

// seenIDs remembers ids for a window, at most max of them, the oldest
// forgotten first. It is safe for concurrent use.
type seenIDs struct {
	window time.Duration
	max    int

	mu    sync.Mutex
	at    map[string]*list.Element
	order *list.List // of seenID, oldest first
}

type seenID struct {
	id string
	at time.Time
}

func newSeenIDs(window time.Duration, max int) *seenIDs {
	return &seenIDs{window: window, max: max, at: map[string]*list.Element{}, order: list.New()}
}

// first records id as taken at now and reports whether it was not
// remembered.
func (s *seenIDs) first(id string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for e := s.order.Front(); e != nil && now.Sub(e.Value.(seenID).at) >= s.window; e = s.order.Front() {
		s.forget(e)
	}
	if _, ok := s.at[id]; ok {
		return false
	}
	s.at[id] = s.order.PushBack(seenID{id, now})
	for s.order.Len() > s.max {
		s.forget(s.order.Front())
	}
	return true
}

func (s *seenIDs) forget(e *list.Element) {
	delete(s.at, e.Value.(seenID).id)
	s.order.Remove(e)
}
