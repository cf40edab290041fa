package replay

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// An Order says in which order a replay sends its requests. The zero
// Order is AsRecorded.
type Order struct {
	kind orderKind
	seed uint64
}

type orderKind uint8

const (
	asRecorded orderKind = iota
	reverse
	shuffle
)

// AsRecorded sends the requests in the order read.
func AsRecorded() Order { return Order{} }

// Reverse sends the last request first.
func Reverse() Order { return Order{kind: reverse} }

// Shuffle sends the requests in a random order drawn from seed: the same
// seed gives the same order for the same number of requests.
func Shuffle(seed uint64) Order { return Order{kind: shuffle, seed: seed} }

// ErrOrder is wrapped by ParseOrder's errors.
var ErrOrder = errors.New("want as-recorded, reverse or shuffle:SEED")

// ParseOrder reads an order as the CLI writes it: "as-recorded",
// "reverse" or "shuffle:SEED" (SEED a decimal unsigned 64-bit integer).
func ParseOrder(s string) (Order, error) {
	switch s {
	case "as-recorded":
		return AsRecorded(), nil
	case "reverse":
		return Reverse(), nil
	}
	if rest, ok := strings.CutPrefix(s, "shuffle:"); ok {
		seed, err := strconv.ParseUint(rest, 10, 64)
		if err != nil {
			return Order{}, fmt.Errorf("order %q: seed is not a decimal unsigned integer: %w", s, ErrOrder)
		}
		return Shuffle(seed), nil
	}
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return Order{}, fmt.Errorf("order %q: %w", s, ErrOrder)
}

// String returns the order as ParseOrder reads it.
func (o Order) String() string {
	switch o.kind {
	case reverse:
		return "reverse"
	case shuffle:
		return "shuffle:" + strconv.FormatUint(o.seed, 10)
	}
	return "as-recorded"
}

// Indexes returns the positions 0..n-1 in the order's sequence.
func (o Order) Indexes(n int) []int {
	idx := make([]int, max(n, 0))
	for i := range idx {
		idx[i] = i
	}
	switch o.kind {
	case reverse:
		for i, j := 0, len(idx)-1; i < j; i, j = i+1, j-1 {
			idx[i], idx[j] = idx[j], idx[i]
		}
	case shuffle:
		rng := rand.New(rand.NewPCG(o.seed, 0x9e3779b97f4a7c15))
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	return idx
}
