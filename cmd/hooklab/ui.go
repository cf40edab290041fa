package main

// --ui, --ui-addr and --ui-keep of serve and listen: the web inspector
// (package sim/inspect).

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/inspect"
)

// uiFlags are the inspector's flags.
type uiFlags struct {
	on   *bool
	addr *string
	keep *int
}

func addUIFlags(fs *flag.FlagSet) *uiFlags {
	return &uiFlags{
		on:   fs.Bool("ui", false, "serve the web inspector at "+inspect.Prefix+" (loopback only unless $"+controlTokenEnv+" is set)"),
		addr: fs.String("ui-addr", "", "serve the inspector on its own listener at `HOST:PORT` instead of the main one"),
		keep: fs.Int("ui-keep", inspect.DefaultKeep, "keep the last `N` requests in the inspector"),
	}
}

// store checks the flags and returns the inspector's store, nil without
// --ui.
func (u *uiFlags) store() (*inspect.Store, error) {
	if !*u.on {
		if *u.addr != "" {
			return nil, usageErrorf("-ui-addr is for the inspector: give -ui too")
		}
		return nil, nil
	}
	if *u.keep <= 0 || *u.keep > 1_000_000 {
		return nil, usageErrorf("-ui-keep: want a number of requests from 1 to 1000000")
	}
	return inspect.NewStore(*u.keep, 0), nil
}

// mount serves the inspector: on the main listener, at mainAddr (given
// on the command line as given; main handles every other path) or on its own at --ui-addr. It returns the handler
// to serve on the main listener and a function that stops the
// inspector's own listener. It refuses a non-loopback address without a
// token, as serve's control API does.
func (u *uiFlags) mount(std *stdio, main http.Handler, mainAddr net.Addr, given string, mainLoopback bool, cfg inspect.Config) (http.Handler, func(), error) {
	if cfg.Store == nil {
		return main, func() {}, nil
	}
	refuse := func(addr string) error {
		return usageErrorf("-ui on %s, which is not a loopback address, would show every request and the secrets to anyone who reaches it: set %s or listen on 127.0.0.1", addr, controlTokenEnv)
	}
	ui := inspect.Handler(cfg)
	if *u.addr == "" {
		if !mainLoopback && cfg.Token == "" {
			return nil, nil, refuse(given)
		}
		fmt.Fprintf(std.stderr, "inspector: %s%s\n", baseURL(mainAddr), inspect.Prefix)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == strings.TrimSuffix(inspect.Prefix, "/") || strings.HasPrefix(r.URL.Path, inspect.Prefix) {
				ui.ServeHTTP(w, r)
				return
			}
			main.ServeHTTP(w, r)
		}), func() {}, nil
	}
	addr, loopback, err := resolveServeAddr(*u.addr)
	if err != nil {
		return nil, nil, usageErrorf("-ui-addr: %v", err)
	}
	if !loopback && cfg.Token == "" {
		return nil, nil, refuse(*u.addr)
	}
	ln, err := net.Listen(listenNetwork(addr), addr)
	if err != nil {
		return nil, nil, usageErrorf("-ui-addr: %v", err)
	}
	t := defaultServeTimeouts
	srv := newServeServer(ui, t)
	go srv.Serve(ln)
	fmt.Fprintf(std.stderr, "inspector: %s%s\n", baseURL(ln.Addr()), inspect.Prefix)
	return main, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close()
	}, nil
}

func baseURL(a net.Addr) string { return "http://" + a.String() }

// exampleFor is inspect.Config.Example: the request send --spec --example
// sends.
func exampleFor(ctx context.Context, spec sim.EndpointSpec, id, target string) (*http.Request, error) {
	e, ok := spec.Example(id)
	if !ok {
		return nil, fmt.Errorf("endpoint %s has no example %q", spec.ID, id)
	}
	return exampleRequest(ctx, spec, e, target, time.Now().UnixNano(), time.Now())
}
