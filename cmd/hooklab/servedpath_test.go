package main

import "testing"

// TestPickServed checks which served path a fixture's provider picks: the
// one whose id is the provider or starts with it and '-', never one of
// several, never a path outside /hooks/.
func TestPickServed(t *testing.T) {
	tests := []struct {
		name     string
		served   []string
		provider string
		want     string
	}{
		{"IDIsTheProvider", []string{"/hooks/github", "/hooks/stripe"}, "github", "/hooks/github"},
		{"IDStartsWithProviderAndDash", []string{"/hooks/github-prod", "/hooks/stripe"}, "github", "/hooks/github-prod"},
		{"SeveralMatchPicksNone", []string{"/hooks/github", "/hooks/github-prod"}, "github", ""},
		{"NoneMatches", []string{"/hooks/stripe"}, "github", ""},
		{"PrefixWithoutDashIsAnother", []string{"/hooks/githubx"}, "github", ""},
		{"PathOutsideHooksIsIgnored", []string{"/webhooks/github", "/hooks/github/x"}, "github", ""},
		{"NothingServed", nil, "github", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pickServed(tt.served, tt.provider); got != tt.want {
				t.Errorf("pickServed(%q, %q) = %q, want %q", tt.served, tt.provider, got, tt.want)
			}
		})
	}
}
