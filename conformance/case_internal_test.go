package conformance

import (
	"regexp"
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

// TestTemplatesAreTheDocumentedSubset keeps PROTOCOL.md's promise that
// the specs the suite sends use only a few template forms, which an
// implementation in another language can replace with string
// substitution.
func TestTemplatesAreTheDocumentedSubset(t *testing.T) {
	action := regexp.MustCompile(`\{\{.*?\}\}`)
	documented := regexp.MustCompile(`^\{\{(query "[^"]+"|json \(query "[^"]+"\)|header "[^"]+"|body "[\w.]+"|json \(body "[\w.]+"\)|json \(hmac "sha256" \(body "[\w.]+"\)\)|json rawBody|method)\}\}$`)
	seen := 0
	for _, c := range all() {
		if c.spec == nil {
			continue
		}
		rw := c.spec().RespondWith
		if rw == nil {
			continue
		}
		texts := []string{rw.Response.Body}
		for _, v := range rw.Response.Headers {
			texts = append(texts, v)
		}
		for _, text := range texts {
			for _, a := range action.FindAllString(text, -1) {
				seen++
				if !documented.MatchString(a) {
					t.Errorf("%s: template action %s is not one of the forms PROTOCOL.md lists", c.ID(), a)
				}
			}
		}
	}
	if seen < 5 {
		t.Fatalf("%d template actions found in the suite's specs, want those of the RespondWith cases (5 or more)", seen)
	}
}
