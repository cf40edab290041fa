package replay

import (
	"container/heap"
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/record"
)

// DefaultTimeScale multiplies retry delays when Options.TimeScale is
// zero: 1, the provider's real schedule.
const DefaultTimeScale = 1.0

// maxAnswer is how much of a response body a Result keeps.
const maxAnswer = 256

// Options configure a Replayer: the runner's parameters, written as a
// literal. Only To is required.
type Options struct {
	// To is the target: scheme and host, and a path that replaces the
	// recorded one when it is not "/" or empty (record.Recording.Request).
	To string
	// Order is the sending order. Default AsRecorded.
	Order Order
	// Rate is how many requests (duplicates included, retries not) are
	// sent per second; 0 sends each as soon as the one before it was
	// answered.
	Rate float64
	// Duplicate is the share (0 to 1) of requests sent a second time, byte
	// for byte (a copy of the first attempt: same signature, same id),
	// when the request's attempts are over. Which ones is chosen as
	// sim.Chaos.Duplicated does, from Seed and the request's place in the
	// recording (not in the sending order), so load --duplicate and
	// replay --duplicate with one seed pick alike.
	Duplicate float64
	// Seed chooses the duplicated requests. Default 0.
	Seed int64
	// Resign, when set, signs every request again (see Resigner); nil
	// sends the recorded bytes.
	Resign *Resigner
	// Retries, when set, retries a request whose attempt failed (a
	// transport error or a status outside 2xx) on the policy's schedule,
	// each delay multiplied by TimeScale, as the provider would
	// (sim.RetryPolicy.Prepare: signed anew when the provider does and
	// Resign is set). Duplicates are not retried. Nil: one attempt.
	Retries *sim.RetryPolicy
	// TimeScale multiplies retry delays: 0.001 runs a three-day schedule in
	// about four minutes. Default DefaultTimeScale.
	TimeScale float64
	// Client sends the requests. Default sim.Send's (no redirects, 30s).
	Client *http.Client
	// Now is the clock requests are re-signed at. Default time.Now.
	Now func() time.Time
}

// A Result is what became of one delivery: a request, or its duplicate,
// after its last attempt.
type Result struct {
	// N is the request's place in the sending order, from 1; a duplicate
	// has its original's N.
	N int `json:"n"`
	// Seq is the recording's sequence number (0 for a loose file) and
	// Source where it was read.
	Seq    int    `json:"seq"`
	Source string `json:"source"`
	Method string `json:"method"`
	URL    string `json:"url"`
	// Duplicate marks the second, byte-identical sending of request N.
	Duplicate bool `json:"duplicate,omitempty"`
	// Resigned reports that the request was signed anew; ID is the
	// scheme's id header as sent (empty for schemes without one).
	Resigned bool   `json:"resigned,omitempty"`
	ID       string `json:"id,omitempty"`
	// Original is the check of the recorded signature, when old keys were
	// given.
	Original *Original `json:"original,omitempty"`
	// Status is the last attempt's status, 0 when no answer came; Statuses
	// lists every attempt's.
	Status   int   `json:"status"`
	Statuses []int `json:"statuses"`
	// Attempts counts the times it was sent (1 plus the retries).
	Attempts int `json:"attempts"`
	// Reason says why the last attempt failed (a sim.Reason… constant);
	// Error is the transport error, Answer the start of the answer's body.
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
	Answer string `json:"answer,omitempty"`
}

// Accepted reports a 2xx answer to the last attempt.
func (r *Result) Accepted() bool { return r.Status >= 200 && r.Status < 300 }

// A Replayer sends recorded requests. Create it with New; Stop may be
// called from another goroutine.
type Replayer struct {
	o        Options
	stop     chan struct{}
	stopOnce sync.Once
}

// New returns a Replayer for o.
func New(o Options) *Replayer {
	if o.TimeScale <= 0 {
		o.TimeScale = DefaultTimeScale
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Replayer{o: o, stop: make(chan struct{})}
}

// Stop ends the replay: nothing more is sent (retries that are waiting
// are given up, reported with the attempts made) and the results channel
// closes. It reports whether this call stopped it.
func (r *Replayer) Stop() bool {
	done := false
	r.stopOnce.Do(func() { close(r.stop); done = true })
	return done
}

// job is one delivery in flight: its first payload and attempts so far.
type job struct {
	rec      *record.Recording
	dup      *job // the copy to send when this delivery is over
	res      *Result
	first    signer.Payload
	attempts int
	due      time.Time
	reason   string
}

type retryQueue []*job

func (q retryQueue) Len() int           { return len(q) }
func (q retryQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q retryQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *retryQueue) Push(x any)        { *q = append(*q, x.(*job)) }
func (q *retryQueue) Pop() any {
	old := *q
	j := old[len(old)-1]
	*q = old[:len(old)-1]
	return j
}

// Replay sends recs in the configured order and returns a Result for
// every delivery, which the caller must drain. Requests are sent one at a
// time; a retry waits in a queue while later requests go out, as a
// provider's would. A request that cannot be prepared (a bad target, a
// signing error) gives a Result with Error and no attempt. The channel
// closes when every delivery is done, ctx is done or Stop is called.
func (r *Replayer) Replay(ctx context.Context, recs []*record.Recording) <-chan *Result {
	out := make(chan *Result, 64)
	go func() {
		defer close(out)
		r.run(ctx, recs, out)
	}()
	return out
}

func (r *Replayer) run(ctx context.Context, recs []*record.Recording, out chan<- *Result) {
	o := &r.o
	order := o.Order.Indexes(len(recs))
	chaos := &sim.Chaos{Duplicate: o.Duplicate, Seed: o.Seed}
	var interval time.Duration
	if o.Rate > 0 {
		interval = time.Duration(float64(time.Second) / o.Rate)
	}
	var (
		retries   retryQueue
		fresh     []*job // the next fresh deliveries: a duplicate waits here
		next      int    // the next position in order
		nextFresh = time.Now()
		timer     = time.NewTimer(time.Hour)
	)
	defer timer.Stop()
	giveUp := func() {
		for _, j := range retries {
			out <- j.res
		}
	}
	for {
		if len(fresh) == 0 && next < len(order) {
			n := next + 1
			rec := recs[order[next]]
			next++
			j, err := r.prepare(rec, n)
			if err != nil {
				out <- &Result{N: n, Seq: rec.Meta.Seq, Source: recName(rec), Method: rec.Meta.Method, Error: err.Error(), Statuses: []int{}}
				continue
			}
			fresh = append(fresh, j)
			if chaos.Duplicated(uint64(order[next-1])) {
				d := *j
				res := *j.res
				res.Duplicate, res.Original, res.Statuses = true, nil, []int{}
				d.res = &res
				j.dup = &d
			}
		}
		var j *job
		var due time.Time
		switch {
		case len(fresh) > 0 && (len(retries) == 0 || !retries[0].due.Before(nextFresh)):
			j, due = fresh[0], nextFresh
		case len(retries) > 0:
			j, due = retries[0], retries[0].due
		default:
			return
		}
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-r.stop:
				giveUp()
				return
			case <-ctx.Done():
				giveUp()
				return
			}
		} else {
			select {
			case <-r.stop:
				giveUp()
				return
			case <-ctx.Done():
				giveUp()
				return
			default:
			}
		}
		if len(fresh) > 0 && j == fresh[0] {
			fresh = fresh[1:]
			nextFresh = time.Now().Add(interval)
		} else {
			heap.Pop(&retries)
		}
		if r.attempt(ctx, j) {
			heap.Push(&retries, j)
			continue
		}
		out <- j.res
		if j.dup != nil {
			// The copy goes next, before any request not yet sent.
			fresh = append([]*job{j.dup}, fresh...)
		}
		if interval == 0 {
			nextFresh = time.Now()
		}
	}
}

// prepare builds request n's first payload.
func (r *Replayer) prepare(rec *record.Recording, n int) (*job, error) {
	req, err := rec.Request(r.o.To)
	if err != nil {
		return nil, err
	}
	res := &Result{N: n, Seq: rec.Meta.Seq, Source: recName(rec), Method: req.Method, URL: req.URL.String(), Statuses: []int{}}
	p := signer.Payload{Method: req.Method, URL: req.URL.String(), Header: req.Header, Body: rec.Body}
	if rs := r.o.Resign; rs != nil {
		if c := rs.Check(rec); c.Checked {
			res.Original = &c
		}
		if p, err = rs.Sign(rec, p.URL, r.o.Now()); err != nil {
			return nil, err
		}
		res.Resigned = true
		if h := rs.scheme.IDHeader; h != "" {
			res.ID = p.Header.Get(h)
		}
	}
	return &job{rec: rec, res: res, first: p}, nil
}

// attempt sends j's next attempt and records it; it reports whether j is
// to be retried (its due time set).
func (r *Replayer) attempt(ctx context.Context, j *job) bool {
	j.attempts++
	p := j.first
	if j.attempts > 1 {
		var sg *signer.Signer
		if r.o.Resign != nil {
			sg = r.o.Resign.Signer()
		}
		var err error
		if p, err = r.o.Retries.Prepare(j.first, j.attempts, j.reason, sg, r.o.Now()); err != nil {
			j.res.Error = err.Error()
			return false
		}
	}
	req, err := sim.PayloadRequest(ctx, p)
	if err != nil {
		j.res.Error = err.Error()
		return false
	}
	var opts []sim.Option
	if r.o.Client != nil {
		opts = append(opts, sim.Client(r.o.Client))
	}
	opts = append(opts, sim.MaxResponseBody(maxAnswer))
	sres, err := sim.Send(ctx, req, opts...)
	j.res.Attempts = j.attempts
	j.res.Status = sres.Status
	j.res.Statuses = append(j.res.Statuses, sres.Status)
	j.res.Error, j.res.Answer = "", ""
	if err != nil {
		j.res.Error = err.Error()
	} else if !sres.OK() {
		j.res.Answer = string(sres.Body)
	}
	reason, failed := sim.Failed(sres, err)
	j.res.Reason = reason
	if !failed || j.res.Duplicate || r.o.Retries == nil || j.attempts >= r.o.Retries.MaxAttempts() {
		return false
	}
	j.reason = reason
	j.due = time.Now().Add(r.o.Retries.Delay(j.attempts+1, r.o.TimeScale))
	return true
}
