package main

// The override flags of sign, send, load --fixture and fixtures show:
// --param NAME=VALUE, --set PATH=VALUE and --query NAME=VALUE, made on the
// rendered fixture before it is signed (see fixtures.Param, fixtures.Set
// and fixtures.Query). The parameters are set first, so a --set, --query
// or --header of a place a parameter also sets wins there.

import (
	"errors"
	"flag"
	"strings"

	"github.com/hooklab/hooklab/fixtures"
)

// overrideFlags collects repeated --param, --set and --query flags in
// order.
type overrideFlags struct {
	params  pairFlags
	sets    pairFlags
	queries pairFlags
}

// register adds -param, -set and -query to fs.
func (o *overrideFlags) register(fs *flag.FlagSet) {
	fs.Var(&o.params, "param", "with -fixture: set the fixture's parameter `NAME=VALUE` wherever the fixture puts it (customer=cus_123; see hooklab fixtures show NAME --params; made before -set, -query and -header; repeatable)")
	fs.Var(&o.sets, "set", "with -fixture: set `PATH=VALUE` in the JSON body before signing (data.object.customer=cus_123; VALUE is JSON if it parses, else a string; repeatable)")
	fs.Var(&o.queries, "query", "with -fixture: replace the query parameter `NAME=VALUE` before signing (repeatable)")
}

// given reports whether any override was given.
func (o *overrideFlags) given() bool {
	return len(o.params) > 0 || len(o.sets) > 0 || len(o.queries) > 0
}

// withoutFixture is the usage error for overrides given without -fixture.
func (o *overrideFlags) withoutFixture() error {
	if len(o.sets) == 0 && len(o.queries) == 0 {
		return usageErrorf("-param applies only with -fixture")
	}
	return usageErrorf("-set and -query apply only with -fixture")
}

// options are the overrides as fixtures options: the parameters, then
// the sets and the queries, each in the order given.
func (o *overrideFlags) options() []fixtures.Option {
	var opts []fixtures.Option
	for _, p := range o.params {
		opts = append(opts, fixtures.Param(p.name, p.value))
	}
	for _, p := range o.sets {
		opts = append(opts, fixtures.Set(p.name, p.value))
	}
	for _, p := range o.queries {
		opts = append(opts, fixtures.Query(p.name, p.value))
	}
	return opts
}

// pair is one NAME=VALUE flag.
type pair struct{ name, value string }

// pairFlags collects repeated NAME=VALUE flags in order.
type pairFlags []pair

func (*pairFlags) String() string { return "" }

// Set splits s at its first '='.
func (p *pairFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return errors.New(`want NAME=VALUE`)
	}
	*p = append(*p, pair{name: name, value: value})
	return nil
}

// overrideError makes an override the library refused a usage error
// naming the flag and the path or name; other errors are returned as they
// are.
func overrideError(err error) error {
	var oe *fixtures.OverrideError
	if errors.As(err, &oe) {
		if oe.Name == "" {
			return usageErrorf("-%s: %v", oe.Op, oe.Err)
		}
		return usageErrorf("-%s %s: %v", oe.Op, oe.Name, oe.Err)
	}
	return err
}
