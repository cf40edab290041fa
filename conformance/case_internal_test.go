package conformance

import (
	"slices"
	"testing"
)

// TestSuiteIsGroupedInGroupOrder checks the literal table: each group's
// cases are together, the groups in groupOrder, and every name unique.
func TestSuiteIsGroupedInGroupOrder(t *testing.T) {
	seen := map[string]bool{}
	last := -1
	for _, c := range all() {
		g := slices.Index(groupOrder, c.Group)
		if g < 0 {
			t.Fatalf("%s: group %q is not in groupOrder", c.ID(), c.Group)
		}
		if g < last {
			t.Errorf("%s comes after a case of group %s: the table must keep groups together, in groupOrder", c.ID(), groupOrder[last])
		}
		last = g
		if seen[c.Name] {
			t.Errorf("case name %s is used twice", c.Name)
		}
		seen[c.Name] = true
	}
}
