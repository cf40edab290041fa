package inspect

import (
	"encoding/json"
	"fmt"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"strconv"
	"strings"
	"time"
)

// A Row is the summary of one request, as the live list shows it: the
// server renders it into the page and sends it as JSON over the event
// stream.
type Row struct {
	ID       int64  `json:"id"`
	Source   string `json:"source"`
	Time     string `json:"time"`
	Endpoint string `json:"endpoint"`
	Method   string `json:"method"`
	Path     string `json:"path"`
	Status   int    `json:"status"`
	// StatusClass is "2xx", "3xx", "4xx" or "5xx".
	StatusClass string `json:"statusClass"`
	// Verified is "yes", "no" or "none" (not checked); VerifiedText is
	// "verified", the reason, or "not checked".
	Verified     string `json:"verified"`
	VerifiedText string `json:"verifiedText"`
	// RespondWith is "matched", "not matched" or "" (none declared).
	RespondWith string       `json:"respondWith"`
	Triggers    []TriggerRow `json:"triggers"`
	// Provider and Event are hooklab listen's guesses.
	Provider string `json:"provider,omitempty"`
	Event    string `json:"event,omitempty"`
	Took     string `json:"took"`
}

// A TriggerRow is one trigger's verdict in a Row.
type TriggerRow struct {
	ID    string `json:"id"`
	Fired bool   `json:"fired"`
	// Explain is the first mismatch when it did not fire.
	Explain    string        `json:"explain,omitempty"`
	Deliveries []DeliveryRow `json:"deliveries,omitempty"`
}

// A DeliveryRow is one delivery of a trigger.
type DeliveryRow struct {
	ID string `json:"id"`
	// Status is "pending", "delivered", "failed" or "recorded" (no
	// deliver URL).
	Status   string `json:"status"`
	Attempts int    `json:"attempts,omitempty"`
	Latency  string `json:"latency,omitempty"`
	Error    string `json:"error,omitempty"`
}

// summarize makes the Row of e.
func summarize(e *Entry) Row {
	t := &e.Trace
	r := Row{ID: e.ID, Source: e.Source, Time: t.Received.Format("15:04:05.000"), Endpoint: t.Endpoint,
		Method: t.Method, Path: t.Path, Status: t.Status, StatusClass: strconv.Itoa(t.Status/100) + "xx",
		Verified: "none", VerifiedText: "not checked", Took: t.Took.Round(time.Microsecond).String()}
	if t.Query != "" {
		r.Path += "?" + t.Query
	}
	if l := e.Listen; l != nil {
		r.Provider, r.Event = l.Provider, l.Event
		if r.Provider == "" {
			r.Provider = l.Family
		}
		if l.Verified != nil {
			r.Verified, r.VerifiedText = "no", l.Reason
			if *l.Verified {
				r.Verified, r.VerifiedText = "yes", "verified"
			}
		}
		return r
	}
	if v := t.Verification; v.Checked {
		reason := v.Reason
		if (reason == signer.ErrTimestampTooOld.Error() || reason == signer.ErrTimestampInFuture.Error()) && !v.Timestamp.IsZero() {
			reason += " by " + skewText(v.Skew.Abs())
		}
		r.Verified, r.VerifiedText = "no", verifyText(v.Header, reason, v.Detail)
		if v.Verified {
			r.Verified, r.VerifiedText = "yes", "verified"
		}
	}
	if t.RespondWith != nil {
		r.RespondWith = "not matched"
		if t.RespondWith.Matched {
			r.RespondWith = "matched"
		}
	}
	for _, tt := range t.Triggers {
		tr := TriggerRow{ID: tt.ID, Fired: tt.Fired, Explain: tt.FirstMismatch}
		if !tt.Fired && !tt.Evaluated {
			tr.Explain = "not evaluated: " + notEvaluated(t)
		}
		for _, id := range tt.Deliveries {
			d := DeliveryRow{ID: id, Status: "recorded"}
			if tt.Posted {
				d.Status = "pending"
				if o, ok := e.Outcomes[id]; ok {
					d.Status, d.Attempts, d.Latency, d.Error = "delivered", o.Attempts, o.Latency.Round(time.Microsecond).String(), o.Err
					if !o.Delivered {
						d.Status = "failed"
					}
				}
			}
			tr.Deliveries = append(tr.Deliveries, d)
		}
		r.Triggers = append(r.Triggers, tr)
	}
	return r
}

// verifyText is the reason a signature failed, as the list shows it:
// "Stripe-Signature: timestamp too old: older than 5m0s".
func verifyText(header, reason, detail string) string {
	var parts []string
	for _, s := range []string{header, reason, detail} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

// notEvaluated says why the triggers of t were not matched.
func notEvaluated(t *sim.Trace) string {
	switch {
	case t.Verification.Checked && !t.Verification.Verified:
		return "the signature did not verify"
	case t.Note != "":
		return t.Note
	}
	return fmt.Sprintf("the request ended with %d", t.Status)
}

// sseMessage is one Server-Sent Event: the row as JSON on one data line
// (encoding/json escapes newlines, so the JSON is one line).
func sseMessage(kind string, r Row) []byte {
	b, _ := json.Marshal(r)
	msg := make([]byte, 0, len(b)+32)
	msg = append(msg, "event: "...)
	msg = append(msg, kind...)
	msg = append(msg, "\ndata: "...)
	msg = append(msg, b...)
	return append(msg, "\n\n"...)
}
