package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/hooklab/hooklab/signer"
)

// The secret flags of sign, send, verify and load: --secret, --secret-env
// and --secret-file, resolved into a signer.KeySet. None of them quotes a
// secret: Set never fails and String is always empty, so neither the flag
// package's errors nor -h can print one.

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

// withNotes adds the notes about the keys (an empty environment variable)
// to a signing error.
func withNotes(err error, notes []string) error {
	for _, n := range notes {
		err = fmt.Errorf("%w (%s)", err, n)
	}
	return err
}
