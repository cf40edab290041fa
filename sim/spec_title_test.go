package sim_test

import (
	"strings"
	"testing"

	"github.com/hooklab/hooklab/sim"
)

func TestSpecTitleAndIcon(t *testing.T) {
	for _, c := range []struct {
		name, spec, wantErr string
		title, icon         string
	}{
		{"both", `{"id":"gh","title":"GitHub <issues>","icon":"github"}`, "", "GitHub <issues>", "github"},
		{"any icon name", `{"id":"x","icon":"my-app-2"}`, "", "", "my-app-2"},
		{"icon with markup", `{"id":"x","icon":"<svg onload=x>"}`, `icon: "<svg onload=x>": want a name`, "", ""},
		{"icon upper case", `{"id":"x","icon":"GitHub"}`, "icon:", "", ""},
		{"icon too long", `{"id":"x","icon":"` + strings.Repeat("a", 33) + `"}`, "icon:", "", ""},
		{"title too long", `{"id":"x","title":"` + strings.Repeat("t", sim.MaxTitle+1) + `"}`, "title: 201 bytes, want at most 200", "", ""},
		{"title not a string", `{"id":"x","title":1}`, "title", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			specs, err := sim.ParseSpecs("spec.json", []byte(c.spec))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if specs[0].Title != c.title || specs[0].Icon != c.icon {
				t.Errorf("title %q icon %q, want %q %q", specs[0].Title, specs[0].Icon, c.title, c.icon)
			}
		})
	}
}
