package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hooklab/hooklab/sim/load"
)

const loadMergeUsage = `Usage: hooklab load merge [--json] [--plot FILE] REPORT.json…

Merge combines the --json reports of shards run at the same time
(--shard i/n) into one report: counts add, latency histograms merge
exactly. Flags may come before or after the files.`

// loadMerge is "hooklab load merge".
func loadMerge(std *stdio, args []string) error {
	fs := flag.NewFlagSet("load merge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print the merged report as one JSON object")
	plot := fs.String("plot", "", "write latency over time to `FILE`")
	var files []string
	for rest := args; ; rest = fs.Args()[1:] {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(std.stdout, loadMergeUsage)
				return nil
			}
			return usageErrorf("merge: %v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
	}
	if len(files) == 0 {
		return usageErrorf("merge: give the --json reports of the shards")
	}
	var reps []*load.Report
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return usageErrorf("merge: %v", err)
		}
		r, err := load.ReadReport(name, data)
		if err != nil {
			return usageErrorf("merge: %v", err)
		}
		reps = append(reps, r)
	}
	rep := load.MergeReports(reps...)
	if err := writeLoadReports(std, rep, *asJSON, *plot); err != nil {
		return err
	}
	return loadVerdict(rep, "")
}
