package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/load"
	"github.com/hooklab/hooklab/sim/load/view"
)

const loadUsage = `Usage: hooklab load --to URL (--fixture NAME | --preset P --body-file F) --secret S --duration D
                    [--rate R[/s] | --rate STEPS | --rate 0 --workers N] [--max-in-flight N]
                    [--timeout D] [--sink ADDR] [--json] [--out FILE] [--plot FILE] [--shard i/n | --shard auto/n]
                    [--run-id ID] [--start-at RFC3339 | --start-in D] [--max-dropped RATIO] [--interrupt-ok]
                    [--duplicate RATIO] [--reorder N] [--retry-on non-2xx [--time-scale F]] [--seed N]
                    [--ui [--ui-addr HOST:PORT] [--ui-exit]]
       hooklab load merge [--json] [--plot FILE] [--partial] REPORT.json…

Load sends freshly signed webhooks to URL: every request is rendered from
the fixture with its own seed (or is the body of --body-file), signed at
the moment it is sent (a new timestamp and message id) and carries a
unique Hooklab-Request-Id header. With --fixture, --param NAME=VALUE,
--set PATH=VALUE, --query NAME=VALUE and --header 'Name: value' change
every rendering before it is signed (see hooklab sign -h).

--rate sets the schedule (open loop): 100 or 100/s; steps such as
100:10s,500:20s,1000:30s; linear:100..1000 (a ramp over the run);
sine:500+-200/60s. Requests are sent when the schedule says, however the
target answers; at most --max-in-flight are in flight and a slot that
comes due past that is dropped and counted. Latency is measured from the
intended send time (corrected for coordinated omission) and from the
actual send; both are reported. --rate 0 --workers N runs closed loop: N
workers, each sending when its previous request is answered.

--sink ADDR listens on ADDR (such as 127.0.0.1:9999) for the delivery
envelopes the target's triggers POST there, as hooklab's reference
ingress does, and reports the time from each send to each trigger's
delivery, with lost and duplicated deliveries: a request's expected
triggers are those its answer names ({"triggered": […]}), else one.

Delivery chaos, to test a receiver's idempotency under load: --duplicate
RATIO sends that share of the deliveries a second time, byte for byte
(same signature, id and Hooklab-Request-Id) once the first is answered;
--reorder N makes slot k send delivery k' of a shuffle of each window of
N slots; both are chosen by --seed (shards agree). --retry-on non-2xx
retries a failed attempt on the documented schedule of the preset's
provider (see hooklab send -h), signed anew with the same id;
--time-scale 0.001 makes its minutes milliseconds (the run lasts until
the retries are over; Ctrl-C ends the waits). The report counts what was
injected (Chaos: duplicates sent, reordered, retries by attempt, gave
up; "chaos" in --json). With --sink, a trigger delivering one request
id twice is a double delivery ("doubled"; "duplicated" in --json): a
receiver that deduplicates shows 0.

Output: a live progress line on a terminal; the text report (or --json:
one object); --out FILE streams every result as a JSON line, with its request
(which hooklab replay sends again); --plot FILE
writes latency over time as a self-contained HTML page. Ctrl-C (or
SIGTERM) stops sending, waits for the requests in flight, and still
writes every report; a second one cancels the requests in flight (error
"aborted") and then writes every report, --out to its last complete
line; a third exits at once. An interrupted run exits 1 unless
--interrupt-ok.

--shard i/n runs every n-th slot of the schedule from slot i (from 1),
so n machines share one run; 'hooklab load merge' combines their --json
reports into one (histograms merge exactly). --shard auto/n takes the
shard from $JOB_COMPLETION_INDEX, the 0-based index Kubernetes gives each
pod of an Indexed Job (index 0 is shard 1/n). One process schedules at
most 1e6 requests a second (a higher --rate, per shard, is refused).
Each report names its run (--run-id ID, else a random id: give every
shard of one run the same), its shard, its plan (schedule, duration, what
is sent, the target with its userinfo and query values redacted) and its
times; merge refuses a shard twice, shards of other runs or plans, and
missing shards (unless --partial). The report keeps the first bodies of
the answers that were not 2xx, 3 a status, and the text report shows
them escaped.

--start-at 2026-12-06T03:00:00Z is a start barrier: the process waits
until then (Ctrl-C ends the wait) and every slot is due at that instant
plus its offset in the schedule, so shards given the same time send the
unsharded schedule together. --start-in 30s starts at the next whole
multiple of 30s of the wall clock (counted from the Unix epoch): pods
started within the same 30 s window agree without a shared value; pick a
window much longer than the spread of their start times. A shard that
comes up after the start sends its slots already due at once (those past
--max-in-flight are dropped and counted) and reports how late it was
("late_start_s"). The start may be at most 24h ahead and not past by the
run's duration.

More than 1% of the slots dropped adds a warning (stderr and the
report's "warnings"); more than --max-dropped RATIO (default 0.01) exits 1.

--ui serves the live load view while the run goes on: a web page with
latency over time, the rate requested and achieved, status codes,
errors and deliveries delivered, lost and doubled, updated about twice a
second (Server-Sent Events). It listens on --ui-addr (default a free
loopback port; loopback only) and prints "inspector: URL" on stderr at
the start. When the run is done the page shows the final report and
stays served until Ctrl-C, so that you can read it; the exit code is
then the run's (a Ctrl-C during the run stops it and exits as without
--ui). --ui-exit exits as soon as the run is done instead. 'hooklab
report --ui FILE' shows a saved --json report.

Exit codes: 0 every request was answered 2xx (with --retry-on: every
delivery's last attempt; and, with --sink, no delivery was lost or
doubled), no more than --max-dropped of the slots were dropped and the
run was not interrupted (or --interrupt-ok), 1 otherwise, 2 bad usage.

Examples:

	hooklab load --to http://127.0.0.1:8080/hooks/github --fixture github/pull_request --secret s3cret --rate 200 --duration 30s
	hooklab load --to http://127.0.0.1:8080/hooks/gh --preset github --body-file event.json --secret s3cret --rate 0 --workers 32 --duration 10s --json
	hooklab load --to http://127.0.0.1:8080/hooks/gh --fixture github/push --secret s3cret --rate 100:10s,500:20s --sink 127.0.0.1:9999 --plot latency.html
	hooklab load --to http://127.0.0.1:8080/hooks/gh --fixture github/push --secret s3cret --rate 50 --duration 5s --sink 127.0.0.1:9999 --duplicate 0.1
	hooklab load --to http://127.0.0.1:8080/hooks/gh --fixture github/push --secret s3cret --rate 200 --duration 1m --ui --ui-addr 127.0.0.1:8089
	JOB_COMPLETION_INDEX=0 hooklab load --to http://target:8080/hooks/gh --fixture github/push --secret s3cret --rate 4000 --duration 1m --shard auto/4 --start-at 2026-12-06T03:00:00Z --json > /reports/0.json
	hooklab load merge shard1.json shard2.json`

func newLoadCmd() *command {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	var (
		secrets   secretFlags
		headers   headerFlags
		overrides overrideFlags
		body      stringFlag
		bodyFile  stringFlag
		timeout   durationFlag
		duration  durationFlag
		grace     durationFlag
	)
	to := fs.String("to", "", "send to `URL` (http:// when written host[:port][/path]; with -fixture, a URL without a path gets the fixture's)")
	fixtureName := fs.String("fixture", "", "send fixture `NAME`, rendered with a new seed for every request")
	preset := fs.String("preset", "", "with -body-file: sign with preset `NAME`")
	secrets.register(fs, "to sign with (the private key for asymmetric presets)")
	fs.Var(&body, "body", "with -preset: the body `TEXT`")
	fs.Var(&bodyFile, "body-file", "with -preset: read the body from `PATH`")
	fs.Var(&headers, "header", "add a header `'Name: value'` before signing (repeatable; with -fixture, replacing the fixture's)")
	overrides.register(fs)
	fs.Var(&duration, "duration", "send for `DURATION` (with steps, default their total)")
	rate := fs.String("rate", "", "the schedule: `R[/s]`, STEPS, linear:A..B, sine:M+-A/P, or 0 for closed loop")
	workers := fs.Int("workers", 0, "closed loop (-rate 0): `N` workers")
	maxInFlight := fs.Int("max-in-flight", load.DefaultMaxInFlight, "open loop: at most `N` requests in flight; later slots are dropped")
	fs.Var(&timeout, "timeout", "give up on a request after `DURATION` (default 30s)")
	sinkAddr := fs.String("sink", "", "measure deliveries: listen on `ADDR` for the envelopes the target's triggers POST")
	fs.Var(&grace, "grace", "with -sink: wait up to `DURATION` after the last answer for deliveries (default 2s)")
	expect := fs.Int("expect", 1, "with -sink: deliveries `N` per 2xx answer that names no triggers")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	out := fs.String("out", "", "stream every result to `FILE` as JSON lines")
	plot := fs.String("plot", "", "write latency over time to `FILE` (a self-contained HTML page)")
	shard := fs.String("shard", "", "run shard `i/n` of the schedule (i from 1), or auto/n (i from $JOB_COMPLETION_INDEX, from 0)")
	runID := fs.String("run-id", "", "name the run `ID` in its report (letters, digits, . _ : -; default a random id): the same on every shard")
	seed := fs.Int64("seed", 1, "with -fixture: the seed of slot 0; slot k uses seed+k (and of -duplicate's and -reorder's choices)")
	var chaos chaosFlags
	chaos.register(fs)
	ui := fs.Bool("ui", false, "serve the live load view (a web page) while the run goes on, and the report after it until Ctrl-C")
	uiAddr := fs.String("ui-addr", "", "with -ui: listen on `HOST:PORT`, a loopback address (default 127.0.0.1 and a free port)")
	uiExit := fs.Bool("ui-exit", false, "with -ui: exit when the run is done instead of serving the report until Ctrl-C")
	var edges edgeFlags
	edges.register(fs)

	return &command{
		name:    "load",
		summary: "send freshly signed webhooks at a rate and report latency, errors and delivery time",
		usage:   loadUsage,
		fs:      fs,
		args:    "[merge REPORT…]",
		run: func(std *stdio) error {
			// Signals are caught first, so that a Ctrl-C during setup stops
			// the run instead of killing the process: the first stops
			// sending and drains, the second cancels the requests in
			// flight and writes the reports, a third exits at once.
			stopReq, abortReq := make(chan struct{}), make(chan struct{})
			sig := make(chan os.Signal, 3)
			signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sig)
			go func() {
				for _, c := range []chan struct{}{stopReq, abortReq} {
					if _, ok := <-sig; !ok {
						return
					}
					close(c)
				}
				if _, ok := <-sig; ok {
					os.Exit(130)
				}
			}()
			if len(std.args) > 0 {
				if std.args[0] != "merge" {
					return usageErrorf("unexpected argument %q (the only subcommand is merge)", std.args[0])
				}
				if fs.NFlag() > 0 {
					return usageErrorf("merge takes its own flags after it: hooklab load merge [--json] [--plot FILE] [--partial] REPORT…")
				}
				return loadMerge(std, std.args[1:])
			}
			given := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
			if (given["ui-addr"] || given["ui-exit"]) && !*ui {
				return usageErrorf("-ui-addr and -ui-exit go with -ui")
			}
			if *to == "" {
				return usageErrorf("no target: give -to URL")
			}
			target, _, err := parseTarget(*to)
			if err != nil {
				return usageErrorf("-to: %v", err)
			}
			if *rate == "" {
				return usageErrorf("no schedule: give -rate (100/s, steps such as 100:10s,500:20s, or 0 with -workers)")
			}
			pacer, err := load.ParseRate(*rate, duration.d)
			if err != nil {
				return usageErrorf("-rate: %v", err)
			}
			d := duration.d
			if st, ok := pacer.(load.Steps); ok && !duration.set {
				d = st.Total()
			}
			if d <= 0 {
				return usageErrorf("no duration: give -duration (such as 30s)")
			}
			if *maxInFlight < 1 {
				return usageErrorf("-max-in-flight: want 1 or more")
			}
			if timeout.set && timeout.d == 0 {
				return usageErrorf("-timeout: want a positive duration")
			}
			if pacer == nil && *workers < 1 {
				return usageErrorf("-rate 0 runs closed loop: give -workers N")
			}
			if pacer != nil && given["workers"] {
				return usageErrorf("-workers applies to closed loop only (-rate 0)")
			}
			shardI, shardN, err := parseShard(*shard, os.LookupEnv)
			if err != nil {
				return usageErrorf("-shard: %v", err)
			}
			if shardN > load.MaxShards {
				return usageErrorf("-shard: %d shards, want at most %d", shardN, load.MaxShards)
			}
			if err := load.CheckRunID(*runID); given["run-id"] && err != nil {
				return usageErrorf("-run-id: %v", err)
			}
			if err := load.CheckRate(pacer, d, shardN); err != nil {
				return usageErrorf("-rate %s: %v", *rate, err)
			}
			startAt, err := edges.start(given, time.Now(), d)
			if err != nil {
				return err
			}
			src, scheme, keys, err := loadSource(std, given, target, *fixtureName, *preset, &secrets, body, bodyFile, headers, &overrides, *seed)
			if err != nil {
				return err
			}
			ch, err := chaos.build(std, "load", given, scheme, keys, *seed)
			if err != nil {
				return err
			}

			opts := []load.Option{load.MaxInFlight(*maxInFlight), load.Workers(*workers), load.Shard(shardI, shardN), load.WithChaos(ch)}
			if timeout.set {
				opts = append(opts, load.Timeout(timeout.d))
			}
			if *out != "" {
				// --out keeps each request, so that hooklab replay can send it again.
				opts = append(opts, load.KeepRequests(true))
			}
			attacker := load.NewAttacker(opts...)
			defer load.TuneGC()()
			plan := load.Plan{Source: src, Pacer: pacer, Duration: d, Attacker: attacker, Grace: grace.d, StartAt: startAt}
			plan.RunID, plan.Rate, plan.Target = *runID, *rate, target

			sinkURL := ""
			if *sinkAddr != "" {
				dl := load.NewDeliveries()
				dl.Expect = *expect
				srv, err := sim.NewServer(*sinkAddr, dl)
				if err != nil {
					return usageErrorf("-sink: %v", err)
				}
				defer srv.Close()
				plan.Deliveries = dl
				sinkURL = srv.URL
			}
			if *out != "" {
				f, err := os.Create(*out)
				if err != nil {
					return usageErrorf("-out: %v", err)
				}
				defer f.Close()
				plan.Out = f
			}
			// Check that the plot can be written before the run, not after.
			if *plot != "" {
				f, err := os.Create(*plot)
				if err != nil {
					return usageErrorf("-plot: %v", err)
				}
				f.Close()
			}
			if isTerminal(std.stderr) {
				plan.Progress = func(p load.Progress) { printProgress(std.stderr, p) }
			}
			var lv *loadView
			if *ui {
				lv, err = startLoadView(std, "load", *uiAddr, view.Target(target))
				if err != nil {
					return err
				}
				defer lv.close()
				plan.Watch = lv.v.Publish
			}

			runDone := make(chan struct{})
			go func() {
				select {
				case <-stopReq:
				case <-runDone:
					return
				}
				if plan.Progress != nil {
					fmt.Fprintln(std.stderr)
				}
				fmt.Fprintln(std.stderr, "hooklab load: stopping: waiting for the requests in flight (Ctrl-C again to cancel them and write the reports)")
				attacker.Stop()
				select {
				case <-abortReq:
				case <-runDone:
					return
				}
				fmt.Fprintln(std.stderr, "hooklab load: cancelling the requests in flight; writing the reports (Ctrl-C again to quit now)")
				attacker.Abort()
			}()

			if wait := time.Until(startAt); wait > 0 && !startAt.IsZero() {
				fmt.Fprintf(std.stderr, "hooklab load: waiting for the start at %s (in %s)\n", startAt.UTC().Format(time.RFC3339Nano), wait.Round(time.Millisecond))
			} else if !startAt.IsZero() {
				fmt.Fprintf(std.stderr, "hooklab load: the start at %s was %s ago: sending the slots already due at once\n", startAt.UTC().Format(time.RFC3339Nano), (-wait).Round(time.Millisecond))
			}
			rep, runErr := load.Run(context.Background(), plan)
			close(runDone)
			if plan.Progress != nil {
				fmt.Fprint(std.stderr, "\r\033[K")
			}
			if err := writeLoadReports(std, rep, *asJSON, *plot); err != nil {
				return err
			}
			for _, w := range rep.Warnings {
				fmt.Fprintf(std.stderr, "hooklab load: warning: %s\n", w)
			}
			verdict := joinVerdicts(loadVerdict(rep, sinkURL), edges.verdict(rep))
			if runErr != nil {
				verdict = &exitError{code: exitFailed, msg: runErr.Error()}
			}
			if lv != nil && !*uiExit {
				// After a Ctrl-C that stopped the run, linger returns at once:
				// the user asked to stop.
				lv.linger(std, "load", stopReq)
			}
			return verdict
		},
	}
}

// loadSource builds the request source from the flags, and returns the
// scheme and keys it signs with (unset for a fixture its provider does
// not sign).
func loadSource(std *stdio, given map[string]bool, target, fixtureName, preset string, secrets *secretFlags,
	body, bodyFile stringFlag, headers headerFlags, overrides *overrideFlags, seed int64) (load.Source, signer.Scheme, signer.KeySet, error) {
	var none signer.Scheme
	if fixtureName != "" {
		if given["body"] || given["body-file"] {
			return nil, none, nil, usageErrorf("give -fixture or -body/-body-file, not both")
		}
		fsg, err := newFixtureSigner(std, "load", fixtureName, preset, secrets)
		if err != nil {
			return nil, none, nil, err
		}
		extra, host, err := afterSigning(headers, fsg.scheme, fsg.signed)
		if err != nil {
			return nil, none, nil, err
		}
		if host != "" {
			return nil, none, nil, usageErrorf("-header: Host cannot be set with -fixture: it follows from -to")
		}
		fsg.override(overrides, extra)
		// Sign one now, so a bad key or override is a usage error and not
		// a run of errors.
		if _, err := fsg.request(context.Background(), target, seed, time.Now()); err != nil {
			return nil, none, nil, err
		}
		return load.FixtureSource(fsg.f, target, fsg.keys, seed, fsg.opts...), fsg.scheme, fsg.keys, nil
	}
	if given["seed"] && !chaosGiven(given) {
		return nil, none, nil, usageErrorf("-seed applies only with -fixture, or with -duplicate or -reorder")
	}
	if overrides.given() {
		return nil, none, nil, overrides.withoutFixture()
	}
	if preset == "" {
		return nil, none, nil, usageErrorf("nothing to send: give -fixture NAME, or -preset NAME with -body-file")
	}
	scheme, err := signer.Preset(preset)
	if err != nil {
		return nil, none, nil, usageErrorf("%v", err)
	}
	keys, notes, err := secrets.keys()
	if err != nil {
		return nil, none, nil, err
	}
	b, err := readBody(std.stdin, body, bodyFile)
	if err != nil {
		return nil, none, nil, err
	}
	h, _, err := buildHeader(headers, stringFlag{}, scheme)
	if err != nil {
		return nil, none, nil, err
	}
	src, err := load.BodySource(scheme, keys, defaultMethod, target, h, b)
	if err != nil {
		return nil, none, nil, usageErrorf("%v", withNotes(err, notes))
	}
	// Sign one now, so a bad key is a usage error and not a run of errors.
	if _, err := src.Request(context.Background(), 0); err != nil {
		return nil, none, nil, usageErrorf("%v", withNotes(err, notes))
	}
	return src, scheme, keys, nil
}

// ShardIndexEnv is the variable --shard auto/N reads the shard from: the
// 0-based index Kubernetes gives each pod of an Indexed Job.
const shardIndexEnv = "JOB_COMPLETION_INDEX"

// parseShard reads "i/n" (i from 1) as the attacker's 0-based shard, or
// "auto/n", whose 0-based index is the environment variable
// shardIndexEnv, read with lookup (os.LookupEnv).
func parseShard(s string, lookup func(string) (string, bool)) (i, n int, err error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	n, err2 := strconv.Atoi(b)
	if ok && a == "auto" && err2 == nil && n >= 1 && n <= maxShards {
		v, set := lookup(shardIndexEnv)
		if !set {
			return 0, 0, fmt.Errorf("%q: %s is not set (auto takes the shard from it, from 0 to %d, as a Kubernetes Indexed Job sets it)", s, shardIndexEnv, n-1)
		}
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= n {
			if len(v) > 40 {
				v = v[:40] + "…"
			}
			return 0, 0, fmt.Errorf("%q: %s=%q is not a shard index from 0 to %d", s, shardIndexEnv, v, n-1)
		}
		return i, n, nil
	}
	i, err1 := strconv.Atoi(a)
	if !ok || err1 != nil || err2 != nil || n < 1 || n > maxShards || i < 1 || i > n {
		return 0, 0, fmt.Errorf("%q: want i/n with 1 <= i <= n <= %d, such as 2/4, or auto/n (i from $%s, from 0)", s, maxShards, shardIndexEnv)
	}
	return i - 1, n, nil
}

// maxShards bounds n in --shard i/n.
const maxShards = 1 << 20

// edgeFlags are the flags of a run's edges: the start barrier, and what
// makes a run that dropped slots or was interrupted fail.
type edgeFlags struct {
	startAt     string
	startIn     durationFlag
	maxDropped  float64
	interruptOK bool
}

func (e *edgeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&e.startAt, "start-at", "", "start the schedule at `RFC3339` time (the shards of a run share it; at most 24h ahead)")
	fs.Var(&e.startIn, "start-in", "start the schedule at the next whole multiple of `DURATION` of the wall clock (since the Unix epoch), so that shards started in the same window agree")
	fs.Float64Var(&e.maxDropped, "max-dropped", 0.01, "exit 1 when more than `RATIO` of the schedule's slots were dropped")
	fs.BoolVar(&e.interruptOK, "interrupt-ok", false, "exit as if not interrupted after Ctrl-C or SIGTERM (by default an interrupted run exits 1)")
}

// start returns the start barrier the flags give, or the zero time.
func (e *edgeFlags) start(given map[string]bool, now time.Time, d time.Duration) (time.Time, error) {
	if !(e.maxDropped >= 0 && e.maxDropped <= 1) {
		return time.Time{}, usageErrorf("-max-dropped: want a ratio from 0 to 1, such as 0.01")
	}
	var at time.Time
	switch {
	case given["start-at"] && given["start-in"]:
		return time.Time{}, usageErrorf("give -start-at or -start-in, not both")
	case given["start-at"]:
		t, err := time.Parse(time.RFC3339Nano, e.startAt)
		if err != nil {
			return time.Time{}, usageErrorf("-start-at: %q is not an RFC 3339 time such as 2026-12-06T03:00:00Z", e.startAt)
		}
		at = t
	case given["start-in"]:
		if e.startIn.d <= 0 || e.startIn.d > load.MaxStartAhead {
			return time.Time{}, usageErrorf("-start-in: want a duration above 0 and up to %s", load.MaxStartAhead)
		}
		at = load.StartIn(now, e.startIn.d)
	default:
		return time.Time{}, nil
	}
	if err := load.CheckStart(at, now, d); err != nil {
		return time.Time{}, usageErrorf("-start-at: %v", err)
	}
	return at, nil
}

// verdict is exit 1 when the run dropped more than -max-dropped of its
// slots, or was interrupted without -interrupt-ok.
func (e *edgeFlags) verdict(rep *load.Report) error {
	var why []string
	if r := rep.DroppedRatio(); r > e.maxDropped {
		why = append(why, fmt.Sprintf("%d of %d slots (%.2f%%) were dropped, more than -max-dropped %g", rep.Dropped, rep.Requests+rep.Dropped, 100*r, e.maxDropped))
	}
	if rep.Interrupted && !e.interruptOK {
		why = append(why, "the run was interrupted before its end (-interrupt-ok exits 0 then)")
	}
	if len(why) == 0 {
		return nil
	}
	return &exitError{code: exitFailed, msg: strings.Join(why, "; ")}
}

// joinVerdicts combines verdicts of exit 1 into one.
func joinVerdicts(errs ...error) error {
	var msgs []string
	for _, err := range errs {
		if err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return &exitError{code: exitFailed, msg: strings.Join(msgs, "; ")}
}

// writeLoadReports writes the text or JSON report to stdout and the plot.
func writeLoadReports(std *stdio, rep *load.Report, asJSON bool, plot string) error {
	var err error
	if asJSON {
		err = rep.WriteJSON(std.stdout)
	} else {
		err = rep.WriteText(std.stdout)
	}
	if err != nil {
		return &exitError{code: exitFailed, msg: "writing the report: " + err.Error()}
	}
	if plot != "" {
		f, err := os.Create(plot)
		if err != nil {
			return usageErrorf("-plot: %v", err)
		}
		werr := rep.WritePlot(f, "hooklab load")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return &exitError{code: exitFailed, msg: "-plot: " + werr.Error()}
		}
	}
	return nil
}

// loadVerdict is exit 1 when a request failed or a delivery was lost or
// duplicated. sinkURL is --sink's URL, or "": when deliveries were
// expected and none reached it, the verdict says where the target's
// triggers must deliver.
func loadVerdict(rep *load.Report, sinkURL string) error {
	var why []string
	n := rep.Requests - rep.Success
	if c := rep.Chaos; c != nil {
		// A failed attempt that was retried is the schedule at work: only
		// the last attempt of a delivery (and a copy) counts.
		n -= min(n, c.RetriesSent())
	}
	if n > 0 {
		why = append(why, fmt.Sprintf("%d of %d requests were not answered 2xx", n, rep.Requests))
	}
	if rep.Requests == 0 {
		why = append(why, "no request was sent")
	}
	if rep.Lost != nil && *rep.Lost > 0 {
		why = append(why, fmt.Sprintf("%d deliveries lost", *rep.Lost))
		if sinkURL != "" && rep.Delivered != nil && *rep.Delivered == 0 {
			why = append(why, fmt.Sprintf("no delivery reached the sink at %s: the target's triggers must deliver there (in a spec, deliver: %s/ on each trigger)", sinkURL, sinkURL))
		}
	}
	if rep.Duplicated != nil && *rep.Duplicated > 0 {
		why = append(why, fmt.Sprintf("%d deliveries doubled (one request id delivered again to a trigger)", *rep.Duplicated))
	}
	if len(why) == 0 {
		return nil
	}
	return &exitError{code: exitFailed, msg: strings.Join(why, "; ")}
}

// printProgress rewrites one status line.
func printProgress(w io.Writer, p load.Progress) {
	ok := 100.0
	if p.Requests > 0 {
		ok = 100 * float64(p.Success) / float64(p.Requests)
	}
	line := fmt.Sprintf("%5.0fs  %d sent  %.0f/s  %.1f%% ok  p50 %s  p99 %s  in flight %d  dropped %d",
		p.Elapsed.Seconds(), p.Requests, p.Rate, ok, p.P50.Round(10*time.Microsecond), p.P99.Round(10*time.Microsecond), p.InFlight, p.Dropped)
	if p.Delivered > 0 {
		line += fmt.Sprintf("  delivered %d", p.Delivered)
	}
	fmt.Fprint(w, "\r\033[K"+line)
}
