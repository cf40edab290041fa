package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// A Report adds up a replay's Results. The zero Report is ready to use;
// it is not safe for concurrent use.
type Report struct {
	// Results are the deliveries in the order they finished.
	Results []*Result `json:"results"`
	Totals  Totals    `json:"totals"`
}

// Totals count a replay's deliveries.
type Totals struct {
	// Requests counts the recorded requests replayed; Duplicates the
	// second sendings; Deliveries both.
	Requests   int `json:"requests"`
	Duplicates int `json:"duplicates"`
	Deliveries int `json:"deliveries"`
	// Accepted counts deliveries whose last attempt was answered 2xx,
	// Rejected those answered otherwise, Failed those that got no answer
	// or could not be prepared.
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	Failed   int `json:"failed"`
	// Retries counts the attempts after the first.
	Retries int `json:"retries"`
	// Resigned counts requests signed anew; OriginalValid and
	// OriginalInvalid the recorded signatures checked against the old
	// secret.
	Resigned        int `json:"resigned"`
	OriginalValid   int `json:"original_valid"`
	OriginalInvalid int `json:"original_invalid"`
}

// Add counts r in the report.
func (rep *Report) Add(r *Result) {
	rep.Results = append(rep.Results, r)
	t := &rep.Totals
	t.Deliveries++
	if r.Duplicate {
		t.Duplicates++
	} else {
		t.Requests++
		if r.Resigned {
			t.Resigned++
		}
		if r.Original != nil && r.Original.Checked {
			if r.Original.Valid {
				t.OriginalValid++
			} else {
				t.OriginalInvalid++
			}
		}
	}
	if r.Attempts > 1 {
		t.Retries += r.Attempts - 1
	}
	switch {
	case r.Accepted():
		t.Accepted++
	case r.Status != 0:
		t.Rejected++
	default:
		t.Failed++
	}
}

// OK reports that every delivery was accepted.
func (rep *Report) OK() bool { return rep.Totals.Accepted == rep.Totals.Deliveries }

// WriteJSON writes the report as one JSON object.
func (rep *Report) WriteJSON(w io.Writer) error {
	if rep.Results == nil {
		rep.Results = []*Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteText writes one line per delivery and a summary:
//
//	#1 seq=1 401 attempts=1 original=valid  captures/000001.http
//	     answer: "{\"error\":\"timestamp too old\"}"
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, r := range rep.Results {
		WriteLine(&b, r)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return rep.WriteSummary(w)
}

// WriteSummary writes the text report's last line, the totals:
//
//	2 requests, 0 duplicates: 1 accepted, 1 rejected, 0 failed; 0 retries; 2 re-signed
func (rep *Report) WriteSummary(w io.Writer) error {
	var b strings.Builder
	t := rep.Totals
	fmt.Fprintf(&b, "%d requests, %d duplicates: %d accepted, %d rejected, %d failed; %d retries",
		t.Requests, t.Duplicates, t.Accepted, t.Rejected, t.Failed, t.Retries)
	if t.Resigned > 0 {
		fmt.Fprintf(&b, "; %d re-signed", t.Resigned)
	}
	if t.OriginalValid+t.OriginalInvalid > 0 {
		fmt.Fprintf(&b, "; original signatures: %d valid, %d invalid", t.OriginalValid, t.OriginalInvalid)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteLine writes r as the text report's line for it (with an indented
// second line for the answer or the error of a delivery not accepted).
func WriteLine(b *strings.Builder, r *Result) {
	fmt.Fprintf(b, "#%d", r.N)
	if r.Seq != 0 { // a loose file has no sequence number
		fmt.Fprintf(b, " seq=%d", r.Seq)
	}
	if r.Duplicate {
		b.WriteString(" duplicate")
	}
	status := "-"
	if r.Status != 0 {
		status = strconv.Itoa(r.Status)
	}
	fmt.Fprintf(b, " %s attempts=%d", status, r.Attempts)
	if r.Attempts > 1 {
		s := make([]string, len(r.Statuses))
		for i, st := range r.Statuses {
			s[i] = strconv.Itoa(st)
		}
		fmt.Fprintf(b, " (%s)", strings.Join(s, ","))
	}
	if r.Resigned {
		b.WriteString(" resigned")
		if r.ID != "" {
			fmt.Fprintf(b, " id=%s", strconv.Quote(r.ID))
		}
	}
	if o := r.Original; o != nil && o.Checked {
		if o.Valid {
			b.WriteString(" original=valid")
		} else {
			fmt.Fprintf(b, " original=invalid (%s)", o.Reason)
		}
	}
	fmt.Fprintf(b, "  %s\n", r.Source)
	switch {
	case r.Error != "":
		fmt.Fprintf(b, "     error: %s\n", r.Error)
	case r.Answer != "" && !r.Accepted():
		fmt.Fprintf(b, "     answer: %s\n", strconv.Quote(strings.TrimSpace(r.Answer)))
	}
}
