package listen

import (
	"errors"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"sync"
)

// A Fault is a failure on purpose: the Receiver answers Status itself, with
// probability Probability (0 < p ≤ 1), instead of its normal answer, and
// does not forward the request. It is how a sender's retries are tested.
type Fault struct {
	// Status is the HTTP status answered, 200 to 599.
	Status int
	// Probability is the chance, per request, that this fault answers.
	Probability float64
}

// String writes f as ParseFaults reads it: "503" or "503:0.25".
func (f Fault) String() string {
	if f.Probability >= 1 {
		return strconv.Itoa(f.Status)
	}
	return strconv.Itoa(f.Status) + ":" + strconv.FormatFloat(f.Probability, 'g', -1, 64)
}

// MaxFaults is the most faults ParseFaults accepts.
const MaxFaults = 16

// ErrBadFault is wrapped by ParseFaults' errors.
var ErrBadFault = errors.New("want STATUS[:PROBABILITY][,STATUS[:PROBABILITY]…], STATUS 200-599, PROBABILITY in (0,1], probabilities summing to at most 1")

// ParseFaults reads the value of hooklab listen --respond: one or more
// comma-separated STATUS[:PROBABILITY], such as "503" (always 503),
// "503:0.25" (503 one time in four) or "500:0.1,429:0.2". A status
// without a probability has probability 1. The probabilities may sum to
// at most 1: each request draws one number and the faults share out the
// interval in order. Errors quote at most 64 bytes of s.
func ParseFaults(s string) ([]Fault, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("listen: empty --respond value: %w", ErrBadFault)
	}
	parts := strings.Split(s, ",")
	if len(parts) > MaxFaults {
		return nil, fmt.Errorf("listen: %d faults, more than %d", len(parts), MaxFaults)
	}
	var faults []Fault
	sum := 0.0
	for _, p := range parts {
		p = strings.TrimSpace(p)
		status, prob, hasProb := strings.Cut(p, ":")
		n, err := strconv.Atoi(status)
		if err != nil || len(status) != 3 || n < 200 || n > 599 {
			return nil, fmt.Errorf("listen: status %s: %w", quote(status), ErrBadFault)
		}
		f := Fault{Status: n, Probability: 1}
		if hasProb {
			x, err := strconv.ParseFloat(prob, 64)
			if err != nil || !(x > 0 && x <= 1) {
				return nil, fmt.Errorf("listen: probability %s: %w", quote(prob), ErrBadFault)
			}
			f.Probability = x
		}
		sum += f.Probability
		if sum > 1+1e-9 {
			return nil, fmt.Errorf("listen: probabilities of %s sum to more than 1: %w", quote(s), ErrBadFault)
		}
		faults = append(faults, f)
	}
	return faults, nil
}

// quote quotes s for an error, cut to its first 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		return strconv.Quote(strings.ToValidUTF8(s[:64], "")) + "…"
	}
	return strconv.Quote(s)
}

// chooser picks the fault of one request, if any, from a seeded source.
type chooser struct {
	faults []Fault
	mu     sync.Mutex
	rnd    *rand.Rand
}

func newChooser(faults []Fault, seed int64) *chooser {
	return &chooser{faults: faults, rnd: rand.New(rand.NewSource(seed))}
}

// pick returns the fault that answers this request, or nil. Requests
// draw in the order they call pick, so a seed gives the same sequence of
// answers for the same sequence of requests.
func (c *chooser) pick() *Fault {
	if len(c.faults) == 0 {
		return nil
	}
	c.mu.Lock()
	x := c.rnd.Float64()
	c.mu.Unlock()
	acc := 0.0
	for i := range c.faults {
		acc += c.faults[i].Probability
		if x < acc || c.faults[i].Probability >= 1 {
			return &c.faults[i]
		}
	}
	return nil
}
