package main

// The fixture signer of sign, send and load --fixture: the fixture, the
// preset that signs it and the keys from the secret flags.

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/signer"
)

// A fixtureSigner signs one fixture for sign --fixture and send --fixture:
// with its own preset, or another one given with --preset, and the keys.
type fixtureSigner struct {
	f *fixtures.Fixture
	// signed is false for a fixture its provider does not sign (and no
	// --preset); scheme and keys are then unset.
	signed bool
	scheme signer.Scheme
	keys   signer.KeySet
	notes  []string // about the keys, for a signing error
	// opts are the overrides (--set, --query, --header), made on every
	// rendering before it is signed.
	opts []fixtures.Option
}

// override adds the --set and --query flags and the --header fields
// (checked by afterSigning) to the overrides.
func (fsg *fixtureSigner) override(o *overrideFlags, header http.Header) {
	fsg.opts = append(fsg.opts, o.options()...)
	for _, name := range sortedHeaderNames(header) {
		fsg.opts = append(fsg.opts, fixtures.Header(name, header[name]...))
	}
}

// options are the seed, clock and overrides of one rendering.
func (fsg *fixtureSigner) options(seed int64, at time.Time) []fixtures.Option {
	return append([]fixtures.Option{fixtures.Seed(seed), fixtures.Now(func() time.Time { return at })}, fsg.opts...)
}

// newFixtureSigner looks the fixture up and resolves the scheme and keys.
// A secret given for an unsigned fixture is unused: a warning says so on
// stderr, prefixed with "hooklab <cmd>: ".
func newFixtureSigner(std *stdio, cmd, name, preset string, secrets *secretFlags) (*fixtureSigner, error) {
	f, err := fixtures.Lookup(name)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	if preset != "" {
		if f, err = f.WithPreset(preset); err != nil {
			return nil, usageErrorf("%v", err)
		}
	}
	fsg := &fixtureSigner{f: f, signed: !f.Unsigned}
	if !fsg.signed {
		if secrets.given() {
			fmt.Fprintf(std.stderr, "hooklab %s: warning: %s is not signed by its provider; the secret is not used (give -preset to sign it anyway)\n", cmd, f.Name)
		}
		return fsg, nil
	}
	if fsg.scheme, err = f.Scheme(); err != nil {
		return nil, usageErrorf("%v", err)
	}
	if fsg.keys, fsg.notes, err = secrets.keys(); err != nil {
		return nil, err
	}
	return fsg, nil
}

// request renders the fixture from seed, signs it at time at and returns
// the request for target (a target without a path gets the fixture's).
// The message id comes from the seed too, so the request is reproducible.
func (fsg *fixtureSigner) request(ctx context.Context, target string, seed int64, at time.Time) (*http.Request, error) {
	req, err := fsg.f.Request(ctx, target, fsg.keys, fsg.options(seed, at)...)
	if err != nil {
		if oe := overrideError(err); oe != err {
			return nil, oe
		}
		return nil, usageErrorf("%v", withNotes(err, fsg.notes))
	}
	return req, nil
}

// sign is request as a signed payload, for printing.
func (fsg *fixtureSigner) sign(target string, seed int64, at time.Time) (signer.Payload, error) {
	p, err := fsg.f.Sign(target, fsg.keys, fsg.options(seed, at)...)
	if err != nil {
		if oe := overrideError(err); oe != err {
			return p, oe
		}
		return p, usageErrorf("%v", withNotes(err, fsg.notes))
	}
	return p, nil
}
