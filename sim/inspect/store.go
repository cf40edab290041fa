package inspect

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/listen"
)

// DefaultKeep is how many requests a Store keeps unless told otherwise.
const DefaultKeep = 1000

// DefaultMaxBody is the most bytes of a body a Store keeps; the rest is
// dropped and the request shown as truncated.
const DefaultMaxBody = 64 << 10

// subscriberBuffer is how many events a subscriber may fall behind
// before it is dropped.
const subscriberBuffer = 256

// An Entry is one request the Store keeps. Entries are never changed once
// published, except through the Store (delivery outcomes), under its lock;
// Store methods return copies.
type Entry struct {
	// ID numbers the requests the Store has seen, from 1.
	ID int64
	// Source is "ingress" (a sim.Trace) or "listen" (a listen.Entry).
	Source string
	// Trace is the ingress's trace; its Body is cut at the Store's
	// MaxBody.
	Trace sim.Trace
	// BodyBytes is the body's length as received; Truncated reports that
	// Trace.Body holds only its first MaxBody bytes.
	BodyBytes int
	Truncated bool
	// Listen is set for a request seen by hooklab listen.
	Listen *listen.Entry
	// Outcomes are the delivery outcomes known so far, by delivery id.
	Outcomes map[string]sim.DeliveryOutcome
}

// A Store keeps the last requests and tells subscribers of each new or
// updated one. It implements sim.Observer. The zero value is not usable:
// call NewStore.
type Store struct {
	keep, maxBody int

	mu      sync.Mutex
	next    int64
	ring    []*Entry // oldest first once full; ring[head] is the oldest
	head    int
	byDeliv map[string]*Entry
	subs    map[*subscriber]struct{}
	dropped int64
}

var _ sim.Observer = (*Store)(nil)

// NewStore returns a Store keeping the last keep requests (DefaultKeep
// when keep <= 0), with bodies cut at maxBody bytes (DefaultMaxBody when
// maxBody <= 0).
func NewStore(keep, maxBody int) *Store {
	if keep <= 0 {
		keep = DefaultKeep
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	return &Store{keep: keep, maxBody: maxBody, byDeliv: map[string]*Entry{}, subs: map[*subscriber]struct{}{}}
}

// Keep returns how many requests the Store keeps.
func (s *Store) Keep() int { return s.keep }

// Request implements sim.Observer: it keeps t and publishes it.
func (s *Store) Request(t *sim.Trace) {
	e := &Entry{Source: "ingress", Trace: *t, BodyBytes: len(t.Body)}
	if len(t.Body) > s.maxBody {
		e.Trace.Body, e.Truncated = t.Body[:s.maxBody:s.maxBody], true
	}
	s.add(e)
}

// Delivery implements sim.Observer: it records the outcome on the request
// that caused the delivery, if the Store still keeps it, and publishes the
// request again.
func (s *Store) Delivery(o sim.DeliveryOutcome) {
	s.mu.Lock()
	e, ok := s.byDeliv[o.ID]
	if ok {
		if e.Outcomes == nil {
			e.Outcomes = map[string]sim.DeliveryOutcome{}
		}
		e.Outcomes[o.ID] = o
		s.publishLocked(event{kind: "update", entry: e})
	}
	s.mu.Unlock()
}

// Listen keeps an entry of hooklab listen (pass it to listen.OnEntry).
// listen keeps no headers nor body, so neither does the Store.
func (s *Store) Listen(le listen.Entry) {
	path, query, _ := strings.Cut(le.Target, "?")
	e := &Entry{Source: "listen", Listen: &le, BodyBytes: le.Bytes, Trace: sim.Trace{
		Received: le.Time, Took: time.Duration(le.Took * float64(time.Millisecond)),
		Method: le.Method, Path: path, Query: query, Status: le.Status, Header: http.Header{},
	}}
	s.add(e)
}

func (s *Store) add(e *Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	e.ID = s.next
	if len(s.ring) < s.keep {
		s.ring = append(s.ring, e)
	} else {
		old := s.ring[s.head]
		for _, t := range old.Trace.Triggers {
			for _, id := range t.Deliveries {
				delete(s.byDeliv, id)
			}
		}
		s.ring[s.head] = e
		s.head = (s.head + 1) % s.keep
	}
	for _, t := range e.Trace.Triggers {
		for _, id := range t.Deliveries {
			if t.Posted {
				s.byDeliv[id] = e
			}
		}
	}
	s.publishLocked(event{kind: "request", entry: e})
}

// Len returns how many requests the Store holds.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ring)
}

// Get returns a copy of the request with the given id, and false when
// the Store does not hold it (never seen, or dropped for newer ones).
func (s *Store) Get(id int64) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ring) == 0 {
		return Entry{}, false
	}
	oldest := s.ring[s.head].ID
	if id < oldest || id > s.next {
		return Entry{}, false
	}
	i := (s.head + int(id-oldest)) % len(s.ring)
	return s.ring[i].copy(), true
}

// Recent returns copies of the requests held, newest first, at most n
// (all when n <= 0).
func (s *Store) Recent(n int) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 || n > len(s.ring) {
		n = len(s.ring)
	}
	out := make([]Entry, 0, n)
	for k := 0; k < n; k++ {
		i := (s.head + len(s.ring) - 1 - k) % len(s.ring)
		out = append(out, s.ring[i].copy())
	}
	return out
}

// Dropped returns how many subscribers were dropped for falling behind.
func (s *Store) Dropped() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// copy returns e with its own Outcomes map (the rest is never changed).
func (e *Entry) copy() Entry {
	c := *e
	if e.Outcomes != nil {
		c.Outcomes = make(map[string]sim.DeliveryOutcome, len(e.Outcomes))
		for k, v := range e.Outcomes {
			c.Outcomes[k] = v
		}
	}
	return c
}

// An event is a new or updated request, for subscribers.
type event struct {
	kind  string // "request" or "update"
	entry *Entry
}

// A subscriber receives events until it falls subscriberBuffer behind.
type subscriber struct {
	ch chan []byte
}

// Subscribe returns a channel of events (each "event: KIND\ndata: JSON"
// ready for an SSE stream) and a function to call when done. The channel
// is closed when the subscriber falls behind (it is dropped: the Store
// never waits for it) or cancel is called.
func (s *Store) Subscribe() (<-chan []byte, func()) {
	sub := &subscriber{ch: make(chan []byte, subscriberBuffer)}
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	return sub.ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.subs[sub]; ok {
			delete(s.subs, sub)
			close(sub.ch)
		}
	}
}

// publishLocked sends ev to every subscriber without blocking; one whose
// buffer is full is dropped. The event's JSON is made once, and only when
// someone listens.
func (s *Store) publishLocked(ev event) {
	if len(s.subs) == 0 {
		return
	}
	msg := sseMessage(ev.kind, summarize(ev.entry))
	for sub := range s.subs {
		select {
		case sub.ch <- msg:
		default:
			delete(s.subs, sub)
			close(sub.ch)
			s.dropped++
		}
	}
}
