// Package fault holds the defects the reference ingress can be built with,
// to test the tester: every conformance case must fail against at least
// one fault of its profile. Each fault replaces or wraps stages of a
// profile (internal/stage); the profiles in package sim contain no fault
// branches, as testing/fstest keeps MapFS clean and its broken file
// systems outside it.
package fault

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hooklab/hooklab/internal/stage"
	"github.com/hooklab/hooklab/sim"
)

// A Fault is a named defect of one profile, a mistake real webhook
// receivers make.
type Fault struct {
	// Name is the fault's flag value, "skip-verify".
	Name string
	// Profile is the profile the fault breaks.
	Profile sim.Profile
	// Doc says what the fault does, in a phrase.
	Doc string

	// build returns the fault's change of stages; it is called once per
	// With, so a fault with state shares it among the ingresses of one
	// Config.
	build func() func(*stage.Stages)
}

// String returns the fault's name.
func (f Fault) String() string { return f.Name }

var registry []Fault

func register(p sim.Profile, name, doc string, change func(*stage.Stages)) {
	registerWithState(p, name, doc, func() func(*stage.Stages) { return change })
}

func registerWithState(p sim.Profile, name, doc string, build func() func(*stage.Stages)) {
	registry = append(registry, Fault{Name: name, Profile: p, Doc: doc, build: build})
}

// Of returns the faults of profile p ("" is sim.Strict), sorted by name.
func Of(p sim.Profile) []Fault {
	if p == "" {
		p = sim.Strict
	}
	var fs []Fault
	for _, f := range registry {
		if f.Profile == p {
			fs = append(fs, f)
		}
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	return fs
}

// Lookup returns the fault of profile p named name.
func Lookup(p sim.Profile, name string) (Fault, error) {
	fs := Of(p)
	names := make([]string, len(fs))
	for i, f := range fs {
		if f.Name == name {
			return f, nil
		}
		names[i] = f.Name
	}
	if p == "" {
		p = sim.Strict
	}
	if len(fs) == 0 {
		return Fault{}, fmt.Errorf("unknown fault %q: profile %q has no faults", name, p)
	}
	return Fault{}, fmt.Errorf("unknown fault %q of profile %q (want one of %s)", name, p, strings.Join(names, ", "))
}

// With returns cfg with the faults built in: every Ingress built from it
// has them. A fault of another profile than cfg's is an error.
func With(cfg sim.Config, fs ...Fault) (sim.Config, error) {
	p := cfg.Profile
	if p == "" {
		p = sim.Strict
	}
	for _, f := range fs {
		if f.build == nil {
			return cfg, fmt.Errorf("fault %q: not a registered fault", f.Name)
		}
		if f.Profile != p {
			return cfg, fmt.Errorf("fault %q breaks profile %q, not %q", f.Name, f.Profile, p)
		}
		stage.Wrap(&cfg, f.build())
	}
	return cfg, nil
}
