package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzExpand checks Expand's invariants on any input: it never panics,
// leaves text without a $ as it is, and with no variables known turns
// only $$ into $ (so expanding "$$"-free input is the identity).
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"$(A)", "$$(A)", "$$$(A)", "$(A", "$", "a$b", "${A}", "$()", "$(A)$(B)", "x$(A)$$y$(", "\xff$(\xff)"} {
		f.Add(s)
	}
	env := map[string]string{"A": "1", "B": "$(A)", "": "empty"}
	f.Fuzz(func(t *testing.T, s string) {
		got := Expand(s, Lookup(env))
		if !strings.Contains(s, "$") && got != s {
			t.Errorf("Expand(%q) = %q, want it unchanged (no $)", s, got)
		}
		none := func(string) (string, bool) { return "", false }
		if !strings.Contains(s, "$$") {
			if got := Expand(s, none); got != s {
				t.Errorf("Expand(%q) with no variables = %q, want it unchanged", s, got)
			}
		}
	})
}

// FuzzDecode checks that Decode never panics and that whatever it accepts
// holds at least one object.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(manifestDir, "*.yaml"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("apiVersion: v1\nkind: Pod\nspec: {containers: [{name: a, args: ['$(X)']}]}\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode("fuzz.yaml", data)
		if err == nil && len(m.Jobs)+len(m.PVCs)+len(m.Pods) == 0 {
			t.Errorf("Decode(%q) = no objects and no error", data)
		}
	})
}
