package fault_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/internal/fault"
	"github.com/hooklab/hooklab/sim"
)

// TestOf checks that every profile's faults are sorted, named once and
// documented, and that "" means the strict profile.
func TestOf(t *testing.T) {
	assert.Equal(t, names(fault.Of(sim.Strict)), names(fault.Of("")), `Of("") is Of(Strict)`)
	for p := range sim.Profiles() {
		fs := fault.Of(p)
		names := make([]string, len(fs))
		for i, f := range fs {
			names[i] = f.Name
			assert.Equal(t, p, f.Profile, "%s: profile", f)
			assert.NotEmpty(t, f.Doc, "%s: doc", f)
			got, err := fault.Lookup(p, f.Name)
			require.NoError(t, err, "Lookup(%q, %q)", p, f.Name)
			assert.Equal(t, f.Name, got.Name)
		}
		assert.True(t, slices.IsSorted(names), "Of(%q) is sorted: %v", p, names)
		assert.Len(t, slices.Compact(slices.Clone(names)), len(names), "Of(%q): a name twice: %v", p, names)
	}
	assert.Len(t, fault.Of(sim.Strict), 29, "the strict profile's faults")
}

func names(fs []fault.Fault) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

// TestLookupAndWithErrors checks the errors for an unknown fault, a fault
// of another profile and a Fault not from this package.
func TestLookupAndWithErrors(t *testing.T) {
	_, err := fault.Lookup(sim.Strict, "Skip-Verify")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown fault "Skip-Verify" of profile "strict" (want one of any-method, `)

	_, err = fault.Lookup("no-such-profile", "skip-verify")
	assert.EqualError(t, err, `unknown fault "skip-verify": profile "no-such-profile" has no faults`)

	_, err = fault.With(sim.Config{}, fault.Fault{Name: "home-made", Profile: sim.Strict})
	assert.EqualError(t, err, `fault "home-made": not a registered fault`)

	f, err := fault.Lookup(sim.Strict, "skip-verify")
	require.NoError(t, err)
	_, err = fault.With(sim.Config{Profile: "other"}, f)
	assert.EqualError(t, err, `fault "skip-verify" breaks profile "strict", not "other"`)
}

// TestWithLeavesConfigAlone checks that building faults into a copy of a
// Config does not change the Config it came from: an ingress built from
// the original is the reference.
func TestWithLeavesConfigAlone(t *testing.T) {
	base := sim.Config{}
	f, err := fault.Lookup(sim.Strict, "skip-verify")
	require.NoError(t, err)
	broken, err := fault.With(base, f)
	require.NoError(t, err)
	g, err := fault.Lookup(sim.Strict, "any-method")
	require.NoError(t, err)
	_, err = fault.With(broken, g) // must not write into broken's change list
	require.NoError(t, err)

	spec := sim.EndpointSpec{ID: "gh", Verify: &sim.VerifySpec{Preset: "github", Secrets: nil}}
	spec.Verify.Secrets = append(spec.Verify.Secrets, mustKey(t))
	for _, tt := range []struct {
		name string
		cfg  sim.Config
		want int
	}{{"Base", base, 401}, {"Broken", broken, 200}} {
		in, err := sim.NewIngress(tt.cfg, spec)
		require.NoError(t, err)
		rec := serve(in, "POST", "/hooks/gh")
		assert.Equal(t, tt.want, rec.Code, "%s: unsigned POST", tt.name)
		assert.Equal(t, 405, serve(in, "TRACE", "/hooks/gh").Code, "%s: TRACE (any-method was added to a copy only)", tt.name)
		in.Close()
	}
}
