package main

import (
	"errors"
	"strings"

	"github.com/hooklab/hooklab/internal/fault"
	"github.com/hooklab/hooklab/sim"
)

// faultFlags collects repeated --fault NAME flags; the names are looked up
// in the profile's faults when the flags are all read.
type faultFlags []string

// String lists the faults, comma-separated.
func (f *faultFlags) String() string {
	if f == nil {
		return ""
	}
	return strings.Join(*f, ", ")
}

// Set adds a fault name, which must be a fault of some profile.
func (f *faultFlags) Set(s string) error {
	for p := range sim.Profiles() {
		if _, err := fault.Lookup(p, s); err == nil {
			*f = append(*f, s)
			return nil
		}
	}
	return errors.New("unknown fault; 'hooklab conformance --faults' lists them")
}

// config returns cfg with the named faults of cfg's profile built in.
func (f faultFlags) config(cfg sim.Config) (sim.Config, error) {
	fs := make([]fault.Fault, 0, len(f))
	for _, name := range f {
		x, err := fault.Lookup(cfg.Profile, name)
		if err != nil {
			return cfg, err
		}
		fs = append(fs, x)
	}
	return fault.With(cfg, fs...)
}
