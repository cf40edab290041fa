package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/tidwall/gjson"
)

// jsonget checks one value of a JSON file (or stdout) found by a gjson
// path: it must exist and compare with VALUE by OP, one of == != >= <= >
// <. VALUE is a number, or numbers joined by + and * ("2*$N", "$A+$B");
// for == and != it may instead be a string, compared with the value's
// text. -env NAME FILE PATH instead puts the value's text in $NAME.
//
//	jsonget stdout requests >= 90
//	jsonget stdout delivered == 2*$N
//	jsonget stdout latency_ms.p999 >= 0
//	jsonget -env N stdout requests
func jsonget(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: jsonget FILE PATH OP VALUE | jsonget -env NAME FILE PATH"
	if neg {
		ts.Fatalf("%s (no !: use the opposite OP)", usage)
	}
	if len(args) == 4 && args[0] == "-env" {
		v := jsonValue(ts, args[2], args[3])
		ts.Setenv(args[1], v.String())
		return
	}
	if len(args) != 4 {
		ts.Fatalf("%s", usage)
	}
	file, path, op, want := args[0], args[1], args[2], args[3]
	v := jsonValue(ts, file, path)
	if ok, err := compareJSON(v, op, want); err != nil {
		ts.Fatalf("jsonget %s %s %s %s: %v", file, path, op, want, err)
	} else if !ok {
		ts.Fatalf("jsonget %s: %s = %s, want %s %s", file, path, v.Raw, op, want)
	}
}

// jsonValue is the value at a gjson path of a file that holds one JSON
// value; it must exist.
func jsonValue(ts *testscript.TestScript, file, path string) gjson.Result {
	data := ts.ReadFile(file)
	if !gjson.Valid(data) {
		ts.Fatalf("jsonget: %s is not one valid JSON value", file)
	}
	v := gjson.Get(data, path)
	if !v.Exists() {
		ts.Fatalf("jsonget: %s has no %s", file, path)
	}
	return v
}

// compareJSON compares v with want by op: numerically when want is an
// expression of numbers, else (== and != only) as text.
func compareJSON(v gjson.Result, op, want string) (bool, error) {
	n, numErr := evalSum(want)
	if numErr != nil {
		switch op {
		case "==":
			return v.String() == want, nil
		case "!=":
			return v.String() != want, nil
		}
		return false, numErr
	}
	if v.Type != gjson.Number {
		return false, fmt.Errorf("the value %s is not a number", v.Raw)
	}
	got := v.Float()
	switch op {
	case "==":
		return got == n, nil
	case "!=":
		return got != n, nil
	case ">=":
		return got >= n, nil
	case "<=":
		return got <= n, nil
	case ">":
		return got > n, nil
	case "<":
		return got < n, nil
	}
	return false, fmt.Errorf("unknown OP %q; want == != >= <= > <", op)
}

// evalSum evaluates numbers joined by + and *, * first: "2*3+1" is 7.
func evalSum(s string) (float64, error) {
	sum := 0.0
	for _, term := range strings.Split(s, "+") {
		prod := 1.0
		for _, f := range strings.Split(term, "*") {
			x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return 0, fmt.Errorf("%q is not a number or a sum of products of numbers", s)
			}
			prod *= x
		}
		sum += prod
	}
	return sum, nil
}

// jsonlines checks that FILE holds exactly N lines (N as jsonget's VALUE,
// such as "$REQ+$DROP"), each a JSON object that has every KEY.
//
//	jsonlines results.jsonl 100 seq intended latency_ns status
func jsonlines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: jsonlines FILE N [KEY...]")
	}
	want, err := evalSum(args[1])
	ts.Check(err)
	s := bufio.NewScanner(strings.NewReader(ts.ReadFile(args[0])))
	s.Buffer(nil, 16<<20)
	n := 0
	for s.Scan() {
		n++
		line := s.Text()
		if !gjson.Valid(line) || !gjson.Parse(line).IsObject() {
			ts.Fatalf("jsonlines %s: line %d is not a JSON object: %.200s", args[0], n, line)
		}
		for _, key := range args[2:] {
			if !gjson.Get(line, gjson.Escape(key)).Exists() {
				ts.Fatalf("jsonlines %s: line %d has no %q: %.200s", args[0], n, key, line)
			}
		}
	}
	ts.Check(s.Err())
	if float64(n) != want {
		ts.Fatalf("jsonlines %s: %d lines, want %s", args[0], n, args[1])
	}
}

// freeaddr puts in $NAME the address 127.0.0.1:PORT of a port that was
// free a moment ago, for a listener the script starts later (a sink that
// a spec file names before it runs).
//
//	freeaddr SINK
func freeaddr(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeaddr NAME")
	}
	// A port below Linux's ephemeral range (32768–60999), so that the
	// kernel does not hand it to another connection between now and the
	// moment the script binds it, as it can a port from 127.0.0.1:0.
	for i := 0; i < 200; i++ {
		port := 20000 + mathrand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		addr := l.Addr().String()
		ts.Check(l.Close())
		ts.Setenv(args[0], addr)
		return
	}
	ts.Fatalf("freeaddr: no free port in 20000–31999")
}

// envsubst copies SRC to DST with $NAME and ${NAME} replaced by the
// script's variables, so that a spec file can name an address chosen at
// run time. A variable that is not set is an error.
//
//	envsubst hooks.tmpl.yaml hooks.yaml
func envsubst(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envsubst SRC DST")
	}
	var missing []string
	out := os.Expand(ts.ReadFile(args[0]), func(name string) string {
		v := ts.Getenv(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		ts.Fatalf("envsubst %s: not set: %s", args[0], strings.Join(missing, ", "))
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(out), 0o666))
}

// sleep pauses the script, to let a command started in the background
// make progress before it is signalled.
//
//	sleep 1s
func sleep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	if err != nil || d < 0 || d > time.Minute {
		ts.Fatalf("sleep: %q: want a duration up to 1m", args[0])
	}
	time.Sleep(d)
}

// waitlines waits (up to 20 s) until FILE has at least N lines: a
// background command has got going.
func waitlines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitlines FILE N")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 1 {
		ts.Fatalf("waitlines: %q: want a count", args[1])
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, _ := os.ReadFile(ts.MkAbs(args[0]))
		if bytes.Count(data, []byte("\n")) >= n {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitlines: %s has %d lines after 20s, want %d", args[0], bytes.Count(data, []byte("\n")), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hangserver puts in $NAME the URL (http://127.0.0.1:PORT, no path) of a
// server that accepts connections, reads what comes and never answers,
// for the rest of the script: a target that stalls.
//
//	hangserver STALLURL
func hangserver(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: hangserver NAME")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	ts.Defer(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	ts.Setenv(args[0], "http://"+l.Addr().String())
}
