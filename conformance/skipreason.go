package conformance

import (
	"fmt"
	"sort"
	"strings"
)

// reasonListMax is how many preset names a grouped reason lists before it
// cuts the list with "…".
const reasonListMax = 4

// listReasons writes "prefix cause: N presets (a, b, c, …); cause: d" for
// a map from a reason to the presets it was given for, or "" for an empty
// map. Reasons that differ only by the preset they name (the declared
// endpoint's "…the case needs box", "…the case needs calendly") are one
// cause, with the preset's name written as "that preset"; each cause lists
// its presets once, sorted, and at most reasonListMax of them. Causes are
// ordered by how many presets they cover, most first, then by text.
func listReasons(prefix string, m map[string][]string) string {
	if len(m) == 0 {
		return ""
	}
	groups := map[string]map[string]bool{}
	for reason, presets := range m {
		for _, p := range presets {
			cause := withoutName(reason, p)
			if groups[cause] == nil {
				groups[cause] = map[string]bool{}
			}
			groups[cause][p] = true
		}
		if len(presets) == 0 {
			if groups[reason] == nil {
				groups[reason] = map[string]bool{}
			}
		}
	}
	type group struct {
		cause   string
		presets []string
	}
	gs := make([]group, 0, len(groups))
	for cause, set := range groups {
		g := group{cause: cause}
		for p := range set {
			g.presets = append(g.presets, p)
		}
		sort.Strings(g.presets)
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool {
		if len(gs[i].presets) != len(gs[j].presets) {
			return len(gs[i].presets) > len(gs[j].presets)
		}
		return gs[i].cause < gs[j].cause
	})
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = g.cause + presetList(g.presets)
	}
	return prefix + strings.Join(parts, "; ")
}

// presetList is ": N presets (a, b, …)", ": 1 preset (a)" or "" for none.
func presetList(ps []string) string {
	switch len(ps) {
	case 0:
		return ""
	case 1:
		return ": 1 preset (" + ps[0] + ")"
	}
	shown := ps
	more := ""
	if len(ps) > reasonListMax {
		shown, more = ps[:reasonListMax], ", …"
	}
	return fmt.Sprintf(": %d presets (%s%s)", len(ps), strings.Join(shown, ", "), more)
}

// withoutName returns reason with every whole-word occurrence of name
// (delimited by anything but a letter, digit, '-' or '_') written as
// "that preset".
func withoutName(reason, name string) string {
	if name == "" {
		return reason
	}
	var b strings.Builder
	rest := reason
	for {
		i := strings.Index(rest, name)
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		end := i + len(name)
		whole := (i == 0 || !nameByte(rest[i-1])) && (end == len(rest) || !nameByte(rest[end]))
		b.WriteString(rest[:i])
		if whole {
			b.WriteString("that preset")
		} else {
			b.WriteString(name)
		}
		rest = rest[end:]
	}
}

// nameByte reports a byte that can be part of a preset name.
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
