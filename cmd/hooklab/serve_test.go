package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// servebgWait bounds how long servebg waits for hooklab serve to print
// its first line, and then to exit after a signal.
const servebgWait = 10 * time.Second

// servebgProcs holds the hooklab serve process each script started.
var servebgProcs sync.Map // *testscript.TestScript -> *servebgProc

type servebgProc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

var listeningLine = regexp.MustCompile(`^hooklab serve: listening on (http://[^;\s]+);`)

// servebg runs the real "hooklab serve" in the background, as a
// subprocess, for the rest of the script; unlike "exec hooklab serve &",
// its output can be read while it runs, so that the script learns its
// port. Its stdout and stderr go to serve.stdout and serve.stderr in the
// script's directory.
//
// "servebg start FLAGS..." starts "hooklab serve FLAGS..." and waits for
// its first line, "hooklab serve: listening on URL; …", then puts URL in
// $SERVEURL and its host:port in $SERVEADDR. "servebg stop [INT|TERM]" sends the signal (default INT)
// and waits for the process; it fails unless the process exits 0. A
// process still running at the end of the script is interrupted.
//
//	servebg start --control --addr 127.0.0.1:0
//	exec hooklab conformance --target $SERVEURL
//	servebg stop TERM
func servebg(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: servebg start [hooklab serve flags] | servebg stop [INT|TERM]"
	if neg || len(args) == 0 {
		ts.Fatalf("%s", usage)
	}
	switch args[0] {
	case "start":
		servebgStart(ts, args[1:])
	case "stop":
		sig := os.Interrupt
		switch {
		case len(args) == 1 || (len(args) == 2 && args[1] == "INT"):
		case len(args) == 2 && args[1] == "TERM":
			sig = syscall.SIGTERM
		default:
			ts.Fatalf("%s", usage)
		}
		v, ok := servebgProcs.Load(ts)
		if !ok {
			ts.Fatalf("servebg stop: no server started")
		}
		p := v.(*servebgProc)
		ts.Check(p.stop(sig))
		servebgProcs.Delete(ts)
	default:
		ts.Fatalf("%s", usage)
	}
}

func servebgStart(ts *testscript.TestScript, args []string) {
	if _, ok := servebgProcs.Load(ts); ok {
		ts.Fatalf("servebg start: a server is already running")
	}
	bin, err := exec.LookPath("hooklab")
	ts.Check(err)
	dir := ts.MkAbs(".")
	stdout, err := os.Create(filepath.Join(dir, "serve.stdout"))
	ts.Check(err)
	stderr, err := os.Create(filepath.Join(dir, "serve.stderr"))
	ts.Check(err)
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, stdout, stderr
	err = cmd.Start()
	stdout.Close()
	stderr.Close()
	ts.Check(err)
	p := &servebgProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	servebgProcs.Store(ts, p)
	ts.Defer(func() {
		if _, ok := servebgProcs.LoadAndDelete(ts); ok {
			p.stop(os.Interrupt)
		}
	})

	deadline := time.After(servebgWait)
	for {
		out := ts.ReadFile("serve.stdout")
		if line, _, ok := strings.Cut(out, "\n"); ok {
			m := listeningLine.FindStringSubmatch(line)
			if m == nil {
				ts.Fatalf("servebg: first line of hooklab serve = %q, want \"hooklab serve: listening on URL; …\"", line)
			}
			ts.Setenv("SERVEURL", m[1])
			ts.Setenv("SERVEADDR", strings.TrimPrefix(m[1], "http://"))
			return
		}
		select {
		case <-p.done:
			ts.Fatalf("servebg: hooklab serve exited (%v) before listening; stderr:\n%s", p.err, ts.ReadFile("serve.stderr"))
		case <-deadline:
			ts.Fatalf("servebg: hooklab serve printed no line in %s", servebgWait)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// stop signals the process and waits for it; it is an error unless the
// process exits 0 within servebgWait (it is then killed).
func (p *servebgProc) stop(sig os.Signal) error {
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.done:
		if p.err != nil {
			return errors.New("servebg: hooklab serve after " + sig.String() + ": " + p.err.Error() + ", want exit 0")
		}
		return nil
	case <-time.After(servebgWait):
		p.cmd.Process.Kill()
		<-p.done
		return errors.New("servebg: hooklab serve did not stop within " + servebgWait.String() + " of " + sig.String())
	}
}
