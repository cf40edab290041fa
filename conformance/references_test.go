package conformance

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	// refURL is an http(s) URL in a reference; it ends at white space, a
	// semicolon or a closing parenthesis.
	refURL = regexp.MustCompile(`https?://[^\s;)]+`)
	// refFile is a file named in a reference: anything ending in .md or .go.
	refFile = regexp.MustCompile(`[\w./-]*\.(?:md|go)\b`)
	// refLabel is a section label of RULES.md (T1, F2, S10, …).
	refLabel = regexp.MustCompile(`\b[TFSHP]\d+\b`)
	// rulesHeading is a section heading of RULES.md.
	rulesHeading = regexp.MustCompile(`(?m)^### ([TFSHP]\d+)\. `)
)

// referenceProblems returns what is wrong with a case's reference: it
// must cite at least one http(s) URL or a file of this repository
// (named by its path from the repository's root, root), every file it
// names must exist, and every RULES.md label it uses must be a section
// of RULES.md (labels).
func referenceProblems(ref, root string, labels map[string]bool) []string {
	var probs []string
	if strings.TrimSpace(ref) == "" {
		return []string{"empty reference"}
	}
	cited := len(refURL.FindAllString(ref, -1)) > 0
	rest := refURL.ReplaceAllString(ref, " ")
	for _, f := range refFile.FindAllString(rest, -1) {
		if strings.Contains(f, "/") {
			if st, err := os.Stat(filepath.Join(root, filepath.FromSlash(f))); err == nil && !st.IsDir() {
				cited = true
				continue
			}
		}
		probs = append(probs, "names "+f+", which is not a file of this repository (give its path from the repository's root) nor an http(s) URL")
	}
	for _, outside := range []string{"reference/", "shared/"} {
		if strings.Contains(rest, outside) {
			probs = append(probs, "names a file under "+outside+", which is not part of this repository")
		}
	}
	if strings.Contains(rest, "RULES.md") {
		for _, l := range refLabel.FindAllString(rest, -1) {
			if !labels[l] {
				probs = append(probs, "cites "+l+", which is not a section of conformance/RULES.md")
			}
		}
	}
	if !cited {
		probs = append(probs, "cites no http(s) URL and no file of this repository")
	}
	return probs
}

// rulesLabels returns the section labels of conformance/RULES.md.
func rulesLabels(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile("RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]bool{}
	for _, m := range rulesHeading.FindAllStringSubmatch(string(data), -1) {
		labels[m[1]] = true
	}
	if len(labels) == 0 {
		t.Fatal("RULES.md has no section headings")
	}
	return labels
}

// TestCaseReferencesAreSelfContained checks that every case cites its
// rule's source where a user can read it: a public URL or a file of this
// repository, never a file outside it.
func TestCaseReferencesAreSelfContained(t *testing.T) {
	labels := rulesLabels(t)
	for _, c := range Cases() {
		for _, p := range referenceProblems(c.Reference, "..", labels) {
			t.Errorf("%s (%s): reference %q %s", c.ID(), c.Source, c.Reference, p)
		}
	}
}

// TestReferenceProblemsCatchesBadReferences checks the checker itself on
// the kinds of reference it must refuse and accept.
func TestReferenceProblemsCatchesBadReferences(t *testing.T) {
	labels := rulesLabels(t)
	tests := []struct {
		name string
		ref  string
		bad  bool
	}{
		{"a file outside the repository", "Trigger.dev v2 verifyRequestSignature (reference/triggerdev-v2.md §2)", true},
		{"a bare file name", "see RULES.md T2", true},
		{"the research notes, without a file extension", "reference/triggerdev-v2 §2; https://trigger.dev/docs", true},
		{"no source at all", "webhook senders reuse connections", true},
		{"an empty reference", " ", true},
		{"a label RULES.md lacks", "conformance/RULES.md Z9 and T99", true},
		{"a file of the repository that does not exist", "conformance/NOTES.md", true},
		{"a path under a file", "conformance/doc.go/x.go", true},
		{"an ftp URL is no source", "ftp://example.com/spec.md", true},
		{"a public URL", "RFC 9110 §5.1, https://www.rfc-editor.org/rfc/rfc9110#section-5.1", false},
		{"a URL naming a file", "https://github.com/triggerdotdev/trigger.dev/blob/%40trigger.dev%2Fsdk%402.3.18/packages/core/src/eventFilterMatches.ts (conformance/RULES.md F1)", false},
		{"RULES.md sections", "conformance/RULES.md T4 (rawBody) and S2", false},
		{"a file of the repository", "hooklab sim.ResponseSpec templates (sim/spec.go)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := referenceProblems(tt.ref, "..", labels)
			if got := len(probs) > 0; got != tt.bad {
				t.Errorf("referenceProblems(%q) = %q, want bad = %v", tt.ref, probs, tt.bad)
			}
		})
	}
}

// TestRulesCitesPublicSources checks that every section of RULES.md gives
// a public source, except hooklab's own contract (P), which cites files
// of this repository.
func TestRulesCitesPublicSources(t *testing.T) {
	data, err := os.ReadFile("RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := rulesHeading.FindAllStringSubmatchIndex(string(data), -1)
	for i, s := range sections {
		end := len(data)
		if i+1 < len(sections) {
			end = sections[i+1][0]
		}
		label, body := string(data[s[2]:s[3]]), string(data[s[0]:end])
		if strings.HasPrefix(label, "P") {
			continue
		}
		if !refURL.MatchString(body) && !strings.Contains(body, "(above)") && !strings.Contains(body, "(link in ") && !strings.Contains(body, "as F1") {
			t.Errorf("RULES.md %s gives no public source", label)
		}
	}
}
