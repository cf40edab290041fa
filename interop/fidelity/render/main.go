// Command render prints every fixture of the catalogue, rendered and
// signed under several seeds, as JSON lines for the fidelity check
// (interop/fidelity/check.mjs), which validates each body against the
// provider's published schema.
//
// Usage:
//
//	go run ./interop/fidelity/render [-seeds N] [-now UNIX_SECONDS] [-fixture NAME]
//
// Each line is one render: the fixture's name, provider, event and schema
// field, the seed, and the delivery as signed with a throwaway secret
// (method, URL, headers and body). A fixture whose preset needs keys of
// another kind (a private key) is printed unsigned, with "signed": false.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/signer"
)

// render is one line of the output.
type render struct {
	Fixture     string              `json:"fixture"`
	Provider    string              `json:"provider"`
	Event       string              `json:"event"`
	Schema      string              `json:"schema"`
	Seed        int64               `json:"seed"`
	ContentType string              `json:"content_type"`
	Method      string              `json:"method"`
	URL         string              `json:"url"`
	Signed      bool                `json:"signed"`
	Header      map[string][]string `json:"header"`
	Body        string              `json:"body"`
}

// secret signs the renders; it is a fixed test value, not a credential.
const secret = "whsec_aGlkZGVuLWZpZGVsaXR5LWNoZWNrLXNlY3JldA=="

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "render: %v\n", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	seeds := fs.Int("seeds", 8, "render each fixture with seeds 1..`N`")
	at := fs.Int64("now", 1764979200, "render timestamps at `UNIX_SECONDS`")
	only := fs.String("fixture", "", "render only the fixture `NAME`")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *seeds < 1 || *seeds > 1000 {
		return usageError{fmt.Errorf("-seeds %d: want 1 to 1000", *seeds)}
	}
	list := fixtures.All()
	if *only != "" {
		f, err := fixtures.Lookup(*only)
		if err != nil {
			return usageError{err}
		}
		list = []*fixtures.Fixture{f}
	}
	now := time.Unix(*at, 0).UTC()
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, f := range list {
		for seed := int64(1); seed <= int64(*seeds); seed++ {
			r, err := renderOne(f, seed, now)
			if err != nil {
				return err
			}
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	}
	return w.Flush()
}

// renderOne signs f for seed, or renders it unsigned when its preset
// cannot sign with a shared secret.
func renderOne(f *fixtures.Fixture, seed int64, now time.Time) (*render, error) {
	r := &render{Fixture: f.Name, Provider: f.Provider, Event: f.Event, Schema: f.Schema, Seed: seed, ContentType: f.ContentType}
	p, err := f.Sign("http://127.0.0.1:8080", signer.Keys(secret), fixtures.Seed(seed), fixtures.Now(func() time.Time { return now }))
	if err == nil {
		r.Method, r.URL, r.Signed, r.Header, r.Body = p.Method, p.URL, !f.Unsigned, p.Header, string(p.Body)
		return r, nil
	}
	d, rerr := f.Render(seed, now)
	if rerr != nil {
		return nil, rerr
	}
	u, uerr := d.URL("http://127.0.0.1:8080")
	if uerr != nil {
		return nil, uerr
	}
	r.Method, r.URL, r.Header, r.Body = d.Method, u, d.Header, string(d.Body)
	return r, nil
}
