package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hooklab/hooklab/sim/load"
)

const loadMergeUsage = `Usage: hooklab load merge [--json] [--plot FILE] [--partial] REPORT.json…

Merge combines the --json reports of the shards of one run (--shard
i/n, the same --run-id) into the report the unsharded run would have
written: counts add, latency histograms merge exactly, the requested
rate is the plan's and the achieved rate spans every shard's sending.
It refuses a shard given twice, reports of other runs or of another
plan, a report that is not a shard of a run, and missing shards: with
--partial it merges the shards there are and the report says which are
missing. Flags may come before or after the files.

Exit codes: 0 every request was answered 2xx, 1 otherwise, 2 bad usage
or reports that do not merge (the error names the file and why).`

// loadMerge is "hooklab load merge".
func loadMerge(std *stdio, args []string) error {
	fs := flag.NewFlagSet("load merge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print the merged report as one JSON object")
	plot := fs.String("plot", "", "write latency over time to `FILE`")
	partial := fs.Bool("partial", false, "merge the shards there are when some are missing (the report says which)")
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
	reps, err := readReports(files)
	if err != nil {
		return usageErrorf("merge: %v", err)
	}
	rep, err := load.MergeReportsWith(load.MergeOptions{Partial: *partial}, reps...)
	if err != nil {
		return usageErrorf("merge: %v", err)
	}
	if err := writeLoadReports(std, rep, *asJSON, *plot); err != nil {
		return err
	}
	return loadVerdict(rep, "")
}

// maxReportFile bounds a report file: a report is tens to hundreds of
// KiB (its histograms and series).
const maxReportFile = 64 << 20

// readReports reads the --json reports files name; an error names the
// file.
func readReports(files []string) ([]*load.Report, error) {
	var reps []*load.Report
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(f, maxReportFile+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(data) > maxReportFile {
			return nil, fmt.Errorf("%s: larger than %d MiB: not a hooklab load report", name, maxReportFile>>20)
		}
		r, err := load.ReadReport(name, data)
		if err != nil {
			return nil, err
		}
		reps = append(reps, r)
	}
	return reps, nil
}
