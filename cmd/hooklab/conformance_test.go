package main

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hooklab/hooklab/sim"
)

// procWait bounds how long "proc wait" waits for a process to end.
const procWait = 60 * time.Second

// A proc is a hooklab process started by "proc start".
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// procs holds each script's procs by name.
var procs sync.Map // map[*testscript.TestScript]map[string]*proc

// procCmd runs hooklab in the background and signals it with any signal,
// which testscript's own kill cannot (it sends INT and KILL only):
//
//	proc start NAME ARGS...   hooklab ARGS, stdout to NAME.stdout, stderr to NAME.stderr
//	proc signal NAME TERM|INT
//	proc wait NAME CODE       wait (up to 60s) and check the exit code (CODE|CODE… for any of several)
//
// A process still running when the script ends is killed.
func procCmd(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: proc start NAME ARGS... | proc signal NAME TERM|INT | proc wait NAME CODE[|CODE...]"
	if neg || len(args) < 2 {
		ts.Fatalf("%s", usage)
	}
	v, _ := procs.LoadOrStore(ts, map[string]*proc{})
	byName := v.(map[string]*proc)
	name := args[1]
	switch args[0] {
	case "start":
		if _, ok := byName[name]; ok {
			ts.Fatalf("proc start: %s is already started", name)
		}
		bin, err := exec.LookPath("hooklab")
		ts.Check(err)
		stdout, err := os.Create(ts.MkAbs(name + ".stdout"))
		ts.Check(err)
		stderr, err := os.Create(ts.MkAbs(name + ".stderr"))
		ts.Check(err)
		cmd := exec.Command(bin, args[2:]...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = ts.MkAbs("."), stdout, stderr
		cmd.Env = append(os.Environ(), controlTokenEnv+"="+ts.Getenv(controlTokenEnv))
		err = cmd.Start()
		stdout.Close()
		stderr.Close()
		ts.Check(err)
		p := &proc{cmd: cmd, done: make(chan struct{})}
		go func() {
			p.err = cmd.Wait()
			close(p.done)
		}()
		byName[name] = p
		ts.Defer(func() {
			select {
			case <-p.done:
			default:
				p.cmd.Process.Kill()
				<-p.done
			}
		})
	case "signal":
		p, ok := byName[name]
		if !ok || len(args) != 3 {
			ts.Fatalf("%s", usage)
		}
		sig := map[string]os.Signal{"TERM": syscall.SIGTERM, "INT": os.Interrupt}[args[2]]
		if sig == nil {
			ts.Fatalf("proc signal: %q: want TERM or INT", args[2])
		}
		// A run that already ended (a machine fast enough) is not an
		// error: proc wait then sees how it ended.
		if err := p.cmd.Process.Signal(sig); !errors.Is(err, os.ErrProcessDone) {
			ts.Check(err)
		}
	case "wait":
		p, ok := byName[name]
		if !ok || len(args) != 3 {
			ts.Fatalf("%s", usage)
		}
		want := map[int]bool{}
		for _, c := range strings.Split(args[2], "|") {
			code, err := strconv.Atoi(c)
			ts.Check(err)
			want[code] = true
		}
		select {
		case <-p.done:
		case <-time.After(procWait):
			p.cmd.Process.Kill()
			<-p.done
			ts.Fatalf("proc wait: %s did not end within %v; killed", name, procWait)
		}
		got := 0
		var ee *exec.ExitError
		switch {
		case errors.As(p.err, &ee):
			got = ee.ExitCode()
		case p.err != nil:
			ts.Fatalf("proc wait: %s: %v", name, p.err)
		}
		ts.Logf("%s exited %d", name, got)
		if !want[got] {
			ts.Fatalf("proc wait: %s exited %d, want %s; stderr:\n%s", name, got, args[2], ts.ReadFile(name+".stderr"))
		}
	default:
		ts.Fatalf("%s", usage)
	}
}

// stallctl puts in $NAME the URL of a control API that answers the
// probe (GET /endpoints: 200 {"endpoints": []}) and never answers a
// POST /endpoints, for the rest of the script: every case waits on it
// until the run is stopped. Each POST is logged as a line to
// stallctl.log when it arrives.
//
//	stallctl NAME
func stallctl(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: stallctl NAME")
	}
	logPath := ts.MkAbs("stallctl.log")
	stop := make(chan struct{})
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+sim.ControlPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"endpoints":[]}`)
	})
	mux.HandleFunc("POST "+sim.ControlPath, func(w http.ResponseWriter, r *http.Request) {
		var spec struct{ ID string }
		json.NewDecoder(r.Body).Decode(&spec)
		mu.Lock()
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o666)
		if err == nil {
			fmt.Fprintf(f, "POST %s\n", spec.ID)
			f.Close()
		}
		mu.Unlock()
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	ts.Defer(func() {
		close(stop)
		srv.Close()
	})
	ts.Setenv(args[0], srv.URL)
}

// validxml checks that FILE holds one well-formed XML document.
//
//	validxml r.xml
func validxml(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: validxml FILE")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	dec := xml.NewDecoder(f)
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if depth != 0 {
				err = fmt.Errorf("%d elements not closed", depth)
			} else if roots != 1 {
				err = fmt.Errorf("%d root elements, want 1", roots)
			} else {
				err = nil
			}
			if ok := err == nil; ok == neg {
				ts.Fatalf("validxml %s: valid is %v (%v)", filepath.Base(args[0]), ok, err)
			}
			return
		}
		if err != nil {
			if !neg {
				ts.Fatalf("validxml %s: %v", args[0], err)
			}
			return
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

// junitcheck checks that FILE is a complete JUnit report of the cases
// listed in LIST (the output of hooklab conformance --list): one testcase
// per listed case, each at most one of failure, error or skipped, and
// every count attribute equal to what the testcases hold.
//
//	junitcheck r.xml list.txt
func junitcheck(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: junitcheck FILE LIST")
	}
	type counts struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Skipped  int `xml:"skipped,attr"`
	}
	type testcase struct {
		Name      string    `xml:"name,attr"`
		Classname string    `xml:"classname,attr"`
		Failure   *struct{} `xml:"failure"`
		Error     *struct{} `xml:"error"`
		Skipped   *struct{} `xml:"skipped"`
	}
	var doc struct {
		XMLName xml.Name `xml:"testsuites"`
		counts
		Suites []struct {
			Name string `xml:"name,attr"`
			counts
			Cases []testcase `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(ts.ReadFile(args[0])), &doc); err != nil {
		ts.Fatalf("junitcheck: %s: %v", args[0], err)
	}
	var total counts
	seen := map[string]bool{}
	for _, s := range doc.Suites {
		var c counts
		for _, tc := range s.Cases {
			id := s.Name + "/" + tc.Name
			if seen[id] || tc.Classname != "conformance."+s.Name {
				ts.Fatalf("junitcheck: %s: testcase %s is twice, or has classname %q", args[0], id, tc.Classname)
			}
			seen[id] = true
			c.Tests++
			n := 0
			if tc.Failure != nil {
				c.Failures++
				n++
			}
			if tc.Error != nil {
				c.Errors++
				n++
			}
			if tc.Skipped != nil {
				c.Skipped++
				n++
			}
			if n > 1 {
				ts.Fatalf("junitcheck: %s: testcase %s has %d outcomes, want at most 1", args[0], id, n)
			}
		}
		if c != s.counts {
			ts.Fatalf("junitcheck: %s: testsuite %s says %+v, its testcases hold %+v", args[0], s.Name, s.counts, c)
		}
		total.Tests += c.Tests
		total.Failures += c.Failures
		total.Errors += c.Errors
		total.Skipped += c.Skipped
	}
	if total != doc.counts {
		ts.Fatalf("junitcheck: %s: testsuites says %+v, its testcases hold %+v", args[0], doc.counts, total)
	}
	var listed int
	for _, line := range strings.Split(strings.TrimSpace(ts.ReadFile(args[1])), "\n") {
		id, _, _ := strings.Cut(line, "\t")
		if !seen[id] {
			ts.Fatalf("junitcheck: %s has no testcase for %s", args[0], id)
		}
		listed++
	}
	if listed != total.Tests {
		ts.Fatalf("junitcheck: %s has %d testcases, %s lists %d cases", args[0], total.Tests, args[1], listed)
	}
}
