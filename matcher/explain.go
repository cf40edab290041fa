package matcher

import "strings"

// An Explanation says why a filter did not match: one Mismatch for every
// failing check, in filter order.
type Explanation struct {
	Mismatches []Mismatch
}

// A Mismatch is one failing check: where, which rule, what the filter
// wanted and what the payload had.
type Mismatch struct {
	// Path is where in the payload, as keys and indices:
	// "body.action", "headers.x-github-event", "address.city".
	Path string
	// Rule is "one of" for a literal list, "some" for a nested filter
	// over an array, "object" for a filter applied to a missing or null
	// value, "method" for a request method, or the operator object for a
	// content filter ({"$startsWith":"Jo"}).
	Rule string
	// Want is what the filter wanted, as JSON, when the rule does not
	// already say it.
	Want string
	// Got is the value found, as JSON, or "undefined" for a missing key.
	Got string
}

func (e *Explanation) add(path, rule, want, got string) {
	if path == "" {
		path = "(payload)"
	}
	e.Mismatches = append(e.Mismatches, Mismatch{Path: path, Rule: rule, Want: want, Got: truncate(got, 200)})
}

// String returns one mismatch per line.
func (e *Explanation) String() string {
	if e == nil {
		return ""
	}
	lines := make([]string, len(e.Mismatches))
	for i, m := range e.Mismatches {
		lines[i] = m.String()
	}
	return strings.Join(lines, "\n")
}

// String renders the mismatch as a sentence:
//
//	body.action: ["opened","closed"] does not contain "labeled"
//	name: {"$startsWith":"Jo"} does not match "Jane"
//	address: no element matches {"city":["Anytown"]} in [{"city":"Othertown"}]
func (m Mismatch) String() string {
	switch m.Rule {
	case "one of", "method":
		return m.Path + ": " + m.Want + " does not contain " + m.Got
	case "some":
		return m.Path + ": no element matches " + m.Want + " in " + m.Got
	case "object":
		return m.Path + ": want " + m.Want + ", got " + m.Got
	}
	return m.Path + ": " + m.Rule + " does not match " + m.Got
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
