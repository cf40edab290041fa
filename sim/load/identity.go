package load

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bounds of a report's identity, checked when one is read (ReadReport):
// a report file is untrusted input.
const (
	// MaxRunID is the longest run id.
	MaxRunID = 64
	// MaxShards is the most shards a run may have.
	MaxShards = 10000
	// maxPlanText bounds each text field of a PlanInfo.
	maxPlanText = 4096
)

// NewRunID returns a random run id: 16 hex digits.
func NewRunID() string {
	var b [8]byte
	rand.Read(b[:]) // never returns an error (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// CheckRunID reports whether id can name a run: 1 to MaxRunID letters,
// digits and the characters . _ : -, so that it prints as it is.
func CheckRunID(id string) error {
	if id == "" || len(id) > MaxRunID {
		return fmt.Errorf("run id of %d characters, want 1 to %d", len(id), MaxRunID)
	}
	for i, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._:-", c) >= 0
		if !ok {
			return fmt.Errorf("run id %s: character %d (%q) is not a letter, a digit or one of . _ : -", strconv.Quote(id), i+1, c)
		}
	}
	return nil
}

// RedactURL returns u with its userinfo and the values of its query
// replaced by "REDACTED", for a report: a target URL may carry a token.
// A URL that does not parse is returned as "(unparsable URL)".
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	if p.User != nil {
		p.User = url.User("REDACTED")
	}
	if p.RawQuery != "" {
		q := p.Query()
		for k := range q {
			for i := range q[k] {
				q[k][i] = "REDACTED"
			}
		}
		p.RawQuery = q.Encode()
	}
	p.Fragment, p.RawFragment = "", ""
	return p.String()
}

// FixtureOrigin describes a fixture source for Plan.Origin: the fixture
// and the seed of slot 0.
func FixtureOrigin(name string, seed int64) string {
	return fmt.Sprintf("fixture %s seed %d", name, seed)
}

// BodyOrigin describes a body source for Plan.Origin: the body's SHA-256
// digest and size (the body itself may hold secrets) and the preset
// that signs it.
func BodyOrigin(preset string, body []byte) string {
	sum := sha256.Sum256(body)
	return fmt.Sprintf("body sha256:%x (%d bytes) preset %s", sum, len(body), preset)
}

// An Originer is a Source that says what it sends (FixtureOrigin,
// BodyOrigin): the default of Plan.Origin. FixtureSource and BodySource
// are Originers.
type Originer interface{ Origin() string }

// PlanInfo is a run's plan as its report writes it: what two shards of
// one run must agree on (MergeReports compares every field).
type PlanInfo struct {
	// Schedule is "constant", "ramp", "steps", "sine", "closed-loop" or
	// "custom" (a Pacer of another type); Rate is the schedule as given
	// (--rate); RatePlanned the whole schedule's mean rate, every shard
	// together (0 in closed loop).
	Schedule    string  `json:"schedule"`
	Rate        string  `json:"rate,omitempty"`
	RatePlanned float64 `json:"rate_planned,omitempty"`
	// Workers is the closed loop's concurrency; MaxInFlight the open
	// loop's bound.
	Workers     int `json:"workers,omitempty"`
	MaxInFlight int `json:"max_in_flight,omitempty"`
	// DurationS is how long the plan sends, in seconds.
	DurationS float64 `json:"duration_s"`
	// Source says what is sent (FixtureOrigin, BodyOrigin), Target where
	// (RedactURL).
	Source string `json:"source,omitempty"`
	Target string `json:"target,omitempty"`
}

// fields returns the plan's fields by JSON name, in order, as text.
func (p *PlanInfo) fields() [][2]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return [][2]string{
		{"schedule", p.Schedule}, {"rate", p.Rate}, {"rate_planned", f(p.RatePlanned)},
		{"workers", strconv.Itoa(p.Workers)}, {"max_in_flight", strconv.Itoa(p.MaxInFlight)},
		{"duration_s", f(p.DurationS)}, {"source", p.Source}, {"target", p.Target},
	}
}

// ShardID is which shard of a run a report is: Index from 1 to Count, as
// --shard i/n gives it. An unsharded run is shard 1 of 1.
type ShardID struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ShardSet is the shards a merged report covers: Indexes of Count, and
// those Missing (a partial merge).
type ShardSet struct {
	Count   int   `json:"count"`
	Indexes []int `json:"indexes"`
	Missing []int `json:"missing,omitempty"`
	// StartSpreadMS is how far apart the shards' schedules started
	// (their PlannedStart), in milliseconds: shards that start apart
	// send the merged schedule stretched by that much.
	StartSpreadMS float64 `json:"start_spread_ms"`
}

// planInfo describes p for its report.
func planInfo(p *Plan, a *Attacker) *PlanInfo {
	info := &PlanInfo{Rate: p.Rate, DurationS: p.Duration.Seconds(), Source: p.Origin}
	if o, ok := p.Source.(Originer); ok && info.Source == "" {
		info.Source = o.Origin()
	}
	if p.Target != "" {
		info.Target = RedactURL(p.Target)
	}
	switch p.Pacer.(type) {
	case nil:
		info.Schedule, info.Workers = "closed-loop", a.workers
	case Constant:
		info.Schedule = "constant"
	case Linear:
		info.Schedule = "ramp"
	case Steps:
		info.Schedule = "steps"
	case Sine:
		info.Schedule = "sine"
	default:
		info.Schedule = "custom"
	}
	if p.Pacer != nil {
		info.MaxInFlight = a.maxInFlight
		info.RatePlanned = p.Pacer.Hits(p.Duration) / p.Duration.Seconds()
		if info.Rate == "" {
			info.Rate = fmt.Sprint(p.Pacer)
		}
	}
	return info
}

// covers returns the shards r covers and of how many: its own shard, or
// the shards merged into it; ok is false for a report that says neither.
func (r *Report) covers() (indexes []int, count int, ok bool) {
	switch {
	case r.Shard != nil:
		return []int{r.Shard.Index}, r.Shard.Count, true
	case r.Merged != nil:
		return r.Merged.Indexes, r.Merged.Count, true
	}
	return nil, 0, false
}

// validateIdentity checks what ReadReport read of r's identity.
func (r *Report) validateIdentity() error {
	if r.RunID != "" {
		if err := CheckRunID(r.RunID); err != nil {
			return fmt.Errorf("run_id: %w", err)
		}
	}
	if p := r.Plan; p != nil {
		for _, f := range p.fields() {
			if len(f[1]) > maxPlanText {
				return fmt.Errorf("plan.%s: %d bytes, want at most %d", f[0], len(f[1]), maxPlanText)
			}
		}
		if !(p.RatePlanned >= 0 && p.RatePlanned <= 1e9) || !(p.DurationS >= 0 && p.DurationS <= 1e9) || p.Workers < 0 || p.MaxInFlight < 0 {
			return fmt.Errorf("plan: a rate, duration or count out of range")
		}
	}
	if r.Shard != nil && r.Merged != nil {
		return fmt.Errorf("both shard and merged: a report is one shard or a merge of several")
	}
	if s := r.Shard; s != nil && (s.Count < 1 || s.Count > MaxShards || s.Index < 1 || s.Index > s.Count) {
		return fmt.Errorf("shard %d of %d: want 1 <= index <= count <= %d", s.Index, s.Count, MaxShards)
	}
	if m := r.Merged; m != nil {
		if !(m.StartSpreadMS >= 0 && m.StartSpreadMS <= 1e12) {
			return fmt.Errorf("merged: start_spread_ms %g out of range", m.StartSpreadMS)
		}
		if m.Count < 1 || m.Count > MaxShards || len(m.Indexes) == 0 || len(m.Indexes)+len(m.Missing) != m.Count {
			return fmt.Errorf("merged: %d shards and %d missing of %d, want them to make up 1 to %d", len(m.Indexes), len(m.Missing), m.Count, MaxShards)
		}
		seen := make(map[int]bool, m.Count)
		for _, i := range slices.Concat(m.Indexes, m.Missing) {
			if i < 1 || i > m.Count || seen[i] {
				return fmt.Errorf("merged: shard %d of %d listed twice or out of range", i, m.Count)
			}
			seen[i] = true
		}
	}
	return nil
}

// MergeOptions changes what MergeReportsWith accepts.
type MergeOptions struct {
	// Partial merges the shards there are when some are missing; the
	// report says which (Report.Partial, Merged.Missing).
	Partial bool
}

// checkShards checks that rs are distinct shards of one run and plan,
// and returns the shards they cover and those missing. Errors name the
// report (Report.Name) and why.
func checkShards(opt MergeOptions, rs []*Report) (count int, indexes, missing []int, err error) {
	first := rs[0]
	by := map[int]*Report{}
	for _, r := range rs {
		if r.RunID == "" {
			return 0, nil, nil, fmt.Errorf("%s: not a shard of a run: it has no run id (a report of hooklab load before run ids?)", r.name())
		}
		idx, n, ok := r.covers()
		if !ok {
			return 0, nil, nil, fmt.Errorf("%s: not a shard of a run: it names no shard", r.name())
		}
		if r.RunID != first.RunID {
			return 0, nil, nil, fmt.Errorf("%s: run id %s, but %s has run id %s: reports of different runs (give every shard the same --run-id)",
				r.name(), r.RunID, first.name(), first.RunID)
		}
		_, n0, _ := first.covers()
		if n != n0 {
			return 0, nil, nil, fmt.Errorf("%s: a shard of %d, but %s is a shard of %d: not shards of one run", r.name(), n, first.name(), n0)
		}
		if f, a, b, differ := planDiff(first.Plan, r.Plan); differ {
			return 0, nil, nil, fmt.Errorf("%s: plan %s is %s, but %s has %s: not shards of one plan", r.name(), f, a, first.name(), b)
		}
		if b, fb := barrierText(r.StartAt), barrierText(first.StartAt); b != fb {
			return 0, nil, nil, fmt.Errorf("%s: start barrier %s, but %s has %s: shards of one run share one --start-at", r.name(), b, first.name(), fb)
		}
		for _, i := range idx {
			if o := by[i]; o != nil {
				return 0, nil, nil, fmt.Errorf("%s and %s are both shard %d/%d: the same shard twice", o.name(), r.name(), i, n)
			}
			by[i] = r
		}
		count = n
	}
	for i := 1; i <= count; i++ {
		if by[i] == nil {
			missing = append(missing, i)
		} else {
			indexes = append(indexes, i)
		}
	}
	if len(missing) > 0 && !opt.Partial {
		return 0, nil, nil, fmt.Errorf("run %s: %s of %d missing (merge every shard, or merge partially with --partial)",
			first.RunID, shardList(missing), count)
	}
	return count, indexes, missing, nil
}

// barrierText names a start barrier (RunEdges.StartAt) in errors.
func barrierText(at *time.Time) string {
	if at == nil {
		return "none"
	}
	return at.UTC().Format(time.RFC3339Nano)
}

// planDiff returns the first field in which b differs from a, with b's
// value and a's; a missing plan differs in every field.
func planDiff(a, b *PlanInfo) (field, bv, av string, differ bool) {
	switch {
	case a == nil && b == nil:
		return "", "", "", false
	case a == nil || b == nil:
		none := func(p *PlanInfo) string {
			if p == nil {
				return "absent"
			}
			return "present"
		}
		return "(the whole plan)", none(b), none(a), true
	}
	fa, fb := a.fields(), b.fields()
	for i := range fa {
		if fa[i][1] != fb[i][1] {
			return fa[i][0], strconv.Quote(fb[i][1]), strconv.Quote(fa[i][1]), true
		}
	}
	return "", "", "", false
}

// shardList writes "shard 3" or "shards 2, 4".
func shardList(is []int) string {
	s := make([]string, len(is))
	for k, i := range is {
		s[k] = strconv.Itoa(i)
	}
	if len(is) == 1 {
		return "shard " + s[0]
	}
	return "shards " + strings.Join(s, ", ")
}

// name is how errors call r: the file ReadReport read it from.
func (r *Report) name() string {
	if r.Name == "" {
		return "a report"
	}
	return r.Name
}

// earliest returns the earlier of two times, a zero time counting as
// none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
