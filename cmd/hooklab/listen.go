package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim/inspect"
	"github.com/hooklab/hooklab/sim/listen"
	"github.com/hooklab/hooklab/sim/record"
)

// listenShutdownWait bounds the graceful shutdown of hooklab listen:
// requests in flight get this long to finish, or the delay plus the
// forward timeout and 5s when that is longer.
const listenShutdownWait = 10 * time.Second

const listenUsage = `Usage: hooklab listen [--addr HOST:PORT] [--preset NAME [--secret S]] [--forward-to URL]
                      [--respond STATUS[:P][,…]] [--delay D] [--record DIR] [--json]
                      [--ui [--ui-addr HOST:PORT] [--ui-keep N]]

Listen receives webhooks and prints one line per request as it arrives:
the method and path, the provider guessed from the headers (a header that
several presets share names the family, such as "svix family"), whether
the signature verified against --preset and --secret or why not, the
event type, and the answer. --json prints one JSON object per request
instead. Every field a request controls is quoted and escaped, so no
request can forge a line or reach the terminal as a control sequence.
Headers, bodies and secrets are never printed.

--forward-to URL sends every request, byte for byte (hop-by-hop headers
dropped, nothing added), to your app, and answers the sender with the
app's answer (502 when it gives none, 504 after --forward-timeout); a URL
without a path keeps the request's path. A URL written host[:port][/path]
means http://.

--respond fails on purpose, to test a sender's retries: "503" answers
every request 503, "503:0.25" one in four, "500:0.1,429:0.2" shares one
draw per request; a request failed on purpose is not forwarded. --seed
makes the draw repeatable. --delay waits before every answer.

--record DIR writes each request as DIR/NNNNNN.http (raw HTTP, exactly the
bytes received) with NNNNNN.json beside it (when, from where, provider,
event, verified, answer). verify --request and match --request read
either file, and hooklab replay reads the directory.

Listen is also a sink for hooklab serve: a trigger whose deliver URL points
here shows as "delivery=ENDPOINT/TRIGGER" with the original request's
provider, event and the ingress's verdict. The example specs' triggers
deliver to http://127.0.0.1:9999/, listen's default address.

--ui serves the web inspector under /_hooklab/ (--ui-addr HOST:PORT: on a
listener of its own) and prints its URL on stderr ("inspector:
http://HOST:PORT/_hooklab/"): the last --ui-keep requests (default 1000),
live, with the provider, verified or why not, the event and the answer.
It refuses a non-loopback address unless HOOKLAB_CONTROL_TOKEN is set;
then open it with ?token=T (which sets a cookie) or send
"Authorization: Bearer T".

It binds 127.0.0.1 unless --addr says otherwise. SIGINT or SIGTERM stops
it: requests in flight finish (and are recorded), then a summary line
goes to stderr.

Exit codes: 0 stopped by a signal, 1 the server failed, 2 bad usage or an
address that cannot be listened on.

Examples:

	hooklab listen
	hooklab listen --preset stripe --secret-env STRIPE_WEBHOOK_SECRET --forward-to localhost:3000/webhooks
	hooklab listen --respond 503:0.3 --delay 2s --record captures
	hooklab listen --addr 127.0.0.1:4000 --json | jq .event
	hooklab listen --preset github --secret-env GITHUB_WEBHOOK_SECRET --ui

	# what each trigger of a spec receives:
	hooklab serve --spec examples/specs/github.yaml     # in one shell
	hooklab listen                                       # in another`

func newListenCmd() *command {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	var (
		secrets    secretFlags
		nowFlag    unixFlag
		tolerance  durationFlag
		delay      durationFlag
		fwdTimeout = durationFlag{d: listen.DefaultForwardTimeout}
		forwardTo  stringFlag
		respond    stringFlag
	)
	addr := fs.String("addr", listen.DefaultAddr, "listen on `HOST:PORT`; port 0 picks a free port")
	preset := fs.String("preset", "", "verify as preset `NAME` (see hooklab presets); without a secret it only names the provider")
	secrets.register(fs, "to verify with (the public key for asymmetric presets)")
	fs.Var(&nowFlag, "now", "check timestamps against `UNIX_SECONDS` instead of the clock")
	fs.Var(&tolerance, "tolerance", "accept timestamps within `DURATION` (0 turns the check off; default the preset's)")
	fs.Var(&forwardTo, "forward-to", "forward every request to `URL` and answer with its answer (http:// when written host[:port][/path])")
	fs.Var(&fwdTimeout, "forward-timeout", "give the app `DURATION` to answer a forward")
	fs.Var(&respond, "respond", "fail on purpose: answer `STATUS[:PROBABILITY][,…]` (such as 503:0.25) instead")
	fs.Var(&delay, "delay", "wait `DURATION` before every answer")
	seed := fs.Int64("seed", listen.DefaultSeed, "seed the draw of -respond")
	recordDir := fs.String("record", "", "record every request to directory `DIR` (NNNNNN.http and NNNNNN.json)")
	asJSON := fs.Bool("json", false, "print one JSON object per request instead of a line of text")
	maxBody := fs.Int64("max-body", listen.DefaultMaxBody, "answer 413 to bodies longer than `BYTES`")
	ui := addUIFlags(fs)

	return &command{
		name:    "listen",
		summary: "receive webhooks: a line per request (provider, verified, event), forward, fail on purpose, record",
		usage:   listenUsage,
		fs:      fs,
		run: func(std *stdio) error {
			opts, err := listenOptions(std, *preset, &secrets, nowFlag, tolerance)
			if err != nil {
				return err
			}
			if *maxBody <= 0 {
				return usageErrorf("-max-body: want a positive number of bytes")
			}
			opts = append(opts, listen.MaxBody(*maxBody), listen.Seed(*seed), listen.Delay(delay.d))
			var notes []string
			if forwardTo.set {
				target, _, err := parseTarget(forwardTo.value)
				if err != nil {
					return usageErrorf("-forward-to: %v", err)
				}
				opts = append(opts, listen.Forward(target), listen.ForwardTimeout(fwdTimeout.d))
				notes = append(notes, "forwarding to "+target)
			}
			if respond.set {
				faults, err := listen.ParseFaults(respond.value)
				if err != nil {
					return usageErrorf("-respond: %v", strings.TrimPrefix(err.Error(), "listen: "))
				}
				opts = append(opts, listen.Respond(faults...))
				notes = append(notes, "failing on purpose "+respond.value)
			}
			if *recordDir != "" {
				w, err := record.NewWriter(*recordDir)
				if err != nil {
					return usageErrorf("-record: %v", pathError(err))
				}
				opts = append(opts, listen.Record(w))
				notes = append(notes, "recording to "+*recordDir)
			}
			format := listen.Text
			if *asJSON {
				format = listen.JSONLines
			}
			opts = append(opts, listen.Output(std.stdout, format))
			store, err := ui.store()
			if err != nil {
				return err
			}
			if store != nil {
				opts = append(opts, listen.OnEntry(store.Listen))
			}
			rcv, err := listen.New(opts...)
			if err != nil {
				return usageErrorf("%s", strings.TrimPrefix(err.Error(), "listen: "))
			}

			listenAddr, loopback, err := resolveServeAddr(*addr)
			if err != nil {
				return usageErrorf("-addr: %v", err)
			}
			ln, err := net.Listen(listenNetwork(listenAddr), listenAddr)
			if err != nil {
				return usageErrorf("-addr: %v", err)
			}
			t := defaultServeTimeouts
			// The answer may wait for the delay and for the app.
			if need := delay.d + fwdTimeout.d + 30*time.Second; t.write < need {
				t.write = need
			}
			h, stopUI, err := ui.mount(std, rcv, ln.Addr(), *addr, loopback, inspect.Config{Store: store, Title: "hooklab listen", Token: os.Getenv(controlTokenEnv)})
			if err != nil {
				ln.Close()
				return err
			}
			defer stopUI()
			srv := newServeServer(h, t)
			if *preset != "" {
				notes = append([]string{"verifying as " + *preset}, notes...)
			}
			start := "hooklab listen: listening on http://" + ln.Addr().String()
			if len(notes) > 0 {
				start += "; " + strings.Join(notes, "; ")
			}
			fmt.Fprintln(std.stderr, start)

			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			select {
			case err := <-served:
				return &exitError{code: exitFailed, msg: err.Error()}
			case <-ctx.Done():
			}
			stop() // a second signal ends the process at once
			// A request in flight may be waiting for the delay and the app.
			wait := listenShutdownWait
			if forwardTo.set {
				wait = max(wait, delay.d+fwdTimeout.d+5*time.Second)
			}
			sctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			err = srv.Shutdown(sctx)
			fmt.Fprintln(std.stderr, "hooklab listen: "+rcv.Stats().Summary())
			if err != nil {
				return &exitError{code: exitFailed, msg: "shutdown: " + err.Error()}
			}
			return nil
		},
	}
}

// listenOptions turns --preset, the secret flags, --now and --tolerance
// into the Receiver's verification.
func listenOptions(std *stdio, preset string, secrets *secretFlags, now unixFlag, tolerance durationFlag) ([]listen.Option, error) {
	if preset == "" {
		switch {
		case secrets.given():
			return nil, usageErrorf("a secret needs -preset NAME to verify with (see hooklab presets)")
		case now.set, tolerance.set:
			return nil, usageErrorf("-now and -tolerance apply to verification: give -preset and a secret")
		}
		return nil, nil
	}
	scheme, err := signer.Preset(preset)
	if err != nil {
		return nil, usageErrorf("-preset: %v", strings.TrimPrefix(err.Error(), "signer: "))
	}
	var keys signer.KeySet
	if secrets.given() {
		var notes []string
		if keys, notes, err = secrets.keys(); err != nil {
			return nil, err
		}
		for _, n := range notes {
			fmt.Fprintf(std.stderr, "hooklab listen: warning: %s\n", n)
		}
		if len(keys) == 1 && keys[0].IsZero() {
			return nil, usageErrorf("the secret is empty: nothing could verify")
		}
	} else if now.set || tolerance.set {
		return nil, usageErrorf("-now and -tolerance apply to verification: give a secret too")
	}
	var vopts []signer.Option
	if now.set {
		vopts = append(vopts, signer.At(now.t))
	}
	if tolerance.set {
		vopts = append(vopts, signer.Tolerance(tolerance.d))
	}
	return []listen.Option{listen.Verify(scheme, keys, vopts...)}, nil
}
