package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hooklab/hooklab/signer"
)

// This file holds the flag.Value types the subcommands share. None of them
// quotes a secret: the secret flags' Set never fails and their String is
// always empty, so neither the flag package's errors nor -h can print one.

// secretSource is one --secret, --secret-env or --secret-file, in the order
// given on the command line.
type secretSource struct {
	kind  string // "secret", "env" or "file"
	value string // the secret itself, an environment variable's name, or a path
}

// secretFlags collects the key material of a command: every --secret,
// --secret-env and --secret-file, newest first (the order given).
type secretFlags struct {
	sources []secretSource
}

// register defines --secret, --secret-env and --secret-file on fs.
func (sf *secretFlags) register(fs *flag.FlagSet, what string) {
	fs.Var(&secretValue{sf, "secret"}, "secret",
		"the `SECRET` "+what+"; repeat it for key rotation, newest first (or use -secret-env, -secret-file)")
	fs.Var(&secretValue{sf, "env"}, "secret-env",
		"read the secret from environment variable `NAME` (repeatable)")
	fs.Var(&secretValue{sf, "file"}, "secret-file",
		"read the secret from the file at `PATH`, less one trailing newline (repeatable)")
}

// secretValue is the flag.Value of one of the three secret flags.
type secretValue struct {
	sf   *secretFlags
	kind string
}

// String is always empty: a secret is never printed, not even as a default.
func (*secretValue) String() string { return "" }

// Set records the source; it never fails, so the flag package never quotes
// the value back in an error.
func (v *secretValue) Set(s string) error {
	v.sf.sources = append(v.sf.sources, secretSource{kind: v.kind, value: s})
	return nil
}

// given reports whether any secret flag was used.
func (sf *secretFlags) given() bool { return len(sf.sources) > 0 }

// keys resolves the sources into a KeySet, newest first. An environment
// variable that is unset or empty gives an empty secret (signer then fails
// closed with ErrMissingSecret); notes says which, for a warning. A file
// that cannot be read is an error naming the path, never the contents.
func (sf *secretFlags) keys() (ks signer.KeySet, notes []string, err error) {
	if !sf.given() {
		return nil, nil, usageErrorf("no secret: give -secret, -secret-env NAME or -secret-file PATH")
	}
	for _, src := range sf.sources {
		switch src.kind {
		case "secret":
			ks = append(ks, signer.NewSecret(src.value))
		case "env":
			if src.value == "" {
				return nil, nil, usageErrorf("-secret-env needs the name of an environment variable")
			}
			v, ok := os.LookupEnv(src.value)
			if !ok {
				notes = append(notes, fmt.Sprintf("environment variable %s is not set", src.value))
			} else if v == "" {
				notes = append(notes, fmt.Sprintf("environment variable %s is empty", src.value))
			}
			ks = append(ks, signer.NewSecret(v))
		case "file":
			b, err := os.ReadFile(src.value)
			if err != nil {
				return nil, nil, usageErrorf("-secret-file: %v", pathError(err))
			}
			ks = append(ks, signer.SecretBytes(trimNewline(b)))
		}
	}
	return ks, notes, nil
}

// trimNewline removes one trailing "\n" or "\r\n", as editors and
// "echo secret > file" leave.
func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// pathError shortens an *os.PathError to "path: reason" (the operation is
// noise for a user).
func pathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// headerField is one --header.
type headerField struct{ name, value string }

// headerFlags collects repeated --header 'Name: value' flags in order.
type headerFlags []headerField

func (*headerFlags) String() string { return "" }

// Set parses "Name: value". The name must be an HTTP token; the value may
// be empty but may not contain a line break. Spaces around the value are
// dropped, as HTTP does.
func (h *headerFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return errors.New(`want "Name: value"`)
	}
	name = strings.TrimSpace(name)
	if !isToken(name) {
		return errors.New("the header name is not an HTTP token")
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return errors.New("the header value contains a line break or NUL")
	}
	*h = append(*h, headerField{name: name, value: strings.Trim(value, " \t")})
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// stringFlag is a string flag that records whether it was given, so that
// an explicitly empty body differs from none.
type stringFlag struct {
	value string
	set   bool
}

func (f *stringFlag) String() string {
	if f == nil {
		return ""
	}
	return f.value
}

func (f *stringFlag) Set(s string) error {
	f.value, f.set = s, true
	return nil
}

// unixFlag is a time given as decimal Unix seconds.
type unixFlag struct {
	t   time.Time
	set bool
}

func (f *unixFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return strconv.FormatInt(f.t.Unix(), 10)
}

func (f *unixFlag) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return errors.New("want Unix seconds (a non-negative integer)")
	}
	f.t, f.set = time.Unix(n, 0).UTC(), true
	return nil
}

// durationFlag is a non-negative Go duration ("5m", "90s", "0") that
// records whether it was given.
type durationFlag struct {
	d   time.Duration
	set bool
}

func (f *durationFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return f.d.String()
}

func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return errors.New(`want a non-negative duration such as 5m, 90s or 0`)
	}
	f.d, f.set = d, true
	return nil
}

// choiceFlag is a string flag limited to a few values.
type choiceFlag struct {
	value   string
	choices []string
}

func (f *choiceFlag) String() string {
	if f == nil {
		return ""
	}
	return f.value
}

func (f *choiceFlag) Set(s string) error {
	for _, c := range f.choices {
		if s == c {
			f.value = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(f.choices, ", "))
}
