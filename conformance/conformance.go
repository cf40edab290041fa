package conformance

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooklab/hooklab/sim"
)

// Defaults of the options.
const (
	// DefaultTimeout bounds one case: provisioning, requests and waiting
	// for deliveries.
	DefaultTimeout = 30 * time.Second
	// DefaultDeliveryWait is the most the suite waits for the expected
	// deliveries of a request, however often new ones come (see Quiet).
	DefaultDeliveryWait = 5 * time.Second
	// DefaultQuiet is how long a case keeps waiting for expected
	// deliveries that have not come when the sink received no delivery,
	// to any case, for that long (see Quiet).
	DefaultQuiet = time.Second
	// DefaultSettle is how long a case keeps listening, once it is over,
	// after the newest answer or delivery of the requests it checked, to
	// catch extra deliveries itself; later ones are the sweep's (see
	// LateWindow).
	DefaultSettle = 200 * time.Millisecond
	// DefaultParallel is how many cases run at once against a declared
	// app, whose cases share the app's endpoints.
	DefaultParallel = 4
	// DefaultParallelEndpoints is how many cases run at once against a
	// target that makes an endpoint per case (HTTPTarget, HandlerTarget;
	// not the reference, see Parallel): cases share nothing but the sink,
	// where each one awaits the deliveries of its own request ids.
	DefaultParallelEndpoints = 16
)

// inProcessParallel is how many cases run at once against the reference
// (Reference, ReferenceWith): twice GOMAXPROCS, at least 4. Its cases
// wait for no quiet period (see Endpoint.Drain) but share the process's
// CPUs with the suite, so more at once only stretches each case, towards
// its Timeout on a loaded machine, and ends the run no sooner.
func inProcessParallel() int { return max(2*runtime.GOMAXPROCS(0), 4) }

// T is the subset of *testing.T the suite uses, so that it can run
// outside go test (testing.TB cannot be implemented outside package
// testing). Fatalf and Skipf must stop the calling goroutine, as
// testing.T's do; Run must be safe to call from several goroutines.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Logf(format string, args ...any)
	Run(name string, f func(T)) bool
	Context() context.Context
}

// An Option changes how the suite runs. Options take values; the last of
// a kind wins, except Skip, which accumulates.
type Option func(*options)

type options struct {
	run          *regexp.Regexp
	runErr       error
	skip         map[string]string
	timeout      time.Duration
	deliveryWait time.Duration
	settle       time.Duration
	quiet        time.Duration
	lateWindow   time.Duration
	parallel     int
	sinkAddr     string
	progress     func(CaseResult)
	name         string
	profile      string
	profileErr   error
	policy       bool
	delivery     bool
}

func buildOptions(opts []Option) options {
	o := options{skip: map[string]string{}, timeout: DefaultTimeout, deliveryWait: DefaultDeliveryWait,
		settle: DefaultSettle, quiet: DefaultQuiet}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// Select runs only the cases whose "Group/Name" matches the regular
// expression pattern, as go test's -run does. Default: every case.
func Select(pattern string) Option {
	return func(o *options) {
		o.run, o.runErr = regexp.Compile(pattern)
		if o.runErr != nil {
			o.runErr = fmt.Errorf("conformance: Select(%q): %w", pattern, o.runErr)
		}
	}
}

// Skip reports the case with id "Group/Name" as skipped with reason: a
// known deviation of the target.
func Skip(id, reason string) Option { return func(o *options) { o.skip[id] = reason } }

// Timeout bounds each case. Default DefaultTimeout.
func Timeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// DeliveryWait sets the most a case waits for the expected deliveries of
// a request. Default DefaultDeliveryWait.
func DeliveryWait(d time.Duration) Option { return func(o *options) { o.deliveryWait = d } }

// Settle sets how long a case keeps listening for unexpected deliveries,
// once it is over, after the newest answer or delivery of the requests
// it checked. Zero judges each check as soon as its expected deliveries
// arrived, leaving every later one to the sweep. Default DefaultSettle.
func Settle(d time.Duration) Option { return func(o *options) { o.settle = d } }

// Quiet sets how long a case keeps waiting for expected deliveries that
// have not come, once the sink received no delivery (to any case) for
// that long since the newest answer of its requests: a
// case returns as soon as its expected deliveries arrived, and gives up
// on missing ones after the quiet period (at most DeliveryWait), so a
// target that delivers less than it should costs the quiet period per
// request, not the delivery wait. A target whose deliveries lag its
// answers by more needs a longer one. Zero means DefaultQuiet.
func Quiet(d time.Duration) Option { return func(o *options) { o.quiet = d } }

// Parallel sets how many cases run at once. Default DefaultParallel
// against a declared app, twice GOMAXPROCS (at least 4) against the
// reference, DefaultParallelEndpoints against any other target.
func Parallel(n int) Option { return func(o *options) { o.parallel = max(n, 1) } }

// SinkAddr sets the address the delivery sink listens on, for a target
// that delivers to a fixed address. Default a free loopback port.
func SinkAddr(addr string) Option { return func(o *options) { o.sinkAddr = addr } }

// Progress calls f after each case, from the case's goroutine.
func Progress(f func(CaseResult)) Option { return func(o *options) { o.progress = f } }

// Policy(true) also runs the cases of the Policy group: rules of this
// project that no provider requires (conformance/RULES.md P1), such as
// refusing GitHub's SHA-1 signature. They are reported apart (see
// Report.PolicyCounts); a failed one still fails the run (Check's error,
// Run's subtest), since the caller asked for them. Default false: only
// the conformance cases run, and Select cannot reach a Policy case.
func Policy(on bool) Option { return func(o *options) { o.policy = on } }

// Delivery(true) also runs the cases of the Delivery group: the rules of
// a receiver that promises idempotent delivery (conformance/RULES.md
// D1–D3), checked against endpoints whose spec asks for de-duplication
// by the event id (sim.DedupSpec). A declared target whose manifest
// promises it (delivery: {idempotent: true}) runs them without this
// option. They are counted with the conformance cases. Default false.
func Delivery(on bool) Option { return func(o *options) { o.delivery = on } }

// Name names the target in the Report.
func Name(name string) Option { return func(o *options) { o.name = name } }

// env is what every case of one run shares.
type env struct {
	target  Target
	opts    options
	sink    *sim.Sink
	sinkURL string
	client  *http.Client

	mu   sync.Mutex
	seen int                       // sink deliveries indexed so far
	byID map[string][]sim.Delivery // by request id
	// lastAt is when the sink received the newest delivery indexed, to
	// anyone: a target still delivering is not quiet.
	lastAt time.Time

	late lateSweep // what cases said of their requests' deliveries, swept at the end

	rules rules // the profile of expectation
}

func newEnv(target Target, o options) (*env, error) {
	if o.runErr != nil {
		return nil, o.runErr
	}
	if o.profileErr != nil {
		return nil, o.profileErr
	}
	addr := o.sinkAddr
	if d, ok := target.(interface{ SinkAddr() string }); ok && addr == "" {
		addr = d.SinkAddr()
	}
	sink, err := sim.NewSink(addr)
	if err != nil {
		return nil, fmt.Errorf("conformance: starting the delivery sink: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	return &env{
		target: target, opts: o, sink: sink, rules: targetRules(target, o.profile), sinkURL: sink.URL + "/deliveries", byID: map[string][]sim.Delivery{},
		client: &http.Client{
			Transport:     tr,
			Timeout:       o.timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

func (e *env) close() {
	e.sink.Close()
	e.client.CloseIdleConnections()
}

// deliveries waits until total deliveries for the request ids have
// arrived, then for settle more, and returns them by request id. It
// stops waiting for missing ones when the sink received no delivery, to
// any case, for the quiet period (counted from the newest answer among
// ids, or the sink's newest delivery, whichever is later) or when ctx is
// done: a case that
// expects more deliveries than the target makes does not wait a fixed
// time, and the sweep at the end of the run still sees any that come
// later. It wakes on the sink's news, not on a timer. When every
// request's endpoint has a Drain, it waits for those instead of the
// quiet period and the settle time (see Endpoint.Drain).
func (e *env) deliveries(ctx context.Context, ids map[string]*response, total int, settle time.Duration) map[string][]sim.Delivery {
	var answered time.Time
	for _, r := range ids {
		if r.at.After(answered) {
			answered = r.at
		}
	}
	collect := func() (map[string][]sim.Delivery, int, time.Time) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.indexLocked()
		out := map[string][]sim.Delivery{}
		n := 0
		newest := answered
		if e.lastAt.After(newest) {
			newest = e.lastAt
		}
		for id := range ids {
			if ds := e.byID[id]; len(ds) > 0 {
				out[id] = append([]sim.Delivery(nil), ds...)
				n += len(ds)
				for _, d := range ds {
					if d.RecordedAt.After(newest) {
						newest = d.RecordedAt
					}
				}
			}
		}
		return out, n, newest
	}
	if ds := drainsOf(ids); ds != nil {
		// The target says when it has nothing left to deliver: no quiet
		// period, no settle time.
		if _, n, _ := collect(); n < total || settle > 0 {
			drainAll(ctx, ds)
		}
		got, _, _ := collect()
		return got
	}
	quiet := e.opts.quiet
	if quiet <= 0 {
		quiet = DefaultQuiet
	}
	for total > 0 && ctx.Err() == nil {
		_, n, newest := collect()
		if n >= total {
			break
		}
		left := quiet - time.Since(newest)
		if left <= 0 {
			break
		}
		e.mu.Lock()
		seen := e.seen
		e.mu.Unlock()
		// Wake on the sink's next delivery (to anyone), or when the
		// quiet period is over.
		wctx, cancel := context.WithTimeout(ctx, left)
		e.sink.Wait(wctx, seen+1)
		cancel()
	}
	if settle > 0 {
		t := time.NewTimer(settle)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	got, _, _ := collect()
	return got
}

// drainsOf returns the Drain of each endpoint the requests of ids went
// to, once per endpoint, or nil when one of them has none (see
// Endpoint.Drain).
func drainsOf(ids map[string]*response) []func(context.Context) error {
	var ds []func(context.Context) error
	seen := map[*endpointState]bool{}
	for _, r := range ids {
		if r.ep == nil || r.ep.Drain == nil {
			return nil
		}
		if !seen[r.ep] {
			seen[r.ep] = true
			ds = append(ds, r.ep.Drain)
		}
	}
	if len(ds) == 0 {
		return nil
	}
	return ds
}

// drainAll calls every Drain of ds at once and waits for them all, or
// for ctx to be done.
func drainAll(ctx context.Context, ds []func(context.Context) error) {
	if len(ds) == 1 {
		ds[0](ctx)
		return
	}
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Go(func() { d(ctx) })
	}
	wg.Wait()
}

// selected returns the checks the options select against target; the
// Policy cases only with Policy(true), the Delivery cases only with
// Delivery(true) or when the target promises idempotent delivery.
func (o *options) selected(target Target) []check {
	var out []check
	delivery := o.delivery || promisesDelivery(target)
	for _, c := range all() {
		if c.IsPolicy() && !o.policy || c.IsDelivery() && !delivery {
			continue
		}
		if o.run == nil || o.run.MatchString(c.ID()) {
			out = append(out, c)
		}
	}
	return out
}

// Run runs the suite against target as subtests of t, one per case, named
// Group/Name. Each violation is reported with t.Errorf; a failure to set up
// with t.Fatalf.
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.HandlerTarget(myapp.NewHandler))
//	}
func Run(t *testing.T, target Target, opts ...Option) {
	t.Helper()
	RunT(testingT{t}, target, opts...)
}

// RunT is Run for any T: the CLI's, or a test framework's.
func RunT(t T, target Target, opts ...Option) {
	t.Helper()
	o := buildOptions(opts)
	e, err := newEnv(target, o)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer e.close()
	checks := o.selected(target)
	parallel := o.parallel
	if parallel <= 0 {
		switch target.(type) {
		case declaredApp:
			parallel = DefaultParallel
		case reference:
			parallel = inProcessParallel()
		default:
			parallel = DefaultParallelEndpoints
		}
	}
	// One pool for the whole run: a group's slow case does not hold the
	// next group back. Each group is still a subtest of its own.
	sem := make(chan struct{}, parallel)
	var groups sync.WaitGroup
	for _, g := range groupOrder {
		var cs []check
		for _, c := range checks {
			if c.Group == g {
				cs = append(cs, c)
			}
		}
		if len(cs) == 0 {
			continue
		}
		groups.Add(1)
		run := func() {
			defer groups.Done()
			t.Run(g, func(t T) {
				var wg sync.WaitGroup
				for i := range cs {
					c := &cs[i]
					sem <- struct{}{}
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer func() { <-sem }()
						t.Run(c.Name, func(t T) { runCase(t, e, c) })
					}()
				}
				wg.Wait()
			})
		}
		if parallel == 1 {
			run() // one case at a time, in suite order
		} else {
			go run()
		}
	}
	groups.Wait()
	e.sweepLate(t, e.rules.verifyInRun)
}

// runCase runs one check.
func runCase(t T, e *env, c *check) {
	t.Helper()
	if reason, ok := e.opts.skip[c.ID()]; ok {
		t.Skipf("skipped: %s", reason)
	}
	// A case the end of the run cuts short, or never lets start, is
	// interrupted, whatever it saw: a request cancelled half-way, or a
	// wait for stray deliveries cut short, proves nothing. This runs
	// after the endpoints are closed (deferred below), and also when the
	// case stops with Fatalf or Skipf.
	defer func() {
		if t.Context().Err() != nil {
			interrupt(t)
		}
	}()
	if t.Context().Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), e.opts.timeout)
	defer cancel()
	x := &exchange{t: t, c: c, env: e, ctx: ctx, client: e.client}
	defer func() {
		// Before the endpoints close: their deliverers may still hold
		// the extra deliveries the settle time is for.
		x.settlePending()
		for _, st := range x.eps {
			x.closeEndpoint(st)
		}
		x.flush()
	}()
	if c.spec != nil {
		x.Provision(c.spec(), nil)
	}
	c.run(x)
}

// interrupt marks the case t runs as interrupted: a status of its own
// in Check's report; for any other T, an error (never a pass, never a
// skip).
func interrupt(t T) {
	cause := context.Cause(t.Context())
	if it, ok := t.(interface{ interrupted(cause error) }); ok {
		it.interrupted(cause)
		return
	}
	t.Errorf("%v", interruptedError(cause.Error()))
}

// testingT adapts *testing.T to T.
type testingT struct{ *testing.T }

func (t testingT) Run(name string, f func(T)) bool {
	return t.T.Run(name, func(t *testing.T) { f(testingT{t}) })
}

// reportT is the T of Check: it records results instead of printing.
type reportT struct {
	ctx    context.Context
	depth  int
	name   string
	rec    *recorder
	mu     sync.Mutex
	failed bool
	probs  []string
	reason string
	skip   bool
	logs   []string
	// stopped is what interrupted the case (see interrupt), or nil.
	stopped error
	// notes are the profile's known defects the case accepted.
	notes []string
}

type recorder struct {
	mu      sync.Mutex
	results []CaseResult
	byID    map[string]Case
	notify  func(CaseResult)
}

func (t *reportT) Helper() {}

func (t *reportT) Errorf(format string, args ...any) {
	t.mu.Lock()
	t.failed = true
	t.probs = append(t.probs, fmt.Sprintf(format, args...))
	t.mu.Unlock()
}

func (t *reportT) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	runtime.Goexit()
}

func (t *reportT) Skipf(format string, args ...any) {
	t.mu.Lock()
	t.skip, t.reason = true, fmt.Sprintf(format, args...)
	t.mu.Unlock()
	runtime.Goexit()
}

func (t *reportT) Logf(format string, args ...any) {
	t.mu.Lock()
	t.logs = append(t.logs, fmt.Sprintf(format, args...))
	t.mu.Unlock()
}

func (t *reportT) Context() context.Context { return t.ctx }

func (t *reportT) expected(note string) {
	t.mu.Lock()
	t.notes = append(t.notes, note)
	t.mu.Unlock()
}

func (t *reportT) interrupted(cause error) {
	t.mu.Lock()
	t.stopped = cause
	t.mu.Unlock()
}

func (t *reportT) Run(name string, f func(T)) bool {
	full := name
	if t.name != "" {
		full = t.name + "/" + name
	}
	child := &reportT{ctx: t.ctx, depth: t.depth + 1, name: full, rec: t.rec}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(child)
	}()
	<-done
	if c, ok := t.rec.byID[full]; ok {
		res := CaseResult{Case: c, Status: StatusPass, Problems: child.probs, Log: child.logs, Expected: child.notes, Duration: time.Since(start)}
		switch {
		case child.stopped != nil:
			res.Status, res.Reason = StatusInterrupted, child.stopped.Error()
		case child.failed:
			res.Status = StatusFail
		case child.skip:
			res.Status, res.Reason = StatusSkip, strings.TrimPrefix(child.reason, "skipped: ")
		}
		t.rec.mu.Lock()
		t.rec.results = append(t.rec.results, res)
		t.rec.mu.Unlock()
		if t.rec.notify != nil {
			t.rec.notify(res)
		}
	} else if child.failed && child.stopped == nil {
		// A failure above the cases (setup): keep it on the parent.
		t.Errorf("%s", strings.Join(child.probs, "\n"))
	}
	return !child.failed && child.stopped == nil
}

// Check runs the suite against target without package testing and
// returns the report. The error joins a *CaseError per failed or
// interrupted case, and any setup failure; it is nil when every selected
// case passed or was skipped.
//
// When ctx is done before the run ends (a signal, a deadline), the cases
// in flight stop at once and the rest do not start: the report still
// holds every selected case, those cut short or not started with
// StatusInterrupted and the reason context.Cause(ctx), and Check
// returns. A ctx already done gives a report of interrupted cases.
func Check(ctx context.Context, target Target, opts ...Option) (*Report, error) {
	o := buildOptions(opts)
	rec := &recorder{byID: map[string]Case{}, notify: o.progress}
	for _, c := range o.selected(target) {
		rec.byID[c.ID()] = c.Case
	}
	root := &reportT{ctx: ctx, rec: rec}
	root.Run("", func(t T) { RunT(t, target, opts...) })
	rep := &Report{Target: o.name, Profile: targetRules(target, o.profile).name}
	order := map[string]int{}
	for i, c := range o.selected(target) {
		order[c.ID()] = i
	}
	rep.Cases = rec.results
	rep.sort(order)
	err := rep.Err()
	if root.failed {
		err = joinErrors(fmt.Errorf("conformance: %s", strings.Join(root.probs, "; ")), err)
	}
	return rep, err
}
