package listen_test

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim/listen"
)

func TestParseFaults(t *testing.T) {
	tests := []struct {
		in   string
		want []listen.Fault
	}{
		{"503", []listen.Fault{{503, 1}}},
		{"503:0.25", []listen.Fault{{503, 0.25}}},
		{"500:0.1, 429:0.2", []listen.Fault{{500, 0.1}, {429, 0.2}}},
		{"200:1", []listen.Fault{{200, 1}}},
		{"599:0.5,502:0.5", []listen.Fault{{599, 0.5}, {502, 0.5}}},
	}
	for _, tt := range tests {
		got, err := listen.ParseFaults(tt.in)
		require.NoError(t, err, "ParseFaults(%q)", tt.in)
		assert.Equal(t, tt.want, got, "ParseFaults(%q)", tt.in)
	}
	bad := []string{"", " ", "abc", "99", "199", "600", "5033", "+503", "503:", "503:0", "503:-0.1", "503:1.5", "503:NaN", "503:0.6,500:0.6",
		"503:0x1p-2:1", "503,,500"}
	for _, in := range bad {
		_, err := listen.ParseFaults(in)
		assert.True(t, errors.Is(err, listen.ErrBadFault), "ParseFaults(%q) = %v, want ErrBadFault", in, err)
	}
	_, err := listen.ParseFaults("500:0.01,500:0.01,500:0.01,500:0.01,500:0.01,500:0.01,500:0.01,500:0.01,500:0.01,500:0.01,500:0.01,500:0.01,500:0.01,500:0.01,500:0.01,500:0.01,500:0.01")
	assert.ErrorContains(t, err, "more than 16")
}

func TestFaultStringRoundTrips(t *testing.T) {
	for _, f := range []listen.Fault{{503, 1}, {429, 0.25}, {500, 1e-3}} {
		got, err := listen.ParseFaults(f.String())
		require.NoError(t, err)
		assert.Equal(t, []listen.Fault{f}, got, "ParseFaults(%q)", f.String())
	}
}

// FuzzParseFaults: any --respond value parses into valid faults or is
// refused with ErrBadFault-wrapping or count errors, never a panic.
func FuzzParseFaults(f *testing.F) {
	for _, s := range []string{"503", "503:0.25", "500:0.1,429:0.2", "200:1", "5033", "503:NaN", "503:1e-300", ",", "503:0.5,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		faults, err := listen.ParseFaults(s)
		if err != nil {
			return
		}
		sum := 0.0
		for _, fa := range faults {
			if fa.Status < 200 || fa.Status > 599 || !(fa.Probability > 0 && fa.Probability <= 1) || math.IsNaN(fa.Probability) {
				t.Fatalf("ParseFaults(%q) = %+v: invalid fault", s, faults)
			}
			sum += fa.Probability
		}
		if sum > 1+1e-9 || len(faults) > listen.MaxFaults {
			t.Fatalf("ParseFaults(%q) = %+v: sum %v", s, faults, sum)
		}
	})
}
