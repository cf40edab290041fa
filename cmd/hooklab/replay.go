package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/replay"
)

const replayUsage = `Usage: hooklab replay [DIR|FILE…] --to URL [--resign --preset P --secret S [--old-secret S]]
                      [--rate R] [--order as-recorded|reverse|shuffle:SEED] [--duplicate RATIO]
                      [--retries provider [--time-scale F]] [--now UNIX_SECONDS] [--json]

Replay sends recorded requests to URL, one after the other: a directory
written by hooklab listen --record (NNNNNN.http files and their .json
sidecars), single .http or raw HTTP files, or the results of hooklab load
--out (a .jsonl file; load keeps each request there). URL gives the
scheme and host, and a path that replaces the recorded one unless it is
empty or "/" (http:// when written host[:port][/path]).

As recorded, the bytes are sent as they were: a timestamped scheme
(Stripe, Slack, Standard Webhooks) rejects them minutes later as stale.
--resign --preset P --secret S signs each request again as the provider
would: the preset's signature, timestamp and id headers are replaced by a
fresh signature at the current time (or --now) and a fresh id. With
--old-secret (or --old-secret-env, --old-secret-file) the recorded
signature is checked first (the signature only: the timestamp check is
off, a recording being old by nature), and each line says original=valid
or original=invalid with the reason.

--order sends in the recorded order, reversed, or shuffled from SEED (the
same seed, the same order). --rate R sends R requests a second (default:
each as soon as the one before it is answered). --duplicate RATIO sends that
share of the requests twice, byte for byte (same signature, same id), the
copy when the request's attempts are over; --seed chooses which, by the
request's place in the recording, as load --duplicate does. --retries provider retries a request that was not answered
2xx on the preset's documented retry schedule (hooklab's reading of the
provider's documentation: sim.RetryPolicyFor), each delay multiplied by
--time-scale (0.001 runs Stripe's three days in about four minutes);
needs --preset.

Output: one line per delivery and a summary (--json: one object with
every result and the totals). Ctrl-C stops and still prints the report.

Exit codes: 0 every delivery was answered 2xx, 1 otherwise, 2 bad usage
or an unreadable recording.

Examples:

	hooklab replay captures --to http://127.0.0.1:8080/hooks/stripe
	hooklab replay captures --to localhost:3000/webhook --resign --preset stripe --secret-env STRIPE_SECRET --old-secret-env OLD_SECRET
	hooklab replay captures/000003.http --to http://127.0.0.1:3000 --order shuffle:7 --duplicate 0.2 --rate 5
	hooklab replay results.jsonl --to http://127.0.0.1:3000/hooks/gh --resign --preset github --secret s3cret --retries provider --time-scale 0.001 --json`

func newReplayCmd() *command {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	var (
		secrets   secretFlags
		old       secretFlags
		nowFlag   unixFlag
		orderFlag = replay.AsRecorded()
	)
	to := fs.String("to", "", "send to `URL` (http:// when written host[:port][/path]; its path, unless empty or /, replaces the recorded one)")
	resign := fs.Bool("resign", false, "sign every request again with -preset and -secret, at the current time and with a fresh id")
	preset := fs.String("preset", "", "the preset `NAME` to re-sign as and whose retry schedule -retries uses (see hooklab presets)")
	secrets.register(fs, "to re-sign with")
	fs.Var(&secretValue{&old, "secret"}, "old-secret", "with -resign: check each recorded signature against `SECRET` first (repeatable)")
	fs.Var(&secretValue{&old, "env"}, "old-secret-env", "read the old secret from environment variable `NAME` (repeatable)")
	fs.Var(&secretValue{&old, "file"}, "old-secret-file", "read the old secret from the file at `PATH` (repeatable)")
	rate := fs.Float64("rate", 0, "send `R` requests a second (0: each when the one before is answered)")
	fs.Func("order", "send in `ORDER`: as-recorded, reverse or shuffle:SEED (default as-recorded)", func(s string) error {
		o, err := replay.ParseOrder(s)
		if err != nil {
			return errors.New(strings.TrimPrefix(err.Error(), "order "))
		}
		orderFlag = o
		return nil
	})
	duplicate := fs.Float64("duplicate", 0, "send this `RATIO` (0 to 1) of the requests twice, byte for byte")
	seed := fs.Int64("seed", 1, "the seed `N` that chooses the duplicated requests (as load --duplicate does)")
	retries := fs.String("retries", "", "retry requests not answered 2xx on `SCHEDULE`: provider (the -preset's documented schedule)")
	timeScale := fs.Float64("time-scale", replay.DefaultTimeScale, "multiply retry delays by `F` (0.001: three days in about four minutes)")
	fs.Var(&nowFlag, "now", "re-sign at `UNIX_SECONDS` instead of the clock")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")

	return &command{
		name:    "replay",
		summary: "send recorded requests again, re-signed, reordered, duplicated or retried",
		usage:   replayUsage,
		fs:      fs,
		args:    "DIR|FILE…",
		run: func(std *stdio) error {
			// Flags may follow the paths: "replay captures --to URL".
			var paths []string
			for rest := std.args; len(rest) > 0; rest = fs.Args() {
				if strings.HasPrefix(rest[0], "-") && rest[0] != "-" {
					if err := fs.Parse(rest); err != nil {
						return usageErrorf("%v", err)
					}
					continue
				}
				paths = append(paths, rest[0])
				if err := fs.Parse(rest[1:]); err != nil {
					return usageErrorf("%v", err)
				}
			}
			given := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
			if len(paths) == 0 {
				return usageErrorf("no recording: give a directory, .http files or a load --out .jsonl file")
			}
			if *to == "" {
				return usageErrorf("no target: give -to URL")
			}
			target, _, err := parseTarget(*to)
			if err != nil {
				return usageErrorf("-to: %v", err)
			}
			switch {
			case *rate < 0 || math.IsNaN(*rate) || math.IsInf(*rate, 0):
				return usageErrorf("-rate: want a non-negative number of requests a second")
			case !(*duplicate >= 0 && *duplicate <= 1):
				return usageErrorf("-duplicate: want a ratio from 0 to 1")
			case !(*timeScale > 0) || math.IsInf(*timeScale, 0):
				return usageErrorf("-time-scale: want a positive number")
			case *retries != "" && *retries != "provider":
				return usageErrorf("-retries: want provider")
			case given["time-scale"] && *retries == "":
				return usageErrorf("-time-scale applies only with -retries provider")
			}
			if !*resign {
				for _, name := range []string{"secret", "secret-env", "secret-file", "old-secret", "old-secret-env", "old-secret-file", "now"} {
					if given[name] {
						return usageErrorf("-%s applies only with -resign", name)
					}
				}
			}
			var scheme signer.Scheme
			if *preset != "" {
				if scheme, err = signer.Preset(*preset); err != nil {
					return usageErrorf("%v", err)
				}
			} else if *resign || *retries != "" {
				return usageErrorf("no preset: -resign and -retries need -preset NAME (see hooklab presets)")
			}
			opts := replay.Options{To: target, Order: orderFlag, Rate: *rate, Duplicate: *duplicate, Seed: *seed, TimeScale: *timeScale}
			if nowFlag.set {
				opts.Now = func() time.Time { return nowFlag.t }
			}
			if *resign {
				keys, notes, err := secrets.keys()
				if err != nil {
					return err
				}
				var oldKeys signer.KeySet
				if old.given() {
					var oldNotes []string
					if oldKeys, oldNotes, err = old.keys(); err != nil {
						return err
					}
					notes = append(notes, oldNotes...)
				}
				for _, n := range notes {
					fmt.Fprintf(std.stderr, "hooklab replay: warning: %s\n", n)
				}
				if opts.Resign, err = replay.NewResigner(scheme, keys, oldKeys); err != nil {
					return usageErrorf("%v", err)
				}
			}
			if *retries == "provider" {
				policy, ok := sim.RetryPolicyFor(scheme.Name)
				if !ok {
					fmt.Fprintf(std.stderr, "hooklab replay: warning: %s: %s; one attempt each\n", scheme.Name, policy.Note)
				}
				opts.Retries = &policy
			}
			recs, err := replay.Read(paths...)
			if err != nil {
				return usageErrorf("%v", err)
			}

			r := replay.New(opts)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sigs := make(chan os.Signal, 2)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sigs)
			go func() {
				if _, ok := <-sigs; !ok {
					return
				}
				fmt.Fprintln(std.stderr, "hooklab replay: stopping (Ctrl-C again to quit now)")
				r.Stop()
				if _, ok := <-sigs; ok {
					os.Exit(exitFailed)
				}
			}()
			var rep replay.Report
			var line strings.Builder
			for res := range r.Replay(ctx, recs) {
				rep.Add(res)
				if !*asJSON {
					line.Reset()
					replay.WriteLine(&line, res)
					fmt.Fprint(std.stdout, line.String())
				}
			}
			if *asJSON {
				err = rep.WriteJSON(std.stdout)
			} else {
				err = rep.WriteSummary(std.stdout)
			}
			if err != nil {
				return err
			}
			if !rep.OK() {
				return &exitError{code: exitFailed, msg: fmt.Sprintf("%d of %d deliveries not accepted", rep.Totals.Deliveries-rep.Totals.Accepted, rep.Totals.Deliveries)}
			}
			return nil
		},
	}
}
