package load_test

import (
	"os"
	"runtime/debug"
	"testing"

	"github.com/hooklab/hooklab/sim/load"
)

// TestTuneGC checks that TuneGC sets LoadGCPercent only when GOGC is not
// set, and that restore puts the previous target back.
func TestTuneGC(t *testing.T) {
	tests := []struct {
		name   string
		gogc   string // "" leaves GOGC unset
		before int
		want   int
	}{
		{name: "GOGC unset: raised to LoadGCPercent", before: 100, want: load.LoadGCPercent},
		{name: "GOGC unset: a lower target is raised too", before: 50, want: load.LoadGCPercent},
		{name: "GOGC set: left as the user chose", gogc: "50", before: 50, want: 50},
		{name: "GOGC=off: left off", gogc: "off", before: -1, want: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.gogc != "" {
				t.Setenv("GOGC", tc.gogc)
			} else {
				t.Setenv("GOGC", "")
				unsetenv(t, "GOGC")
			}
			orig := debug.SetGCPercent(tc.before)
			defer debug.SetGCPercent(orig)
			restore := load.TuneGC()
			if got := debug.SetGCPercent(tc.want); got != tc.want {
				t.Errorf("after TuneGC the target is %d, want %d", got, tc.want)
			}
			restore()
			if got := debug.SetGCPercent(tc.before); got != tc.before {
				t.Errorf("after restore the target is %d, want %d", got, tc.before)
			}
		})
	}
}

// unsetenv removes key for the rest of the test (t.Setenv, called first,
// puts it back afterwards).
func unsetenv(t *testing.T, key string) {
	t.Helper()
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}
