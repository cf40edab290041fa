package listen

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/hooklab/hooklab/sim"
)

// An Entry is what the Receiver learnt about one request: one line of
// output. Nothing in it is a secret: headers are not kept, and reasons
// come from package signer, whose errors never quote one.
type Entry struct {
	// Seq numbers the requests from 1, in the order their heads arrived.
	Seq int `json:"seq"`
	// Time is when the request arrived, on the Receiver's clock.
	Time time.Time `json:"time"`
	// Remote is the sender's address.
	Remote string `json:"remote,omitempty"`
	// Method and Target (path and query as sent) are the request line.
	Method string `json:"method"`
	Target string `json:"target"`
	// Bytes is the body's length; with TooLarge, the limit it passed.
	Bytes    int  `json:"bytes"`
	TooLarge bool `json:"too_large,omitempty"`
	// Guess is the provider guessed from the headers; Preset, when the
	// Receiver verifies, the preset it verifies with.
	Guess
	Preset string `json:"preset,omitempty"`
	// Event is the event type (EventType).
	Event string `json:"event,omitempty"`
	// Verified is whether the signature verified against the Receiver's
	// preset and secrets, nil when it was not checked; Reason says why
	// not.
	Verified *bool  `json:"verified,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Delivery is set when the request was a delivery envelope of the
	// reference ingress (a trigger's delivery); Guess, Event, Verified
	// and Reason are then those of the original request.
	Delivery *Delivery `json:"delivery,omitempty"`
	// Status is what the sender was answered; Injected reports that a
	// Fault chose it.
	Status   int  `json:"status"`
	Injected bool `json:"injected,omitempty"`
	// Forward is the forward to the app, when there was one.
	Forward *Forwarded `json:"forward,omitempty"`
	// Recorded is the .http file the request was recorded to;
	// RecordError why it could not be.
	Recorded    string `json:"recorded,omitempty"`
	RecordError string `json:"record_error,omitempty"`
	// Took is the time from arrival to the end of the answer, delay
	// included, in milliseconds.
	Took float64 `json:"took_ms"`
}

// A Delivery is a delivery envelope seen by the Receiver.
type Delivery struct {
	// ID is the delivery's id (the envelope's, else its
	// sim.DeliveryIDHeader): the same on every attempt.
	ID string `json:"id,omitempty"`
	// Endpoint and Trigger are the spec ids of who delivered it.
	Endpoint string `json:"endpoint"`
	Trigger  string `json:"trigger"`
	// Attempt is the sender's attempt number (sim.DeliveryAttemptHeader).
	Attempt int `json:"attempt,omitempty"`
	// Method and URL are the original request's.
	Method string `json:"method,omitempty"`
	URL    string `json:"url,omitempty"`
}

// Forwarded is the outcome of forwarding one request.
type Forwarded struct {
	URL string `json:"url"`
	// Status is the app's answer; 0 when it gave none (Error says why).
	Status int `json:"status,omitempty"`
	// Latency is from sending the request to the end of the answer's
	// body, in milliseconds.
	Latency float64 `json:"latency_ms"`
	Error   string  `json:"error,omitempty"`
}

// A Format is how a Receiver writes entries.
type Format int

// Formats.
const (
	// Text is one line per request for a person, in hooklab serve's
	// style: the time, the method and path, then key=value fields; any
	// field with a space, a quote, '=', a control character or invalid
	// UTF-8 is quoted and escaped (sim.NewLogHandler), so no request can
	// forge a line or send an escape sequence to the terminal.
	Text Format = iota
	// JSONLines is one JSON object (an Entry) per line.
	JSONLines
)

// ms is a duration in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Round(time.Microsecond)) / 1e6 }

// writer writes entries in one format; it is safe for concurrent use.
type writer struct {
	mu  sync.Mutex
	w   io.Writer
	f   Format
	log slog.Handler
}

func newWriter(w io.Writer, f Format) *writer {
	return &writer{w: w, f: f, log: sim.NewLogHandler(w)}
}

func (o *writer) write(e *Entry) error {
	if o.f == JSONLines {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		_, err = o.w.Write(append(b, '\n'))
		return err
	}
	return o.log.Handle(context.Background(), e.record())
}

// WriteText writes e as one Text line to w.
func (e *Entry) WriteText(w io.Writer) error {
	return sim.NewLogHandler(w).Handle(context.Background(), e.record())
}

// record is e as a log record for sim.NewLogHandler: WARN when the
// request did not verify, was answered 5xx, or could not be forwarded or
// recorded.
func (e *Entry) record() slog.Record {
	level := slog.LevelInfo
	if (e.Verified != nil && !*e.Verified) || e.Status >= 500 || (e.Forward != nil && e.Forward.Error != "") || e.RecordError != "" {
		level = slog.LevelWarn
	}
	r := slog.NewRecord(e.Time, level, e.Method+" "+e.Target, 0)
	if d := e.Delivery; d != nil {
		r.AddAttrs(slog.String("delivery", d.Endpoint+"/"+d.Trigger))
	}
	if e.Preset != "" && e.Preset != e.Guess.Provider {
		r.AddAttrs(slog.String("preset", e.Preset))
	}
	r.AddAttrs(slog.String("provider", e.Guess.Name()), slog.String("event", e.Event))
	if e.Verified != nil {
		v := "yes"
		if !*e.Verified {
			v = "no"
		}
		r.AddAttrs(slog.String("verified", v), slog.String("reason", e.Reason))
	}
	if d := e.Delivery; d != nil {
		r.AddAttrs(slog.String("id", d.ID))
		if d.Attempt > 1 {
			r.AddAttrs(slog.Int("attempt", d.Attempt))
		}
	}
	if e.TooLarge {
		r.AddAttrs(slog.String("body", "over "+strconv.Itoa(e.Bytes)+" bytes"))
	}
	r.AddAttrs(slog.Int("status", e.Status))
	if e.Injected {
		r.AddAttrs(slog.String("injected", "yes"))
	}
	if f := e.Forward; f != nil {
		if f.Status != 0 {
			r.AddAttrs(slog.Int("forward", f.Status))
		}
		r.AddAttrs(slog.String("forward.error", f.Error), slog.Duration("forward.took", time.Duration(f.Latency*1e6).Round(time.Microsecond)))
	}
	r.AddAttrs(slog.String("recorded", e.Recorded), slog.String("record.error", e.RecordError),
		slog.Duration("took", time.Duration(e.Took*1e6).Round(time.Microsecond)))
	return r
}
