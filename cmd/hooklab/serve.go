package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hooklab/hooklab/sim"
)

// Defaults of hooklab serve.
const (
	defaultServeAddr = "127.0.0.1:8080"
	// serveShutdownWait bounds the graceful shutdown after SIGINT or
	// SIGTERM: requests in flight get this long to finish.
	serveShutdownWait = 10 * time.Second
)

const serveUsage = `Usage: hooklab serve [--spec FILE] [--addr HOST:PORT] [--control] [--fault NAME]...

Serve runs the reference webhook ingress: every endpoint of spec FILE (JSON
or YAML: one EndpointSpec, a list of them, or {"endpoints": [...]}) is
served at /hooks/<id>, verified, answered and fanned out to its triggers
exactly as the conformance suite expects (the strict profile of
conformance/PROTOCOL.md). --control adds the control API, so that
endpoints can be created and removed over HTTP:

	POST   /endpoints       an EndpointSpec in JSON → 201 {"id", "url"}
	DELETE /endpoints/{id}  → 204, or 404 for an unknown id
	GET    /endpoints       → 200 {"endpoints": [ids]}

The first line on stdout says where it listens ("hooklab serve: listening
on http://HOST:PORT"), which endpoints it serves and where the control API
is; --addr 127.0.0.1:0 picks a free port. Then each request is logged on
one line to stderr (method, path, status, what happened, duration; never a
secret or a body). SIGINT or SIGTERM stops it gracefully: requests in
flight finish and pending deliveries are cancelled.

--fault builds a named defect into the ingress (see 'hooklab conformance
--faults'), to check that a conformance runner catches it.

Exit codes: 0 stopped by a signal, 1 the server failed, 2 bad usage, an
invalid spec file (the error names file:line: path) or an address that
cannot be listened on.

Examples:

	hooklab serve --spec hooks.yaml
	hooklab serve --control --addr 127.0.0.1:0
	hooklab serve --control --fault skip-verify

	# the control API, checked by the conformance suite over HTTP:
	hooklab serve --control --addr 127.0.0.1:8080    # in one shell
	hooklab conformance --target http://127.0.0.1:8080   # in another`

func newServeCmd() *command {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var faults faultFlags
	spec := fs.String("spec", "", "serve the endpoints of spec `FILE` (JSON or YAML)")
	addr := fs.String("addr", defaultServeAddr, "listen on `HOST:PORT`; port 0 picks a free port")
	control := fs.Bool("control", false, "serve the control API at "+sim.ControlPath+" (create and remove endpoints over HTTP)")
	fs.Var(&faults, "fault", "build in fault `NAME` (repeatable; 'hooklab conformance --faults' lists them)")

	return &command{
		name:    "serve",
		summary: "run the reference webhook ingress, from a spec file or the control API",
		usage:   serveUsage,
		fs:      fs,
		run: func(std *stdio) error {
			if *spec == "" && !*control {
				return usageErrorf("nothing to serve: give -spec FILE, -control, or both")
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
			}
			log := slog.New(newLineHandler(std.stderr))
			cfg, err := faults.config(sim.Config{Log: log})
			if err != nil {
				return usageErrorf("-fault: %v", err)
			}
			in, err := sim.NewIngress(cfg, specs...)
			if err != nil {
				return usageErrorf("%v", err)
			}
			ln, err := net.Listen("tcp", *addr)
			if err != nil {
				in.Close()
				return usageErrorf("-addr: %v", err)
			}
			base := "http://" + ln.Addr().String()
			srv := &http.Server{
				Handler:           logOthers(sim.Handler(in, *control), log),
				ReadHeaderTimeout: 30 * time.Second,
			}

			if _, err := fmt.Fprintln(std.stdout, startLine(base, specs, *control)); err != nil {
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

// startLine is the first line serve prints: where it listens, the
// endpoints it serves and the control API.
//
//	hooklab serve: listening on http://127.0.0.1:8080; endpoints /hooks/github, /hooks/stripe; control API http://127.0.0.1:8080/endpoints
func startLine(base string, specs []sim.EndpointSpec, control bool) string {
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
		}
	}
	if control {
		fmt.Fprintf(&b, "; control API %s%s", base, sim.ControlPath)
	}
	return b.String()
}

// logOthers logs, one line each, the requests the Ingress does not log
// itself: the control API's and those to paths that name no endpoint.
func logOthers(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, sim.PathPrefix) {
			h.ServeHTTP(w, r) // the Ingress logs it
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		log.Info(r.Method+" "+r.URL.Path, "status", sw.status, "took", time.Since(start).Round(time.Microsecond))
	})
}

// statusWriter records the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// lineHandler is a compact slog.Handler: one line per record, the time
// (to the millisecond), the level unless INFO, the message, then the
// attributes as key=value, values quoted when they hold a space. It is
// safe for concurrent use.
type lineHandler struct {
	mu     *sync.Mutex
	w      io.Writer
	attrs  []slog.Attr
	prefix string // group prefix for attributes added later, "g." or ""
}

func newLineHandler(w io.Writer) *lineHandler { return &lineHandler{mu: new(sync.Mutex), w: w} }

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	if !r.Time.IsZero() {
		b.WriteString(r.Time.Format("15:04:05.000") + " ")
	}
	if r.Level != slog.LevelInfo {
		b.WriteString(r.Level.String() + " ")
	}
	b.WriteString(r.Message)
	for _, a := range h.attrs {
		writeAttr(&b, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, h.prefix, a)
		return true
	})
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range as {
		a.Key = h.prefix + a.Key
		h2.attrs = append(h2.attrs, a)
	}
	return &h2
}

func (h *lineHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	return &h2
}

// writeAttr writes " key=value"; empty values and attributes are left out.
func writeAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix + a.Key + "."
		if a.Key == "" {
			p = prefix
		}
		for _, g := range a.Value.Group() {
			writeAttr(b, p, g)
		}
		return
	}
	v := a.Value.String()
	if v == "" {
		return
	}
	if strings.ContainsAny(v, " \t\r\n\"=") || !strconv.CanBackquote(v) {
		v = strconv.Quote(v)
	}
	b.WriteString(" " + prefix + a.Key + "=" + v)
}
