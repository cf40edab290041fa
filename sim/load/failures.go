package load

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Bounds of the failure answers a report keeps (Metrics.Failures): the
// first MaxFailureSamples distinct bodies of each status, for at most
// MaxFailureStatuses statuses, each body its first MaxFailureBody bytes.
const (
	MaxFailureSamples  = 3
	MaxFailureStatuses = 8
)

// A FailureSample is one failure answer's body (its first MaxFailureBody
// bytes) and how many answers of its status had that body.
type FailureSample struct {
	Body  string `json:"body"`
	Count uint64 `json:"count"`
}

// Failures are samples of the answers that were not 2xx, by status
// ("401"): see MaxFailureSamples.
type Failures map[string][]FailureSample

// add counts n answers of status with body; a body is copied only when
// it is kept.
func (f Failures) add(status string, body []byte, n uint64) {
	ss, ok := f[status]
	if !ok && len(f) >= MaxFailureStatuses {
		return
	}
	for i := range ss {
		if ss[i].Body == string(body) {
			ss[i].Count += n
			return
		}
	}
	if len(ss) < MaxFailureSamples {
		f[status] = append(ss, FailureSample{Body: string(body), Count: n})
	}
}

// merge adds o's samples to f, within the same bounds, statuses in order.
func (f Failures) merge(o Failures) {
	for _, k := range slices.Sorted(maps.Keys(o)) {
		for _, s := range o[k] {
			f.add(k, []byte(s.Body), s.Count)
		}
	}
}

// validate checks failures read from a file against the bounds.
func (f Failures) validate() error {
	if len(f) > MaxFailureStatuses {
		return fmt.Errorf("%d statuses, want at most %d", len(f), MaxFailureStatuses)
	}
	for k, ss := range f {
		if c, err := strconv.Atoi(k); err != nil || c < 100 || c > 999 || strconv.Itoa(c) != k {
			return fmt.Errorf("status %q is not an HTTP status", k)
		}
		if len(ss) > MaxFailureSamples {
			return fmt.Errorf("%s: %d samples, want at most %d", k, len(ss), MaxFailureSamples)
		}
		for i, s := range ss {
			// A body that is not UTF-8 comes back from JSON with U+FFFD (3
			// bytes) for each bad byte.
			if len(s.Body) > 3*MaxFailureBody {
				return fmt.Errorf("%s: sample %d: a body of %d bytes, want at most %d", k, i+1, len(s.Body), 3*MaxFailureBody)
			}
			for _, o := range ss[:i] {
				if o.Body == s.Body {
					return fmt.Errorf("%s: sample %d: the same body twice", k, i+1)
				}
			}
		}
	}
	return nil
}

// failuresText writes the samples for the text report, one a line, each
// body quoted with its control characters (and terminal escapes)
// escaped: the body is what the target answered, untrusted.
func failuresText(b *strings.Builder, f Failures) {
	if len(f) == 0 {
		return
	}
	b.WriteString("Failures      [status, count, first bytes of the body]\n")
	for _, k := range slices.Sorted(maps.Keys(f)) {
		for _, s := range f[k] {
			fmt.Fprintf(b, "  %s  %d  %s\n", k, s.Count, strconv.Quote(s.Body))
		}
	}
}
