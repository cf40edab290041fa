// Command hooklab signs and verifies webhooks from the command line.
//
// It is a thin layer over package signer: each subcommand parses flags,
// builds the library's options, and encodes the result. Exit codes: 0 ok,
// 1 a check failed (a delivery did not verify), 2 bad usage or unreadable
// input. Run "hooklab help" for the commands and "hooklab <command> -h" for
// each command's flags and an example.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // a check failed: the delivery did not verify
	exitUsage  = 2 // bad usage or unreadable input
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// stdio is what a subcommand reads from and writes to.
type stdio struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// args are the words after the flags, for a command that takes them
	// (one whose args field is set); otherwise empty.
	args []string
}

// A command is one subcommand: its flags, its usage text and what it does.
// Each subcommand's file has a constructor returning one.
type command struct {
	name string
	// summary is the one-line description listed by "hooklab help".
	summary string
	// usage is the synopsis and an example, printed before the flags by -h.
	usage string
	fs    *flag.FlagSet
	// args, when not empty, says that the command takes words after its
	// flags (a subcommand and its own flags: "hooklab fixtures list
	// --json"); run finds them in stdio.args. Commands without it take
	// every input as a flag.
	args string
	// run does the work after the flags are parsed. It returns nil, or an
	// *exitError saying what to print and which code to exit with.
	run func(io *stdio) error
}

// commands lists the subcommands in the order "hooklab help" shows them.
var commands = []func() *command{
	newSignCmd,
	newVerifyCmd,
	newSendCmd,
	newMatchCmd,
	newServeCmd,
	newListenCmd,
	newConformanceCmd,
	newLoadCmd,
	newReportCmd,
	newReplayCmd,
	newFixturesCmd,
	newPresetsCmd,
	newVersionCmd,
}

// An exitError ends a subcommand with a code; msg, when not empty, goes to
// stderr prefixed with "hooklab <cmd>: ". It never contains a secret.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageErrorf is a bad-usage or bad-input error (exit 2).
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// failed is a failed check (exit 1) whose result was already printed.
var failed error = &exitError{code: exitFailed}

func lookup(name string) *command {
	for _, c := range commands {
		if cmd := c(); cmd.name == name {
			return cmd
		}
	}
	return nil
}

// run is the whole program, callable from tests: it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		mainUsage(stderr)
		return exitUsage
	}
	name := args[0]
	if name == "--version" || name == "-version" {
		name = "version" // as other command-line tools take it
		args = append([]string{name}, args[1:]...)
	}
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && name == "help" {
			cmd := lookup(args[1])
			if cmd == nil {
				fmt.Fprintf(stderr, "hooklab help: unknown command %q; run 'hooklab help' for the list\n", args[1])
				return exitUsage
			}
			cmdUsage(stdout, cmd)
			return exitOK
		}
		mainUsage(stdout)
		return exitOK
	}
	cmd := lookup(name)
	if cmd == nil {
		fmt.Fprintf(stderr, "hooklab: unknown command %q; run 'hooklab help' for the list\n", name)
		return exitUsage
	}
	// The flag package's own messages are replaced by ours: parse errors
	// never quote a --secret value (secret flags never fail to parse), and
	// -h prints to stdout.
	cmd.fs.SetOutput(io.Discard)
	if err := cmd.fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			cmdUsage(stdout, cmd)
			return exitOK
		}
		fmt.Fprintf(stderr, "hooklab %s: %v\nRun 'hooklab %s -h' for usage.\n", name, err, name)
		return exitUsage
	}
	if cmd.fs.NArg() > 0 && cmd.args == "" {
		// The stray words are not quoted back: one of them may be a secret
		// typed without its flag.
		fmt.Fprintf(stderr, "hooklab %s: unexpected argument after the flags (%d given); every input is a flag\nRun 'hooklab %s -h' for usage.\n",
			name, cmd.fs.NArg(), name)
		return exitUsage
	}
	err := cmd.run(&stdio{stdin: stdin, stdout: stdout, stderr: stderr, args: cmd.fs.Args()})
	if err == nil {
		return exitOK
	}
	code, msg := exitUsage, err.Error()
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if msg != "" {
		fmt.Fprintf(stderr, "hooklab %s: %s\n", name, msg)
	}
	return code
}

func mainUsage(w io.Writer) {
	fmt.Fprint(w, `hooklab signs and verifies webhooks exactly as real providers do, and
tests Trigger.dev event and request filters against them.

Usage:

	hooklab <command> [flags]

Commands:

`)
	for _, c := range commands {
		cmd := c()
		fmt.Fprintf(w, "\t%-12s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, `
Run 'hooklab <command> -h' (or 'hooklab help <command>') for a command's flags
and an example. Flags may be written -flag or --flag.

Example:

	hooklab sign --preset github --secret s3cret --body '{"zen":"hi"}' |
		hooklab verify --preset github --secret s3cret

Exit codes: 0 ok, 1 a check failed (the delivery did not verify, or the
filter did not match), 2 bad usage or unreadable input.
`)
}

func cmdUsage(w io.Writer, cmd *command) {
	fmt.Fprintf(w, "%s\n", strings.TrimRight(cmd.usage, "\n"))
	n := 0
	cmd.fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprint(w, "\nFlags:\n\n")
	cmd.fs.SetOutput(w)
	cmd.fs.PrintDefaults()
	cmd.fs.SetOutput(io.Discard)
}
