package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hooklab/hooklab/signer"
)

const presetsUsage = `Usage: hooklab presets [--json]

Presets lists every preset: its name, algorithm, signature header(s),
encoding, where its timestamp is and in which format, and the tolerance
verify applies by default ("past only" rejects old timestamps but not
early ones). --json prints an array of objects instead.

Example:

	hooklab presets
	hooklab presets --json | jq '.[] | select(.name == "stripe")'`

// presetJSON is one element of "hooklab presets --json".
type presetJSON struct {
	Name      string `json:"name"`
	Algorithm string `json:"algorithm"`
	// Headers are the signature headers, or "body: <path>" for a signature
	// in the JSON body.
	Headers   []string       `json:"headers"`
	Encoding  string         `json:"encoding"`
	Message   string         `json:"message"`
	KeyFormat string         `json:"key_format"`
	Timestamp *timestampJSON `json:"timestamp"`
	// ToleranceSeconds is 0 when the timestamp is not checked by default.
	ToleranceSeconds   float64 `json:"tolerance_seconds"`
	PastOnly           bool    `json:"past_only"`
	IDHeader           string  `json:"id_header,omitempty"`
	MultipleSignatures bool    `json:"multiple_signatures"`
	URLBound           bool    `json:"url_bound"`
}

type timestampJSON struct {
	Source string `json:"source"`           // "header", "signature" or "body"
	Where  string `json:"where"`            // header name, "<Header> <key>=" or body path
	Format string `json:"format,omitempty"` // "unix", "unix-ms", "rfc3339", "rfc3339-nano"
}

func newPresetsCmd() *command {
	fs := flag.NewFlagSet("presets", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	return &command{
		name:    "presets",
		summary: "list every preset with its algorithm, headers, encoding, timestamp and tolerance",
		usage:   presetsUsage,
		fs:      fs,
		run: func(std *stdio) error {
			ps := signer.Presets()
			if *asJSON {
				out := make([]presetJSON, len(ps))
				for i, s := range ps {
					out[i] = describePreset(s)
				}
				b, err := json.MarshalIndent(out, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(std.stdout, "%s\n", b)
				return err
			}
			tw := tabwriter.NewWriter(std.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tALGORITHM\tSIGNATURE HEADER\tENCODING\tTIMESTAMP\tTOLERANCE")
			for _, s := range ps {
				d := describePreset(s)
				ts := "-"
				if d.Timestamp != nil {
					ts = d.Timestamp.Where + " (" + d.Timestamp.Format + ")"
				}
				tol := "-"
				if s.Tolerance > 0 {
					tol = shortDuration(s.Tolerance)
					if s.PastOnly {
						tol += " past only"
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.Algorithm, strings.Join(d.Headers, ", "), d.Encoding, ts, tol)
			}
			return tw.Flush()
		},
	}
}

// describePreset spells a scheme out with its defaults filled in.
func describePreset(s signer.Scheme) presetJSON {
	d := presetJSON{
		Name:               s.Name,
		Algorithm:          string(s.Algorithm),
		Encoding:           string(s.Encoding),
		Message:            s.Message,
		KeyFormat:          string(s.Key),
		ToleranceSeconds:   s.Tolerance.Seconds(),
		PastOnly:           s.PastOnly,
		IDHeader:           s.IDHeader,
		MultipleSignatures: s.MultipleSignatures,
		URLBound:           s.NeedsURL(),
	}
	// The defaults below mirror the documented zero values of signer.Scheme.
	if d.Encoding == "" {
		d.Encoding = string(signer.Hex)
		if s.Algorithm == signer.Token {
			d.Encoding = string(signer.Verbatim)
		}
	}
	if d.Message == "" {
		d.Message = "{body}"
	}
	if d.KeyFormat == "" {
		d.KeyFormat = "raw"
	}
	if s.Syntax.Kind == signer.InBody {
		d.Headers = []string{"body: " + s.Syntax.SignaturePath}
	} else {
		d.Headers = append([]string{s.Header}, s.ExtraHeaders...)
	}
	if s.HasTimestamp() {
		t := &timestampJSON{Source: string(s.Timestamp.Source), Format: string(s.Timestamp.Format)}
		if t.Format == "" {
			t.Format = string(signer.UnixSeconds)
		}
		switch s.Timestamp.Source {
		case signer.TimestampHeader:
			t.Where = s.Timestamp.Header
		case signer.TimestampInHeader:
			t.Where = s.Header + " " + s.Syntax.TimestampKey + "="
		case signer.TimestampInBody:
			t.Where = "body: " + s.Timestamp.Path
		}
		d.Timestamp = t
	}
	return d
}

// shortDuration writes whole minutes as "5m" and anything else as
// time.Duration does.
func shortDuration(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
