package sim_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hooklab/hooklab/sim"
)

func TestParseSpecsExamples(t *testing.T) {
	const head = `{"endpoints":[{"id":"stripe","verify":{"preset":"stripe","secret":"s"},"examples":`
	tests := []struct {
		name     string
		examples string
		wantErr  string // "" for a good spec
	}{
		{"fixture with set", `[{"id":"paid","name":"Checkout","fixture":"stripe/checkout.session.completed","set":{"data.object.customer":"cus_123"}}]`, ""},
		{"inline JSON body with headers", `[{"id":"raw","body":{"type":"x"},"headers":{"X-A":"1"}}]`, ""},
		{"inline string body", `[{"id":"raw","body":"hello"}]`, ""},
		{"id missing", `[{"fixture":"stripe/x"}]`, `endpoints[0].examples[0].id: required`},
		{"id duplicated", `[{"id":"a","body":"x"},{"id":"a","body":"y"}]`, `endpoints[0].examples[1].id: "a" is also the id of examples[0]`},
		{"neither fixture nor body", `[{"id":"a"}]`, `endpoints[0].examples[0]: want "fixture" or "body"`},
		{"both fixture and body", `[{"id":"a","body":"x"},{"id":"b","fixture":"stripe/x","body":"y"}]`, `endpoints[0].examples[1]: both "fixture" and "body"`},
		{"set with body", `[{"id":"a","body":"x","set":{"a":"1"}}]`, `endpoints[0].examples[0].set: applies only with "fixture"`},
		{"fixture not provider/event", `[{"id":"a","fixture":"checkout"}]`, `endpoints[0].examples[0].fixture: unknown fixture "checkout"`},
		{"unknown key", `[{"id":"a","body":"x","payload":1}]`, `endpoints[0].examples[0].payload: unknown key`},
		{"set not strings", `[{"id":"a","fixture":"stripe/x","set":{"a":1}}]`, `endpoints[0].examples[0].set.a: want a string, got JSON number`},
		{"not a list", `{"id":"a"}`, `endpoints[0].examples: want a list of examples, got JSON object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			specs, err := sim.ParseSpecs("hooks.json", []byte(head+tt.examples+`}]}`))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseSpecs: %v", err)
				}
				if len(specs[0].Examples) == 0 {
					t.Fatalf("examples not kept: %+v", specs[0])
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			if !errors.Is(err, sim.ErrInvalidSpec) {
				t.Errorf("error does not wrap ErrInvalidSpec: %v", err)
			}
		})
	}
}

func TestExampleBodyBytesAndSet(t *testing.T) {
	specs, err := sim.ParseSpecs("h.json", []byte(`{"id":"e","examples":[{"id":"s","body":"plain text"},{"id":"j","body":{"a":1}},{"id":"f","fixture":"stripe/x","set":{"b":"2","a":"1"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := specs[0].Example("s")
	j, _ := specs[0].Example("j")
	f, _ := specs[0].Example("f")
	if got := string(s.BodyBytes()); got != "plain text" {
		t.Errorf("string body = %q", got)
	}
	if got := string(j.BodyBytes()); got != `{"a":1}` {
		t.Errorf("JSON body = %q", got)
	}
	if got := strings.Join(f.SetPaths(), ","); got != "a,b" {
		t.Errorf("SetPaths = %q", got)
	}
	if _, ok := specs[0].Example("nope"); ok {
		t.Error("Example found an id that is not there")
	}
}

func TestCheckExampleFixturesNamesPath(t *testing.T) {
	specs := []sim.EndpointSpec{{ID: "a"}, {ID: "b", Examples: []sim.ExampleSpec{{ID: "ok", Fixture: "p/good"}, {ID: "bad", Fixture: "p/bad"}}}}
	err := sim.CheckExampleFixtures("f.json", specs, func(n string) error {
		if n == "p/bad" {
			return errors.New(`unknown fixture "p/bad"`)
		}
		return nil
	})
	if err == nil || err.Error() != `f.json: endpoints[1].examples[1].fixture: unknown fixture "p/bad"` {
		t.Fatalf("error = %v", err)
	}
}

// FuzzParseSpecsExamples: specs with examples, of any shape, parse to an
// error or to examples that are valid and whose body reads back.
func FuzzParseSpecsExamples(f *testing.F) {
	f.Add([]byte(`{"id":"e","examples":[{"id":"a","fixture":"stripe/x","set":{"data.object.customer":"cus_1"}}]}`))
	f.Add([]byte(`{"id":"e","examples":[{"id":"a","body":"text","headers":{"X":"1"}},{"id":"b","body":{"k":[1,2]}}]}`))
	f.Add([]byte("id: e\nexamples:\n  - id: a\n    body: {k: v}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		specs, err := sim.ParseSpecs("f.yaml", data)
		if err != nil {
			if !errors.Is(err, sim.ErrInvalidSpec) {
				var se *sim.SpecError
				if !errors.As(err, &se) {
					t.Fatalf("error is not a *SpecError: %v", err)
				}
			}
			return
		}
		for _, s := range specs {
			if err := s.Validate(); err != nil {
				t.Fatalf("parsed spec does not validate: %v", err)
			}
			for _, e := range s.Examples {
				if (e.Fixture == "") == (e.BodyBytes() == nil && len(e.Body) == 0) {
					t.Fatalf("example %q: want exactly one of fixture and body: %+v", e.ID, e)
				}
			}
		}
	})
}
