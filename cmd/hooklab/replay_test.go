package main

import (
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// unixtime puts the wall clock's Unix seconds, plus an optional offset (a
// Go duration, such as -10m), in an environment variable: the fake clock
// of scripts that need "ten minutes ago" for processes that verify at the
// real time (serve).
//
//	unixtime T -10m
func unixtime(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: unixtime VAR [OFFSET]")
	}
	var off time.Duration
	if len(args) == 2 {
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		off = d
	}
	ts.Setenv(args[0], strconv.FormatInt(time.Now().Add(off).Unix(), 10))
}
