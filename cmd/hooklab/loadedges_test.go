package main

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// rfc3339 puts the wall clock's time, plus an optional offset (a Go
// duration, such as 3s or -1s), in an environment variable as an RFC 3339
// time to the millisecond, written as Go writes a time in JSON (trailing
// zeros of the fraction dropped): a start barrier for --start-at.
//
//	rfc3339 T 3s
func rfc3339(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: rfc3339 VAR [OFFSET]")
	}
	var off time.Duration
	if len(args) == 2 {
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		off = d
	}
	ts.Setenv(args[0], time.Now().Add(off).UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano))
}

// slowserver puts in $NAME the URL (http://127.0.0.1:PORT, no path) of a
// server that answers every request 200 after DELAY, for the rest of the
// script: a slow but healthy target.
//
//	slowserver SLOW 200ms
func slowserver(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: slowserver NAME DELAY")
	}
	delay, err := time.ParseDuration(args[1])
	ts.Check(err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Write([]byte(`{"ok":true}`))
	})}
	go srv.Serve(l)
	ts.Defer(func() { srv.Close() })
	ts.Setenv(args[0], "http://"+l.Addr().String())
}

func TestParseShard(t *testing.T) {
	t.Parallel()
	env := func(v string, set bool) func(string) (string, bool) {
		return func(name string) (string, bool) {
			if name != shardIndexEnv {
				t.Errorf("looked up %s, want %s", name, shardIndexEnv)
			}
			return v, set
		}
	}
	unset := env("", false)
	for _, tc := range []struct {
		name       string
		s          string
		lookup     func(string) (string, bool)
		wantI      int
		wantN      int
		wantErrHas string
	}{
		{"none", "", unset, 0, 1, ""},
		{"the first of 4 is index 0", "1/4", unset, 0, 4, ""},
		{"the last of 4 is index 3", "4/4", unset, 3, 4, ""},
		{"0 is not a shard", "0/4", unset, 0, 0, "want i/n with 1 <= i <= n"},
		{"past n", "5/4", unset, 0, 0, "want i/n with 1 <= i <= n"},
		{"n too large", "1/2000000", unset, 0, 0, "n <= 1048576"},
		{"auto: index 0 is the first shard", "auto/4", env("0", true), 0, 4, ""},
		{"auto: index 3 is the last shard", "auto/4", env("3", true), 3, 4, ""},
		{"auto: index 2 of 4 is as 3/4", "auto/4", env("2", true), 2, 4, ""},
		{"auto: index n is out of range", "auto/4", env("4", true), 0, 0, `JOB_COMPLETION_INDEX="4" is not a shard index from 0 to 3`},
		{"auto: a negative index", "auto/4", env("-1", true), 0, 0, `JOB_COMPLETION_INDEX="-1" is not a shard index from 0 to 3`},
		{"auto: not a number", "auto/4", env("two", true), 0, 0, `JOB_COMPLETION_INDEX="two" is not a shard index`},
		{"auto: empty", "auto/4", env("", true), 0, 0, `JOB_COMPLETION_INDEX="" is not a shard index`},
		{"auto: unset", "auto/4", unset, 0, 0, "JOB_COMPLETION_INDEX is not set"},
		{"auto: a long value is cut", "auto/4", env(strings.Repeat("9", 100), true), 0, 0, strings.Repeat("9", 40) + "…\" is not"},
		{"auto without n", "auto", env("0", true), 0, 0, "want i/n"},
		{"auto/0", "auto/0", env("0", true), 0, 0, "want i/n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, n, err := parseShard(tc.s, tc.lookup)
			if tc.wantErrHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrHas) {
					t.Fatalf("parseShard(%q) error = %v, want one containing %q", tc.s, err, tc.wantErrHas)
				}
				return
			}
			if err != nil || i != tc.wantI || n != tc.wantN {
				t.Fatalf("parseShard(%q) = %d, %d, %v; want %d, %d", tc.s, i, n, err, tc.wantI, tc.wantN)
			}
		})
	}
}

// FuzzParseShard checks that any --shard value and JOB_COMPLETION_INDEX
// give a shard in range or an error, and that the error quotes at most 40
// bytes of the variable.
func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"1/4", "auto/4", "auto/1", "0/0", "auto/-1", "a/b", "/"} {
		f.Add(s, "2", true)
	}
	f.Add("auto/3", strings.Repeat("x", 200), true)
	f.Add("auto/3", "", false)
	f.Fuzz(func(t *testing.T, s, v string, set bool) {
		i, n, err := parseShard(s, func(string) (string, bool) { return v, set })
		if err != nil {
			if len(err.Error()) > 4*len(s)+300 {
				t.Fatalf("error of %d bytes: %v", len(err.Error()), err)
			}
			return
		}
		if n < 1 || i < 0 || i >= n || n > maxShards {
			t.Fatalf("parseShard(%q) with %q = %d, %d: out of range", s, v, i, n)
		}
	})
}
