package main

import (
	"flag"
	"fmt"
	"runtime/debug"
)

const versionUsage = `Usage: hooklab version

Version prints hooklab's module version, or "devel" for a build from a
source tree.

Example:

	go install github.com/hooklab/hooklab/cmd/hooklab@latest && hooklab version`

func newVersionCmd() *command {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	return &command{
		name:    "version",
		summary: "print the version",
		usage:   versionUsage,
		fs:      fs,
		run: func(std *stdio) error {
			_, err := fmt.Fprintln(std.stdout, version())
			return err
		},
	}
}

// version returns the main module's version from the build information,
// or "devel" when there is none (go run, go build in a source tree, tests).
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "devel"
	}
	return bi.Main.Version
}
