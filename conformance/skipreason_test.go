package conformance

import (
	"fmt"
	"strings"
	"testing"
)

// TestListReasonsGroupsByCause checks that skip reasons are grouped by
// cause, each preset written once, and the list cut after a few names.
func TestListReasonsGroupsByCause(t *testing.T) {
	// A declared GitHub app gives every other preset its own reason text,
	// naming that preset.
	declared := map[string][]string{}
	for _, p := range []string{"box", "calendly", "discord", "linear", "mux", "slack", "stripe", "zoom"} {
		declared["the declared endpoint verifies github; the case needs "+p] = []string{p}
	}
	tests := []struct {
		name   string
		prefix string
		in     map[string][]string
		want   string
	}{
		{"empty map writes nothing", ": ", nil, ""},
		{"one preset is written in the singular", ": ",
			map[string][]string{"no timestamp": {"github"}},
			": no timestamp: 1 preset (github)"},
		{"reasons naming their own preset are one cause", "; not provisioned: ", declared,
			"; not provisioned: the declared endpoint verifies github; the case needs that preset: 8 presets (box, calendly, discord, linear, …)"},
		{"causes ordered by size, then text; names sorted and listed once", ": ",
			map[string][]string{
				"no timestamp":                 {"slack", "github", "cal", "github", "typeform", "airtable"},
				"one signature per request":    {"zoom"},
				"the signature is in the body": {"mailgun", "linear"},
			},
			": no timestamp: 5 presets (airtable, cal, github, slack, …); the signature is in the body: 2 presets (linear, mailgun); one signature per request: 1 preset (zoom)"},
		{"a name inside another word is kept", ": ",
			map[string][]string{"the sandbox refused box": {"box"}},
			": the sandbox refused that preset: 1 preset (box)"},
		{"a hyphenated name is replaced whole", ": ",
			map[string][]string{"needs hubspot-v3": {"hubspot"}, "needs hubspot-v3 ": {"hubspot-v3"}},
			": needs hubspot-v3: 1 preset (hubspot); needs that preset : 1 preset (hubspot-v3)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listReasons(tt.prefix, tt.in); got != tt.want {
				t.Errorf("listReasons() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestListReasonsStaysShort checks that a reason over every preset stays
// a line, however many presets there are.
func TestListReasonsStaysShort(t *testing.T) {
	m := map[string][]string{}
	for i := range 60 {
		p := fmt.Sprintf("preset%02d", i)
		m["the declared endpoint verifies github; the case needs "+p+" ("+p+")"] = []string{p}
	}
	got := listReasons(": ", m)
	if len(got) > 200 {
		t.Errorf("listReasons() is %d bytes, want at most 200: %s", len(got), got)
	}
	if !strings.Contains(got, "60 presets (preset00, preset01, preset02, preset03, …)") {
		t.Errorf("listReasons() = %s, want the count and the first four names", got)
	}
	if strings.Count(got, "preset59") != 0 {
		t.Errorf("listReasons() = %s, want the list cut before preset59", got)
	}
}

// FuzzListReasons checks, on any reason text (a remote target's decline
// reason is untrusted) and any preset name, that grouping never panics,
// lists the preset once, and leaves no whole-word occurrence of its name
// in the cause.
func FuzzListReasons(f *testing.F) {
	f.Add("the declared endpoint verifies github; the case needs box (box)", "box")
	f.Add("box-box box_box", "box")
	f.Add("", "")
	f.Add("needs hubspot-v3", "hubspot")
	f.Fuzz(func(t *testing.T, reason, preset string) {
		got := listReasons(": ", map[string][]string{reason: {preset}})
		if !strings.HasPrefix(got, ": ") {
			t.Fatalf("listReasons() = %q, want the prefix", got)
		}
		if !strings.HasSuffix(got, ": 1 preset ("+preset+")") {
			t.Fatalf("listReasons() = %q, want the one preset listed once at the end", got)
		}
		cause := withoutName(reason, preset)
		if preset != "" && !strings.Contains("that preset", preset) && withoutName(cause, preset) != cause {
			t.Fatalf("withoutName(%q, %q) = %q, which still names the preset as a word", reason, preset, cause)
		}
	})
}
