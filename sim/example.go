package sim

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// An ExampleSpec is an example payload of an endpoint, as in Trigger.dev's
// defineHttpEndpoint({examples}): a request to trigger test runs with
// (hooklab send --example). Exactly one of Fixture and Body is set.
// The conformance suite ignores examples.
type ExampleSpec struct {
	// ID names the example; unique within its endpoint.
	ID string `json:"id"`
	// Name is an optional title.
	Name string `json:"name,omitempty"`
	// Fixture names a hooklab fixture ("stripe/checkout.session.completed",
	// see hooklab fixtures list).
	Fixture string `json:"fixture,omitempty"`
	// Set overrides fields of the fixture's JSON body before signing: a
	// JSON path ("data.object.customer") to a value, a JSON literal if it
	// parses as one, else a string (as send --set). Only with Fixture.
	Set map[string]string `json:"set,omitempty"`
	// Body is an inline body: a JSON string is sent as its text, any other
	// JSON value as written.
	Body json.RawMessage `json:"body,omitempty"`
	// Headers are set on the request before signing.
	Headers map[string]string `json:"headers,omitempty"`
}

// BodyBytes returns the bytes an inline Body sends: the text of a JSON
// string, else the JSON value itself. Nil when Body is empty.
func (e ExampleSpec) BodyBytes() []byte {
	if len(e.Body) == 0 || isNull(e.Body) {
		return nil
	}
	var s string
	if json.Unmarshal(e.Body, &s) == nil {
		return []byte(s)
	}
	return []byte(strings.TrimSpace(string(e.Body)))
}

// SetPaths returns the paths of Set, sorted, so that overrides apply in
// one order.
func (e ExampleSpec) SetPaths() []string {
	paths := make([]string, 0, len(e.Set))
	for p := range e.Set {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// Example returns the endpoint's example with the given id.
func (s EndpointSpec) Example(id string) (ExampleSpec, bool) {
	for _, e := range s.Examples {
		if e.ID == id {
			return e, true
		}
	}
	return ExampleSpec{}, false
}

// decodeExamples reads the "examples" list of a spec object strictly.
func decodeExamples(v json.RawMessage) ([]ExampleSpec, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, specErrorf("examples", "want a list of examples, got JSON %s", jsonKind(v))
	}
	out := make([]ExampleSpec, 0, len(list))
	for i, raw := range list {
		path := "examples[" + strconv.Itoa(i) + "]"
		m, err := object(raw, path, "id", "name", "fixture", "set", "body", "headers")
		if err != nil {
			return nil, err
		}
		e := ExampleSpec{}
		if b, ok := m["body"]; ok && !isNull(b) {
			e.Body = b
		}
		for _, k := range []struct {
			name string
			dst  any
		}{{"id", &e.ID}, {"name", &e.Name}, {"fixture", &e.Fixture}} {
			if err := field(m, k.name, path, k.dst); err != nil {
				return nil, err
			}
		}
		if e.Set, err = stringMap(m, "set", path); err != nil {
			return nil, err
		}
		if e.Headers, err = stringMap(m, "headers", path); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// stringMap reads m[key], if present, as an object of strings, an error
// naming the key at fault.
func stringMap(m map[string]json.RawMessage, key, path string) (map[string]string, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return nil, nil
	}
	p := joinPath(path, key)
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, specErrorf(p, "want an object of strings, got JSON %s", jsonKind(raw))
	}
	out := make(map[string]string, len(obj))
	for k, v := range obj {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return nil, specErrorf(joinPath(p, k), "want a string, got JSON %s", jsonKind(v))
		}
		out[k] = s
	}
	return out, nil
}

// validateExamples checks the examples of s: an id, unique; exactly one of
// fixture and body; set only with a fixture. Whether a fixture exists is
// not checked here (package sim does not know the catalogue): see
// CheckExampleFixtures.
func (s EndpointSpec) validateExamples() error {
	seen := map[string]int{}
	for i, e := range s.Examples {
		path := "examples[" + strconv.Itoa(i) + "]"
		switch {
		case e.ID == "":
			return specErrorf(path+".id", "required")
		case !idPattern.MatchString(e.ID):
			return specErrorf(path+".id", "%q: letters, digits and -._~ only", e.ID)
		}
		if j, dup := seen[e.ID]; dup {
			return specErrorf(path+".id", "%q is also the id of examples[%d]", e.ID, j)
		}
		seen[e.ID] = i
		hasBody := len(e.Body) > 0
		switch {
		case e.Fixture != "" && hasBody:
			return specErrorf(path, `both "fixture" and "body": give one`)
		case e.Fixture == "" && !hasBody:
			return specErrorf(path, `want "fixture" or "body"`)
		case hasBody && len(e.Set) > 0:
			return specErrorf(path+".set", `applies only with "fixture" (write the body as wanted)`)
		case e.Fixture != "" && !strings.Contains(e.Fixture, "/"):
			return specErrorf(path+".fixture", "unknown fixture %q (want provider/event, see hooklab fixtures list)", e.Fixture)
		}
		for _, p := range e.SetPaths() {
			if p == "" {
				return specErrorf(path+".set", "empty path")
			}
		}
	}
	return nil
}

// CheckExampleFixtures reports the first example of specs whose fixture
// lookup refuses (lookup is fixtures.Lookup, passed in so that package sim
// does not depend on the fixture catalogue), as a *SpecError for file
// naming the example's path: "endpoints[0].examples[1].fixture: unknown
// fixture ...". The path is that of an {"endpoints": [...]} document.
func CheckExampleFixtures(file string, specs []EndpointSpec, lookup func(name string) error) error {
	for i, s := range specs {
		for j, e := range s.Examples {
			if e.Fixture == "" {
				continue
			}
			if err := lookup(e.Fixture); err != nil {
				return &SpecError{File: file, Path: "endpoints[" + strconv.Itoa(i) + "].examples[" + strconv.Itoa(j) + "].fixture", Err: err}
			}
		}
	}
	return nil
}
