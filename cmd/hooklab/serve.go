package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/inspect"
)

// Defaults of hooklab serve.
const (
	defaultServeAddr = "127.0.0.1:8080"
	// serveShutdownWait bounds the graceful shutdown after SIGINT or
	// SIGTERM: requests in flight get this long to finish.
	serveShutdownWait = 10 * time.Second
	// controlTokenEnv is the environment variable --control-token
	// defaults to.
	controlTokenEnv = "HOOKLAB_CONTROL_TOKEN"
	// serveResolveWait bounds the lookup of a host name in --addr.
	serveResolveWait = 5 * time.Second
)

// serveTimeouts are the timeouts of serve's http.Server: a client gets
// readHeader to send a request's header and read to send all of it, body
// included; write bounds the time from the end of the header to the end
// of the answer; a keep-alive connection idle for idle is closed.
type serveTimeouts struct{ readHeader, read, write, idle time.Duration }

// defaultServeTimeouts are those serve runs with (and -h states).
var defaultServeTimeouts = serveTimeouts{readHeader: 10 * time.Second, read: 60 * time.Second, write: 90 * time.Second, idle: 60 * time.Second}

const serveUsage = `Usage: hooklab serve [--spec FILE] [--addr HOST:PORT] [--control [--control-token T]]
                     [--ui [--ui-addr HOST:PORT] [--ui-keep N]] [--profile NAME] [--allow-deliver-host HOST]... [--fault NAME]...

Serve runs the reference webhook ingress: every endpoint of spec FILE (JSON
or YAML: one EndpointSpec, a list of them, or {"endpoints": [...]}) is
served at /hooks/<id>, verified, answered and fanned out to its triggers
exactly as the conformance suite expects (the strict profile of
conformance/PROTOCOL.md). --control adds the control API, so that
endpoints can be created and removed over HTTP:

	POST   /endpoints       an EndpointSpec in JSON → 201 {"id", "url"}
	DELETE /endpoints/{id}  → 204, or 404 for an unknown id
	GET    /endpoints       → 200 {"endpoints": [ids]}

The control API lets whoever reaches it make the ingress POST to URLs of
their choosing, so --control refuses an --addr that is not loopback
unless a token is set with --control-token T or the environment variable
HOOKLAB_CONTROL_TOKEN (prefer the variable: a flag shows in the process
list). With a token, every control request must carry "Authorization:
Bearer T", or it is answered 401. The token is never printed or logged.
The "url" of a created endpoint is built from the address the request
came in on, never from its Host header.

--addr is HOST:PORT with HOST an IP address or a name that resolves
(it listens on the first address, IPv4 preferred); an empty HOST
(":8080") means every interface, which is not loopback.

A trigger's "deliver" URL may name a loopback host only, unless
--allow-deliver-host HOST (repeatable) allows that host too.

Before it listens, serve sends each example of the spec (an endpoint's
"examples") to its own endpoint in process, delivering to no trigger's
URL, and prints on stderr one line per example: the triggers it wakes,
or why it was rejected. An example its endpoint rejects exits 2.

The first line on stdout says where it listens ("hooklab serve: listening
on http://HOST:PORT"), which endpoints it serves and where the control API
is; --addr 127.0.0.1:0 picks a free port. Then each request is logged on
one line to stderr (method, path, status, what happened, duration; never a
secret or a body); a field with a space, a quote, "=", a control character
or invalid UTF-8 is quoted and escaped, so no request can forge a line.
A client gets 10s to send a request's header and 60s for all of it; an
answer must be written within 90s; a connection idle for 60s is closed.
SIGINT or SIGTERM stops it gracefully: requests in flight finish and
pending deliveries are cancelled.

--profile picks the behaviour (default strict, what the conformance suite
checks); triggerdev-v2 behaves as Trigger.dev v2 ships: the sender gets
200 with an empty body unless respondWith answers, each run verifies on
its own and its delivery says whether it verified, and triggers match
with the dispatcher's rules (see 'go doc sim.TriggerDevV2'). The Flags
section lists the profiles.

--ui serves the web inspector under /_hooklab/ on the same listener
(--ui-addr HOST:PORT: on a listener of its own) and prints its URL on
stderr ("inspector: http://HOST:PORT/_hooklab/"): the endpoints with their
URLs, secrets (masked until revealed) and examples to send, and the last
--ui-keep requests (default 1000), live, with the signature check and
why each trigger fired or not. Like the control API it refuses a
non-loopback address unless a token is set; with one, open it with
?token=T (which sets a cookie) or send "Authorization: Bearer T".

--fault builds a named defect into the ingress (see 'hooklab conformance
--faults'), to check that a conformance runner catches it.

Exit codes: 0 stopped by a signal, 1 the server failed, 2 bad usage, an
invalid spec file or one with an example its endpoint rejects (the error names file:line: path), an invalid address
or one that cannot be listened on, or --control on a non-loopback address
without a token.

Examples:

	hooklab serve --spec hooks.yaml
	hooklab serve --control --addr 127.0.0.1:0
	hooklab serve --control --fault skip-verify
	HOOKLAB_CONTROL_TOKEN=$(openssl rand -hex 16) hooklab serve --control --addr 0.0.0.0:8080
	hooklab serve --spec hooks.yaml --allow-deliver-host receiver.internal
	hooklab serve --spec examples/specs/handshakes.yaml --ui

	# the control API, checked by the conformance suite over HTTP:
	hooklab serve --control --addr 127.0.0.1:8080    # in one shell
	hooklab conformance --target http://127.0.0.1:8080   # in another`

func newServeCmd() *command {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var (
		faults       faultFlags
		token        tokenFlag
		deliverHosts hostFlags
	)
	spec := fs.String("spec", "", "serve the endpoints of spec `FILE` (JSON or YAML)")
	addr := fs.String("addr", defaultServeAddr, "listen on `HOST:PORT`; port 0 picks a free port")
	control := fs.Bool("control", false, "serve the control API at "+sim.ControlPath+" (create and remove endpoints over HTTP)")
	fs.Var(&token, "control-token", "require `TOKEN` as a bearer token on the control API (default: $"+controlTokenEnv+"); needed for a non-loopback -addr")
	fs.Var(&deliverHosts, "allow-deliver-host", "let deliver URLs name `HOST` besides loopback (repeatable)")
	fs.Var(&faults, "fault", "build in fault `NAME` (repeatable; 'hooklab conformance --faults' lists them)")
	profile := fs.String("profile", string(sim.Strict), "behave as profile `NAME`: "+profileList())
	ui := addUIFlags(fs)

	return &command{
		name:    "serve",
		summary: "run the reference webhook ingress, from a spec file or the control API",
		usage:   serveUsage,
		fs:      fs,
		run: func(std *stdio) error {
			if *spec == "" && !*control {
				return usageErrorf("nothing to serve: give -spec FILE, -control, or both")
			}
			if token.set && !*control && !*ui.on {
				return usageErrorf("-control-token is for the control API and the inspector: give -control or -ui too")
			}
			tok := token.value
			if !token.set {
				tok = os.Getenv(controlTokenEnv)
			}
			if err := checkControlToken(tok); err != nil {
				src := "-control-token"
				if !token.set {
					src = controlTokenEnv
				}
				return usageErrorf("%s: %v", src, err)
			}
			listenAddr, loopback, err := resolveServeAddr(*addr)
			if err != nil {
				return usageErrorf("-addr: %v", err)
			}
			if *control && !loopback && tok == "" {
				return usageErrorf("-control on %s, which is not a loopback address, would let anyone who reaches it make this server POST anywhere: set -control-token or %s, or listen on 127.0.0.1", *addr, controlTokenEnv)
			}
			var specs []sim.EndpointSpec
			if *spec != "" {
				var err error
				if specs, err = sim.LoadSpecs(*spec); err != nil {
					var pe *os.PathError
					if errors.As(err, &pe) {
						return usageErrorf("-spec: %s", pathError(err))
					}
					return usageErrorf("%v", err)
				}
				if err := sim.CheckExampleFixtures(*spec, specs, lookupFixture); err != nil {
					return usageErrorf("%v", err)
				}
			}
			log := slog.New(sim.NewLogHandler(std.stderr))
			if _, ok := sim.Profiles()[sim.Profile(*profile)]; !ok {
				return usageErrorf("-profile: unknown profile %q (want %s)", *profile, profileNames())
			}
			// A spec whose own examples its endpoints reject is a bad spec.
			if ok, err := checkExamples(std.stderr, specs, sim.Profile(*profile)); err != nil {
				return usageErrorf("%v", err)
			} else if !ok {
				return usageErrorf("%s: an example is rejected by its own endpoint (see above)", *spec)
			}
			store, err := ui.store()
			if err != nil {
				return err
			}
			scfg := sim.Config{Profile: sim.Profile(*profile), Log: log, DeliverHosts: deliverHosts}
			if store != nil {
				scfg.Observer = store
			}
			cfg, err := faults.config(scfg)
			if err != nil {
				return usageErrorf("-fault: %v", err)
			}
			in, err := sim.NewIngress(cfg, specs...)
			if err != nil {
				return usageErrorf("%v", err)
			}
			ln, err := net.Listen(listenNetwork(listenAddr), listenAddr)
			if err != nil {
				in.Close()
				return usageErrorf("-addr: %v", err)
			}
			base := "http://" + ln.Addr().String()
			h := sim.Handler(in)
			if *control {
				h = sim.ControlHandler(in, tok)
			}
			h, stopUI, err := ui.mount(std, h, ln.Addr(), *addr, loopback, inspect.Config{Store: store, Specs: in.Specs, Target: base,
				Token: tok, Example: exampleFor, Title: "hooklab serve"})
			if err != nil {
				ln.Close()
				in.Close()
				return err
			}
			defer stopUI()
			srv := newServeServer(h, defaultServeTimeouts)

			if _, err := fmt.Fprintln(std.stdout, startLine(base, specs, *control, tok != "")); err != nil {
				ln.Close()
				in.Close()
				return err
			}
			if len(faults) > 0 {
				fmt.Fprintf(std.stderr, "hooklab serve: warning: built with fault %s: this ingress is deliberately not conformant\n", faults.String())
			}

			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			select {
			case err := <-served:
				in.Close()
				return &exitError{code: exitFailed, msg: err.Error()}
			case <-ctx.Done():
			}
			// A second signal now ends the process at once.
			stop()
			fmt.Fprintln(std.stderr, "hooklab serve: shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), serveShutdownWait)
			defer cancel()
			err = srv.Shutdown(sctx)
			in.Close()
			if err != nil {
				return &exitError{code: exitFailed, msg: "shutdown: " + err.Error()}
			}
			fmt.Fprintln(std.stderr, "hooklab serve: stopped")
			return nil
		},
	}
}

// newServeServer is serve's http.Server for h, with timeouts t.
func newServeServer(h http.Handler, t serveTimeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
	}
}

// resolveServeAddr checks that addr is HOST:PORT and returns the address
// to listen on and whether it is loopback. A HOST that is not an IP
// address is resolved and replaced by its first address (IPv4 first),
// so that the address checked is the one listened on; an empty HOST is
// every interface, not loopback. Its errors name addr, never anything
// else from the command line.
func resolveServeAddr(addr string) (listen string, loopback bool, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false, fmt.Errorf("%q is not HOST:PORT: %v", addr, strings.TrimPrefix(err.Error(), "address "+addr+": "))
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil || (len(port) > 1 && port[0] == '0') {
		return "", false, fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	if host == "" {
		return addr, false, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return addr, ip.IsLoopback(), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), serveResolveWait)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return "", false, fmt.Errorf("%q: host %q does not resolve; give an IP address such as 127.0.0.1", addr, host)
	}
	slices.SortStableFunc(ips, func(a, b netip.Addr) int {
		// IPv4 first.
		return cmp.Compare(boolInt(!a.Unmap().Is4()), boolInt(!b.Unmap().Is4()))
	})
	ip := ips[0].Unmap()
	return net.JoinHostPort(ip.String(), port), ip.IsLoopback(), nil
}

// listenNetwork is "tcp4" for an IPv4 address, so that 0.0.0.0 listens
// on (and reports) IPv4 only, and "tcp" otherwise.
func listenNetwork(addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	if ip, err := netip.ParseAddr(host); err == nil && ip.Is4() {
		return "tcp4"
	}
	return "tcp"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkControlToken checks a control token ("" means none): printable
// ASCII without spaces, so that it fits an Authorization header. Its
// errors never quote the token.
func checkControlToken(tok string) error {
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c <= ' ' || c >= 0x7f {
			return errors.New("the token must be printable ASCII without spaces")
		}
	}
	return nil
}

// tokenFlag is --control-token. Like the secret flags, its String is
// always empty and its Set never fails, so neither -h nor the flag
// package's errors can print the token.
type tokenFlag struct {
	value string
	set   bool
}

// String is always empty: the token is never printed.
func (*tokenFlag) String() string { return "" }

// Set records the token; an empty one is an error found later, by run.
func (f *tokenFlag) Set(s string) error {
	f.value, f.set = s, true
	return nil
}

// hostFlags collects repeated --allow-deliver-host HOST flags.
type hostFlags []string

// String lists the hosts, comma-separated.
func (f *hostFlags) String() string {
	if f == nil {
		return ""
	}
	return strings.Join(*f, ", ")
}

// Set adds a host: a name or an IP address, without scheme, port or path.
func (f *hostFlags) Set(s string) error {
	h := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	switch {
	case h == "":
		return errors.New("empty host")
	case strings.Contains(s, "://"):
		return errors.New("want a host, not a URL")
	case strings.ContainsAny(h, "/?#@ \t\r\n"):
		return errors.New("want a host name or an IP address")
	}
	if _, err := netip.ParseAddr(h); err != nil {
		if strings.Contains(h, ":") {
			return errors.New("want a host without a port")
		}
	}
	*f = append(*f, h)
	return nil
}

// startLine is the first line serve prints: where it listens, the
// endpoints it serves (with where each that de-duplicates reads the
// event id) and the control API.
//
//	hooklab serve: listening on http://127.0.0.1:8080; endpoints /hooks/github, /hooks/stripe; control API http://127.0.0.1:8080/endpoints
func startLine(base string, specs []sim.EndpointSpec, control, token bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "hooklab serve: listening on %s; ", base)
	switch len(specs) {
	case 0:
		b.WriteString("no endpoints")
	default:
		b.WriteString("endpoints ")
		for i, s := range specs {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(sim.PathPrefix + s.ID)
			if s.Dedup != nil {
				if src, err := s.Dedup.Source(s.Verify); err == nil {
					b.WriteString(" (dedup by " + src.String() + ")")
				}
			}
		}
	}
	if control {
		fmt.Fprintf(&b, "; control API %s%s", base, sim.ControlPath)
		if token {
			b.WriteString(" (bearer token required)")
		}
	}
	return b.String()
}

// profileNames lists the profiles' names, sorted and comma-separated.
func profileNames() string {
	var names []string
	for p := range sim.Profiles() {
		names = append(names, string(p))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// profileList lists the profiles with what each is, for -h.
func profileList() string {
	ps := sim.Profiles()
	var names []string
	for p := range ps {
		names = append(names, string(p))
	}
	sort.Strings(names)
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(n + " (" + ps[sim.Profile(n)] + ")")
	}
	return b.String()
}
