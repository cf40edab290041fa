package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/hooklab/hooklab/fixtures"
)

// fixtureBaseURL is where sign --fixture addresses a request when --url is
// not given: no path, so the fixture's own path is used.
const fixtureBaseURL = "http://127.0.0.1:8080"

const fixturesUsage = `Usage: hooklab fixtures list [--provider PROVIDER] [--json]
       hooklab fixtures show NAME [--seed N] [--now UNIX_SECONDS] [--headers]
                             [--set PATH=VALUE] [--query NAME=VALUE] [--header 'Name: value']

Fixtures are sample deliveries of real providers: what each sends for one
event (method, path, its own headers and a body in its real shape), with
ids, names, amounts and timestamps generated from a seed. The same seed
and clock always give the same bytes.

list prints one fixture a line, sorted by name: name, provider, event,
method and content type ("-" for none).
  -provider PROVIDER  only the fixtures of PROVIDER
  -json               print a JSON array of objects instead (name, provider,
                      event, description, preset, method, path, content_type,
                      unsigned, source, schema: the published schema the
                      fidelity check validates the body against, as
                      package@version#name; empty when none was checked)

show prints the body of fixture NAME exactly as rendered (no newline is
added). It is not signed: 'hooklab sign --fixture NAME' signs it and
'hooklab send --fixture NAME' sends it.
  -seed N             generate the variable parts from seed N (default 1)
  -now UNIX_SECONDS   render timestamps at UNIX_SECONDS instead of now
  -headers            print the method, path?query and the fixture's headers
                      first, then a blank line
  -set PATH=VALUE     set a field of the JSON body (data.object.customer,
                      labels[0].name; missing keys are created); VALUE is a
                      JSON literal if it parses as one, else a string
  -query NAME=VALUE   replace the query parameter NAME
  -header 'Name: v'   replace the header Name

Examples:

	hooklab fixtures list --provider stripe
	hooklab fixtures show github/push --seed 7 --headers
	hooklab fixtures list --json | jq -r '.[] | select(.preset == "standard-webhooks") | .name'`

// fixtureJSON is one element of "hooklab fixtures list --json".
type fixtureJSON struct {
	Name        string `json:"name"`
	Provider    string `json:"provider"`
	Event       string `json:"event"`
	Description string `json:"description"`
	// Preset is the signer preset; empty for an unsigned delivery.
	Preset      string `json:"preset"`
	Method      string `json:"method"`
	Path        string `json:"path"`
	ContentType string `json:"content_type"`
	Unsigned    bool   `json:"unsigned"`
	Source      string `json:"source"`
	// Schema is the published schema the fidelity check validates the
	// body against ("package@version#name"); empty when none was checked.
	Schema string `json:"schema"`
}

func newFixturesCmd() *command {
	fs := flag.NewFlagSet("fixtures", flag.ContinueOnError)
	return &command{
		name:    "fixtures",
		summary: "list the sample deliveries of real providers, or print one",
		usage:   fixturesUsage,
		fs:      fs,
		args:    "list|show",
		run: func(std *stdio) error {
			if len(std.args) == 0 {
				return usageErrorf("no subcommand: give list or show (run 'hooklab fixtures -h')")
			}
			switch sub, args := std.args[0], std.args[1:]; sub {
			case "list":
				return fixturesList(std, args)
			case "show":
				return fixturesShow(std, args)
			default:
				return usageErrorf("unknown subcommand %q: want list or show (run 'hooklab fixtures -h')", sub)
			}
		},
	}
}

// errHelped ends a subcommand whose usage was printed for -h (exit 0).
var errHelped = errors.New("help printed")

// parseSub parses a subcommand's flags, which may come before or after
// its words ("show NAME --seed 2" or "show --seed 2 NAME"), and returns
// the words. -h prints the usage and the flags on stdout and returns
// errHelped.
func parseSub(std *stdio, fs *flag.FlagSet, usage string, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var words []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(std.stdout, "%s\n\nFlags:\n\n", usage)
				fs.SetOutput(std.stdout)
				fs.PrintDefaults()
				return nil, errHelped
			}
			return nil, usageErrorf("%s: %v", fs.Name(), err)
		}
		if args = fs.Args(); len(args) == 0 {
			return words, nil
		}
		words, args = append(words, args[0]), args[1:]
	}
}

func fixturesList(std *stdio, args []string) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	provider := fs.String("provider", "", "only the fixtures of `PROVIDER`")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	words, err := parseSub(std, fs, "Usage: hooklab fixtures list [--provider PROVIDER] [--json]", args)
	if err != nil {
		return helped(err)
	}
	if len(words) > 0 {
		return usageErrorf("list: unexpected argument %q; every input is a flag", words[0])
	}
	if *provider != "" && !slices.Contains(fixtures.Providers(), *provider) {
		return usageErrorf("list: unknown provider %q; the providers are: %s", *provider, strings.Join(fixtures.Providers(), ", "))
	}
	var list []*fixtures.Fixture
	for _, f := range fixtures.All() {
		if *provider == "" || f.Provider == *provider {
			list = append(list, f)
		}
	}
	if *asJSON {
		out := make([]fixtureJSON, len(list))
		for i, f := range list {
			out[i] = fixtureJSON{
				Name: f.Name, Provider: f.Provider, Event: f.Event, Description: f.Description,
				Preset: f.Preset, Method: f.Method, Path: f.Path, ContentType: f.ContentType,
				Unsigned: f.Unsigned, Source: f.Source, Schema: f.Schema,
			}
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(std.stdout, "%s\n", b)
		return err
	}
	tw := tabwriter.NewWriter(std.stdout, 0, 0, 2, ' ', 0)
	for _, f := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Name, f.Provider, f.Event, f.Method, orDash(f.ContentType))
	}
	return tw.Flush()
}

func fixturesShow(std *stdio, args []string) error {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	var at unixFlag
	seed := fs.Int64("seed", 1, "generate the variable parts from seed `N`")
	fs.Var(&at, "now", "render timestamps at `UNIX_SECONDS` instead of now")
	headers := fs.Bool("headers", false, "print the method, path?query and headers first")
	var overrides overrideFlags
	var replace headerFlags
	overrides.register(fs)
	fs.Var(&replace, "header", "replace the fixture's header: `'Name: value'` (repeatable)")
	words, err := parseSub(std, fs, "Usage: hooklab fixtures show NAME [--seed N] [--now UNIX_SECONDS] [--headers] [--set PATH=VALUE] [--query NAME=VALUE] [--header 'Name: value']", args)
	if err != nil {
		return helped(err)
	}
	switch {
	case len(words) == 0:
		return usageErrorf("show: no fixture: give its NAME (see hooklab fixtures list)")
	case len(words) > 1:
		return usageErrorf("show: one fixture at a time (%d names given)", len(words))
	}
	f, err := fixtures.Lookup(words[0])
	if err != nil {
		return usageErrorf("%v", err)
	}
	t := now().UTC()
	if at.set {
		t = at.t
	}
	d, err := f.Render(*seed, t)
	if err != nil {
		return err
	}
	opts := overrides.options()
	byName := http.Header{}
	for _, h := range replace {
		byName.Add(h.name, h.value)
	}
	for _, name := range sortedHeaderNames(byName) {
		opts = append(opts, fixtures.Header(name, byName[name]...))
	}
	if err := d.Apply(opts...); err != nil {
		return overrideError(err)
	}
	if *headers {
		var b strings.Builder
		target := d.Path
		if d.Query != "" {
			target += "?" + d.Query
		}
		fmt.Fprintf(&b, "%s %s\n", d.Method, target)
		for _, name := range sortedHeaderNames(d.Header) {
			for _, v := range d.Header[name] {
				fmt.Fprintf(&b, "%s: %s\n", name, v)
			}
		}
		b.WriteString("\n")
		if _, err := io.WriteString(std.stdout, b.String()); err != nil {
			return err
		}
	}
	_, err = std.stdout.Write(d.Body)
	return err
}

// helped turns errHelped into success.
func helped(err error) error {
	if errors.Is(err, errHelped) {
		return nil
	}
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
