package signer

import "testing"

func TestPresetsValidate(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Presets() {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v, want nil", s.Name, err)
		}
		if seen[s.Name] {
			t.Errorf("preset name %q used twice", s.Name)
		}
		seen[s.Name] = true
	}
	if len(seen) < 40 {
		t.Errorf("len(Presets()) = %d, want at least 40", len(seen))
	}
}
