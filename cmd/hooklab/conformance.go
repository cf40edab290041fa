package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/internal/fault"
	"github.com/hooklab/hooklab/sim"
)

// probeRetry is the longest pause between two probes of a control API
// that --wait waits for.
const probeRetry = time.Second

const conformanceUsage = `Usage: hooklab conformance [--target URL [--wait DURATION] | --declared MANIFEST] [--profile NAME] [--policy] [--delivery] [--expect FILE] [--run REGEXP] [--json] [--junit FILE] [-v]
       hooklab conformance --fault NAME... [--profile NAME] [--policy] [--delivery] [--run REGEXP]
       hooklab conformance --list [--policy] [--delivery] [--run REGEXP] [--json]
       hooklab conformance --faults [--profile NAME]

Conformance runs the webhook ingress conformance suite: signature
verification for every preset, Trigger.dev v2 respondWith, request
filters, trigger fan-out and robustness, one fresh endpoint per case.

Without --target or --declared it checks the in-process reference
ingress, which passes every case. --target URL checks any implementation,
in any language, that serves the control API of conformance/PROTOCOL.md
at URL (GET, POST URL/endpoints, DELETE URL/endpoints/{id}), for example
'hooklab serve --control' (with HOOKLAB_CONTROL_TOKEN set, its value is
sent as the control API's bearer token). Before any case it checks that
URL is a control API (GET URL/endpoints answers 200 {"endpoints": [...]}),
waiting up to 5s for the answer; --wait DURATION polls until it is, for
a server that is still starting, for at most DURATION in all. --declared
MANIFEST checks an existing app described in a manifest, running the
cases that apply to it.

--profile NAME says what a right answer is (conformance/PROTOCOL.md,
"Profiles of expectation"): strict, PROTOCOL.md's contract (401 with a
JSON error for a bad signature), the default for --target and the
reference; app, for a receiver in the wild (any 2xx accepts, any 4xx but
404 rejects, any error body; a manifest narrows these), the default for
--declared; triggerdev-v2, what Trigger.dev v2 does, its known defects
included, which the report lists under each case that accepted one.
Without --target or --declared, --profile triggerdev-v2 also runs the
reference's triggerdev-v2 profile.

--policy also runs the Policy cases: rules of this project that no
provider requires (conformance/RULES.md P1; today Policy/AlgorithmDowngrade,
no fallback to GitHub's SHA-1 signature). They are reported apart: their
own section and count line "policy: N passed, N failed, N skipped" in the
text report, "policy" counts and the group "Policy" in JSON, their own
testsuite in JUnit. A failed policy case fails the run (exit 1), since
--policy asked for it. With --list, --policy adds them to the list, their
rule marked "[policy]".

--delivery also runs the Delivery cases, for a receiver that promises
idempotent delivery (conformance/RULES.md D1-D3): a delivery sent again
(byte for byte, or re-signed as a retry) wakes each trigger once and is
answered 2xx; events with different ids each wake it; an older event
after a newer one is taken; a forged request does not use up a real
event's id. Their endpoints ask for de-duplication by the event id (the
spec's dedup field). With --declared, a manifest that promises it
(delivery: {idempotent: true}) runs them without the flag. They count
with the other cases. With --list, --delivery adds them to the list,
their rule marked "[delivery]".

--expect FILE holds the run to an expectation file listing the cases
the target is known to fail, each with its cause and substrings of the
problems it fails with (conformance.Expectations). The report then ends
with the expected failures seen and every result the file does not
foresee: an unlisted failure, or a listed case that passed, was skipped
or failed for another problem ("update the file"). Exit status 0 then
means the run was exactly as expected.

--fault builds a named defect into the in-process reference (--faults
lists them), to see the suite catch it: the run must then fail.

The report ends with the line "N passed, N failed, N skipped". It shows
each failed and skipped case with its problems, rule, reference and
source line (-v: every case). --json prints the report as JSON instead;
--junit FILE also writes it as JUnit XML. --list prints the cases, one a
line as "Group/Name<TAB>rule", without running them. When stderr is a
terminal a line per case shows progress.

The first SIGINT or SIGTERM (what CI sends on a timeout) stops the run:
the cases in flight stop, the others do not start, and every report is
still written, those cases marked "interrupted" (neither passed nor
skipped; the last line then ends ", N interrupted", JUnit counts them as
errors). A second signal ends the process at once.

Exit codes: 0 every selected case passed (or was skipped), or with
--expect, every result was as expected; 1 a case (with --policy, a policy
case too) failed (with --expect: a result not as expected) or the run was
interrupted; 2 bad usage, an unreadable manifest or expectation file, a
--target that is not a control API or does not answer (within --wait),
or a --run that matches no case.

Examples:

	hooklab conformance --run '^Verify/'
	hooklab conformance --target http://127.0.0.1:8080 --junit conformance.xml
	hooklab conformance --target http://127.0.0.1:8080 --wait 30s
	hooklab conformance --declared app.yaml --expect app.expect.yaml
	hooklab conformance --fault skip-verify --run '^Verify/'
	hooklab conformance --profile triggerdev-v2
	hooklab conformance --declared examples/manifests/github-app.yaml --profile strict
	hooklab conformance --declared app.yaml --policy
	hooklab conformance --delivery --run '^Delivery/'
	hooklab conformance --fault no-dedup --delivery --run '^Delivery/'
	hooklab conformance --list --run FanOut`

func newConformanceCmd() *command {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	var faults faultFlags
	targetURL := fs.String("target", "", "check the implementation whose control API is at `URL` (see conformance/PROTOCOL.md)")
	wait := fs.Duration("wait", 0, "with -target, wait up to `DURATION` for the control API to come up (0: one try)")
	declared := fs.String("declared", "", "check the existing app described in manifest `FILE`")
	expectFile := fs.String("expect", "", "exit 0 when the run fails exactly the cases listed, as listed, in expectation `FILE`")
	run := fs.String("run", "", "run only the cases whose Group/Name matches `REGEXP`")
	asJSON := fs.Bool("json", false, "print the report (or, with -list, the cases) as JSON instead of text")
	junit := fs.String("junit", "", "also write the report as JUnit XML to `FILE`")
	list := fs.Bool("list", false, "list the cases without running them")
	fs.Var(&faults, "fault", "build fault `NAME` into the in-process reference (repeatable)")
	listFaults := fs.Bool("faults", false, "list the faults -fault takes, one a line as name<TAB>what it does")
	profile := fs.String("profile", "", "hold the target to profile `NAME`: strict, triggerdev-v2 or app (default: app for -declared, else strict); in process, the reference runs that profile too")
	policy := fs.Bool("policy", false, "also run the Policy cases, this project's own rules that no provider requires (reported apart; a failure exits 1)")
	delivery := fs.Bool("delivery", false, "also run the Delivery cases, for a receiver that promises idempotent delivery (a -declared manifest's delivery promise runs them too)")
	verbose := fs.Bool("v", false, "report every case, not only the failed and skipped ones")

	return &command{
		name:    "conformance",
		summary: "run the conformance suite against the reference or an implementation",
		usage:   conformanceUsage,
		fs:      fs,
		run: func(std *stdio) error {
			given := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
			if *listFaults {
				if len(given) > 1 && !(len(given) == 2 && given["profile"]) {
					return usageErrorf("-faults lists the faults and takes no other flag but -profile")
				}
				p := sim.Strict
				if *profile == conformance.ProfileTriggerDevV2 {
					p = sim.TriggerDevV2
				}
				for _, f := range fault.Of(p) {
					if _, err := fmt.Fprintf(std.stdout, "%s\t%s\n", f.Name, f.Doc); err != nil {
						return err
					}
				}
				return nil
			}
			switch {
			case *targetURL != "" && *declared != "":
				return usageErrorf("give -target or -declared, not both")
			case len(faults) > 0 && (*targetURL != "" || *declared != ""):
				return usageErrorf("-fault applies to the in-process reference only, not to -target or -declared")
			case *list && *junit != "":
				return usageErrorf("-list does not run the suite: -junit cannot be used with it")
			case *list && *expectFile != "":
				return usageErrorf("-list does not run the suite: -expect cannot be used with it")
			case given["wait"] && *targetURL == "":
				return usageErrorf("-wait applies to -target only")
			case given["profile"] && !slices.Contains(conformance.Profiles(), *profile):
				return usageErrorf("-profile %q: want one of %s", *profile, strings.Join(conformance.Profiles(), ", "))
			case *wait < 0:
				return usageErrorf("-wait %v: want a duration of 0 or more", *wait)
			}
			var sel *regexp.Regexp
			if given["run"] {
				var err error
				if sel, err = regexp.Compile(*run); err != nil {
					return usageErrorf("-run: %v", err)
				}
			}
			var cases []conformance.Case
			for _, c := range conformance.Cases() {
				// A manifest may promise delivery: Check then runs them.
				deliveryOK := *delivery || (*declared != "" && !*list)
				if (sel == nil || sel.MatchString(c.ID())) && (*policy || !c.IsPolicy()) && (deliveryOK || !c.IsDelivery()) {
					cases = append(cases, c)
				}
			}
			if len(cases) == 0 {
				if !*policy && strings.HasPrefix(strings.TrimPrefix(*run, "^"), conformance.GroupPolicy) {
					return usageErrorf("-run %q matches no case; the Policy cases run with -policy", *run)
				}
				if !*delivery && strings.HasPrefix(strings.TrimPrefix(*run, "^"), conformance.GroupDelivery) {
					return usageErrorf("-run %q matches no case; the Delivery cases run with -delivery", *run)
				}
				return usageErrorf("-run %q matches no case; 'hooklab conformance --list' lists them", *run)
			}
			if *list {
				return listCases(std.stdout, cases, *asJSON)
			}

			target, name, err := conformanceTarget(*targetURL, *declared, *profile, faults)
			if err != nil {
				return err
			}
			var expect *conformance.Expectations
			if *expectFile != "" {
				if expect, err = readExpectations(*expectFile); err != nil {
					return err
				}
			}
			var junitFile *os.File
			if *junit != "" {
				if junitFile, err = os.Create(*junit); err != nil {
					return usageErrorf("-junit: %s", pathError(err))
				}
				defer junitFile.Close()
			}

			// The first SIGINT or SIGTERM cancels the run, which still
			// reports; a second one ends the process.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				stop()
			}()
			if *targetURL != "" {
				// Is it a control API? Once, or until -wait runs out. A
				// signal meanwhile goes on to a report of interrupted
				// cases, as one during the run does.
				if err := waitControl(ctx, *targetURL, *wait, controlToken()); err != nil && ctx.Err() == nil {
					return usageErrorf("-target: %s", probeMessage(*targetURL, *wait, err))
				}
			}
			opts := []conformance.Option{conformance.Name(name)}
			if *profile != "" {
				opts = append(opts, conformance.Profile(*profile))
			}
			if *policy {
				opts = append(opts, conformance.Policy(true))
			}
			if *delivery {
				opts = append(opts, conformance.Delivery(true))
			}
			if sel != nil {
				opts = append(opts, conformance.Select(*run))
			}
			if isTerminal(std.stderr) {
				opts = append(opts, conformance.Progress(progressTo(std.stderr)))
			}
			rep, err := conformance.Check(ctx, target, opts...)
			interrupted := rep.Count(conformance.StatusInterrupted) > 0
			if err != nil && len(rep.Cases) == 0 {
				// Nothing ran: the suite could not be set up.
				return usageErrorf("%v", err)
			}

			if *asJSON {
				err = rep.WriteJSON(std.stdout)
			} else {
				err = rep.WriteText(std.stdout, *verbose)
			}
			if err != nil {
				return err
			}
			if junitFile != nil {
				if err := rep.WriteJUnit(junitFile); err != nil {
					return usageErrorf("-junit: %v", err)
				}
				if err := junitFile.Close(); err != nil {
					return usageErrorf("-junit: %s", pathError(err))
				}
			}
			if expect != nil {
				// With -json the report is stdout's one JSON value; the
				// judgment goes to stderr.
				w := std.stdout
				if *asJSON {
					w = std.stderr
				}
				j := expect.Judge(rep)
				if err := j.WriteText(w, *expectFile); err != nil {
					return err
				}
				if !interrupted {
					if len(j.Mismatches) > 0 {
						return failed
					}
					return nil
				}
			}
			if interrupted {
				return &exitError{code: exitFailed, msg: fmt.Sprintf("interrupted (%v): the %d cases that had not finished are reported as interrupted",
					context.Cause(ctx), rep.Count(conformance.StatusInterrupted))}
			}
			if rep.Count(conformance.StatusFail) > 0 {
				return failed
			}
			return nil
		},
	}
}

// conformanceTarget builds the target the flags name, and its name for
// the report.
func conformanceTarget(targetURL, declared, profile string, faults faultFlags) (conformance.Target, string, error) {
	switch {
	case targetURL != "":
		if _, err := checkControlURL(targetURL); err != nil {
			return nil, "", usageErrorf("-target: %v", err)
		}
		return conformance.HTTPTarget(targetURL, controlToken()), targetURL, nil
	case declared != "":
		t, err := conformance.Declared(declared)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				return nil, "", usageErrorf("-declared: %s", pathError(err))
			}
			return nil, "", usageErrorf("%v", err)
		}
		return t, declared, nil
	}
	// In process: the reference runs the profile it is held to (app
	// holds the strict reference to an app's rules).
	cfg, name := sim.Config{}, "reference"
	if profile == conformance.ProfileTriggerDevV2 {
		cfg.Profile, name = sim.TriggerDevV2, "reference (triggerdev-v2)"
	}
	if len(faults) > 0 {
		var err error
		if cfg, err = faults.config(cfg); err != nil {
			return nil, "", usageErrorf("-fault: %v", err)
		}
		name += " with fault " + faults.String()
	}
	return conformance.ReferenceWith(cfg), name, nil
}

// readExpectations reads -expect's file; a file that cannot be read or
// parsed is a usage error.
func readExpectations(path string) (*conformance.Expectations, error) {
	e, err := conformance.ReadExpectations(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, usageErrorf("-expect: %s", pathError(err))
		}
		return nil, usageErrorf("%v", err)
	}
	return e, nil
}

// checkControlURL checks that s is an absolute http(s) URL with a host
// and nothing after the path.
func checkControlURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil, strings.ContainsAny(s, " \t\r\n\x00"), u.Scheme != "http" && u.Scheme != "https", u.Opaque != "":
		return nil, errors.New("want an absolute http:// or https:// URL, the base of the control API")
	case u.Host == "":
		return nil, errors.New("the URL has no host")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("the URL has a query or #fragment; give the base the control API's paths are added to")
	}
	return u, nil
}

// controlToken is the control API's bearer token, from
// HOOKLAB_CONTROL_TOKEN (none when unset).
func controlToken() conformance.HTTPOption {
	return conformance.ControlToken(os.Getenv(controlTokenEnv))
}

// waitControl checks that base is a control API, so that a wrong address
// is one error rather than a failure in every case: once when wait is 0,
// else until it is or wait has passed, probing again after a pause that
// doubles from 100ms up to probeRetry. It returns the last probe's error,
// or ctx's when ctx is done first. A token refused ends the wait at once.
func waitControl(ctx context.Context, base string, wait time.Duration, token conformance.HTTPOption) error {
	if wait <= 0 {
		return conformance.ProbeControl(ctx, base, token)
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	pause := 100 * time.Millisecond
	var last error
	for {
		err := conformance.ProbeControl(ctx, base, token)
		if err == nil || errors.Is(err, conformance.ErrControlUnauthorized) {
			return err
		}
		// An attempt cut short by the end of the wait says nothing new:
		// the attempt before it says why the server is not there.
		if last != nil && ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			return last
		}
		last = err
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, probeRetry)
	}
}

// probeMessage says why base is not a control API the suite can use, from
// waitControl's error.
func probeMessage(base string, wait time.Duration, err error) string {
	var op *net.OpError
	var msg string
	switch {
	case errors.Is(err, conformance.ErrNotControlAPI):
		msg = fmt.Sprintf("%s is not a control API (conformance/PROTOCOL.md; give the base URL that /endpoints is added to): %s",
			base, strings.TrimPrefix(err.Error(), conformance.ErrNotControlAPI.Error()+": "))
	case errors.Is(err, conformance.ErrControlUnauthorized):
		msg = err.Error()
		if os.Getenv(controlTokenEnv) == "" {
			msg += "; set " + controlTokenEnv
		}
	case errors.As(err, &op) && op.Op == "dial":
		msg = "the control API cannot be reached: " + op.Error()
	case errors.Is(err, context.DeadlineExceeded):
		msg = "the control API does not answer: " + strings.TrimPrefix(err.Error(), "control API: ")
	default:
		msg = err.Error()
	}
	if wait > 0 && !errors.Is(err, conformance.ErrControlUnauthorized) {
		msg = fmt.Sprintf("after waiting %v: %s", wait, msg)
	}
	return msg
}

// listCases prints cases as "Group/Name<TAB>rule" lines, a Policy case's
// rule marked "[policy] " and a Delivery case's "[delivery] ", or as a JSON array of objects (group, name,
// rule, reference, source).
func listCases(w io.Writer, cases []conformance.Case, asJSON bool) error {
	if asJSON {
		b, err := json.MarshalIndent(cases, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	var b strings.Builder
	for _, c := range cases {
		mark := ""
		switch {
		case c.IsPolicy():
			mark = "[policy] "
		case c.IsDelivery():
			mark = "[delivery] "
		}
		fmt.Fprintf(&b, "%s\t%s%s\n", c.ID(), mark, c.Rule)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// progressTo returns a Progress callback printing one line per case to w,
// "PASS Group/Name (0.12s)"; it is safe for concurrent use.
func progressTo(w io.Writer) func(conformance.CaseResult) {
	var mu sync.Mutex
	return func(r conformance.CaseResult) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%s %s (%.2fs)\n", strings.ToUpper(string(r.Status)), r.Case.ID(), r.Duration.Seconds())
	}
}

// isTerminal reports whether w is a terminal (a character device), where
// progress lines help; in CI logs they are noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
