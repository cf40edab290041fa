package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/load"
	"github.com/hooklab/hooklab/sim/load/view"
)

const reportUsage = `Usage: hooklab report [--ui [--ui-addr HOST:PORT]] [--json] [--plot FILE] [--partial] REPORT.json…

Report shows a saved load report: the --json output of hooklab load, or
of hooklab load merge. It prints the text report (or, with --json, the
report as one JSON object) and --plot FILE writes latency over time as a
self-contained HTML page. Several files are merged first, as hooklab load
merge does: the shards of one run, each once, all of them (or, with
--partial, those there are).

--ui serves the load view of the report, the page hooklab load --ui
shows when its run is done, on --ui-addr (default 127.0.0.1 and a free
port; loopback only), prints "inspector: URL" on stderr and serves until
Ctrl-C. Flags may come before or after the files.

Exit codes: 0 the report was shown (whatever its figures), 2 bad usage, a
file that is not a load report (the error names the file, and the line
and column of a JSON error) or reports that do not merge (the error
names the file and why).

Examples:

	hooklab load --to http://127.0.0.1:8080/hooks/gh --fixture github/push --secret s3cret --rate 100 --duration 10s --json > run.json
	hooklab report --ui run.json
	hooklab report --ui --ui-addr 127.0.0.1:8089 shard1.json shard2.json`

func newReportCmd() *command {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	var f reportFlags
	f.ui = fs.Bool("ui", false, "serve the load view of the report (a web page) until Ctrl-C")
	f.uiAddr = fs.String("ui-addr", "", "with -ui: listen on `HOST:PORT`, a loopback address (default 127.0.0.1 and a free port)")
	f.json = fs.Bool("json", false, "print the report as one JSON object")
	f.plot = fs.String("plot", "", "write latency over time to `FILE` (a self-contained HTML page)")
	f.partial = fs.Bool("partial", false, "when merging several reports: merge the shards there are when some are missing (the report says which)")
	return &command{
		name:    "report",
		summary: "show a saved load report: text, JSON, an HTML plot, or the load view in a browser (--ui)",
		usage:   reportUsage,
		fs:      fs,
		args:    "REPORT.json…",
		run: func(std *stdio) error {
			// The flags are parsed again with the files, so that they may
			// come after them (as load merge takes them).
			return runReport(std, fs, &f, std.args)
		},
	}
}

// reportFlags are report's flags.
type reportFlags struct {
	ui, json, partial *bool
	uiAddr, plot      *string
}

// runReport is "hooklab report": fs has been parsed up to the first
// file; args are the rest.
func runReport(std *stdio, fs *flag.FlagSet, f *reportFlags, args []string) error {
	files := []string{}
	for rest := args; len(rest) > 0; rest = fs.Args()[1:] {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				cmdUsage(std.stdout, newReportCmd())
				return nil
			}
			return usageErrorf("%v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
	}
	ui, uiAddr, plot, asJSON := *f.ui, *f.uiAddr, *f.plot, *f.json
	if uiAddr != "" && !ui {
		return usageErrorf("-ui-addr goes with -ui")
	}
	if len(files) == 0 {
		return usageErrorf("no report: give the file hooklab load --json wrote")
	}
	listen := ""
	if ui {
		// Checked before anything is printed.
		var err error
		if listen, err = uiListenAddr(uiAddr); err != nil {
			return err
		}
	}
	reps, err := readReports(files)
	if err != nil {
		return usageErrorf("%v", err)
	}
	rep := reps[0]
	title := "hooklab report: " + files[0]
	if len(reps) > 1 {
		if rep, err = load.MergeReportsWith(load.MergeOptions{Partial: *f.partial}, reps...); err != nil {
			return usageErrorf("%v", err)
		}
		title = fmt.Sprintf("hooklab report: %d merged reports", len(reps))
	}
	if rep.RunID != "" {
		title += " (run " + rep.RunID + ")"
	}
	if err := writeLoadReports(std, rep, asJSON, plot); err != nil {
		return err
	}
	if !ui {
		return nil
	}
	// Ctrl-C ends the serving; caught before the server starts.
	stop := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			close(stop)
		}
	}()
	lv, err := startLoadView(std, "report", listen, view.Title(title), view.Target(files[0]))
	if err != nil {
		return err
	}
	defer lv.close()
	lv.v.Publish(load.SnapshotOf(rep))
	fmt.Fprintln(std.stderr, "hooklab report: serving the load view until Ctrl-C")
	<-stop
	return nil
}

// A loadView is the load view served on its own loopback listener.
type loadView struct {
	v   *view.View
	srv *sim.Server
	url string
}

// uiListenAddr checks --ui-addr (a loopback HOST:PORT; "" is a free port
// on 127.0.0.1) and returns the address to listen on.
func uiListenAddr(addr string) (string, error) {
	if addr == "" {
		return "127.0.0.1:0", nil
	}
	a, loopback, err := resolveServeAddr(addr)
	if err != nil {
		return "", usageErrorf("-ui-addr: %v", err)
	}
	if !loopback {
		return "", usageErrorf("-ui-addr: %s is not a loopback address: the load view is served on loopback only (reach it from elsewhere through an SSH tunnel)", addr)
	}
	return a, nil
}

// startLoadView serves a new View on addr (see uiListenAddr) and prints
// "inspector: URL" on stderr.
func startLoadView(std *stdio, cmd, addr string, opts ...view.Option) (*loadView, error) {
	listen, err := uiListenAddr(addr)
	if err != nil {
		return nil, err
	}
	v := view.New(opts...)
	srv, err := sim.NewServer(listen, v)
	if err != nil {
		return nil, usageErrorf("-ui-addr: %v", err)
	}
	lv := &loadView{v: v, srv: srv, url: srv.URL + view.Path}
	fmt.Fprintf(std.stderr, "hooklab %s: inspector: %s\n", cmd, lv.url)
	return lv, nil
}

// linger tells the user the view stays up and waits for stop; it returns
// at once when stop is closed already.
func (lv *loadView) linger(std *stdio, cmd string, stop <-chan struct{}) {
	select {
	case <-stop:
		return
	default:
	}
	fmt.Fprintf(std.stderr, "hooklab %s: done; the load view keeps showing the report at %s until Ctrl-C\n", cmd, lv.url)
	<-stop
}

func (lv *loadView) close() {
	lv.v.Close()
	lv.srv.Close()
}
