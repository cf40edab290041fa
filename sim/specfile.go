package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hooklab/hooklab/internal/specdoc"
)

// A SpecError is a problem in a spec file: the file, the line (0 when not
// known) and the JSON path of the value at fault.
type SpecError struct {
	File string
	Line int
	Path string
	Err  error
}

// Error implements error: "hooks.yaml:12: endpoints[0].verify.preset: unknown preset "gihub"".
func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause and ErrInvalidSpec.
func (e *SpecError) Unwrap() []error { return []error{e.Err, ErrInvalidSpec} }

// LoadSpecs reads a spec file, JSON or YAML (by extension .yaml/.yml, or
// by content), and validates every endpoint in it, as ParseSpecs does.
func LoadSpecs(path string) ([]EndpointSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	defer f.Close()
	// One byte more than a document may have, so that a larger file is
	// refused without reading it whole.
	data, err := io.ReadAll(io.LimitReader(f, specdoc.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	return ParseSpecs(path, data)
}

// ParseSpecs parses and validates the specs in data; name is the file name
// used in errors. data is one of: {"endpoints": [spec, …]}, a list of
// specs, or one spec; in JSON, or in YAML with the same shape. Errors are
// *SpecError values naming name, line and JSON path.
//
// data may come from anyone who can reach the control API, so it is read
// within bounds, whatever it holds: at most 1 MiB, objects and lists
// nested at most 64 deep, and YAML aliases adding at most 1 MiB in all
// when expanded. A key given twice in one object is an error, in JSON as
// in YAML.
func ParseSpecs(name string, data []byte) ([]EndpointSpec, error) {
	doc, err := specdoc.Decode(data, specdoc.IsYAML(name, data))
	if err != nil {
		var de *specdoc.Error
		if errors.As(err, &de) {
			return nil, &SpecError{File: name, Line: de.Line, Path: de.Path, Err: de.Err}
		}
		return nil, &SpecError{File: name, Err: err}
	}
	js := doc.JSON
	list, base, err := splitSpecs(js)
	if err != nil {
		return nil, jsonError(name, doc, err)
	}
	specs := make([]EndpointSpec, 0, len(list))
	seen := map[string]int{}
	for i, raw := range list {
		prefix := base
		if prefix != "" || len(list) > 1 || bytes.HasPrefix(bytes.TrimSpace(js), []byte("[")) {
			prefix += "[" + strconv.Itoa(i) + "]"
		}
		s, err := decodeSpec(raw)
		if err == nil {
			err = s.Validate()
		}
		if err != nil {
			var spe *specError
			path := prefix
			if errors.As(err, &spe) {
				path = joinPath(prefix, spe.Path)
				err = spe.Err
			}
			return nil, &SpecError{File: name, Line: doc.Line(path), Path: path, Err: err}
		}
		if j, dup := seen[s.ID]; dup {
			path := joinPath(prefix, "id")
			return nil, &SpecError{File: name, Line: doc.Line(path), Path: path,
				Err: fmt.Errorf("%q is also the id of endpoint %d", s.ID, j)}
		}
		seen[s.ID] = i
		specs = append(specs, s)
	}
	return specs, nil
}

// splitSpecs returns the raw specs of a document and the path prefix of
// the list ("endpoints", or "" for a bare list or one spec).
func splitSpecs(js []byte) ([]json.RawMessage, string, error) {
	t := bytes.TrimSpace(js)
	if len(t) == 0 {
		return nil, "", errors.New("empty file: want an endpoint spec")
	}
	if !json.Valid(t) {
		var x any
		return nil, "", json.Unmarshal(t, &x)
	}
	switch t[0] {
	case '[':
		var list []json.RawMessage
		err := json.Unmarshal(t, &list)
		return list, "", err
	case '{':
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(t, &doc); err != nil {
			return nil, "", err
		}
		if eps, ok := doc["endpoints"]; ok {
			if len(doc) != 1 {
				keys := make([]string, 0, len(doc))
				for k := range doc {
					if k != "endpoints" {
						keys = append(keys, k)
					}
				}
				sort.Strings(keys)
				return nil, "", &specError{Path: keys[0], Err: errors.New(`unknown key beside "endpoints"`)}
			}
			var list []json.RawMessage
			if err := json.Unmarshal(eps, &list); err != nil {
				return nil, "", &specError{Path: "endpoints", Err: errors.New("want a list of endpoint specs")}
			}
			return list, "endpoints", nil
		}
		return []json.RawMessage{t}, "", nil
	}
	return nil, "", errors.New("want an endpoint spec object, a list of them, or {\"endpoints\": [...]}")
}

var joinPath = specdoc.JoinPath

// jsonError turns a document-level decoding error into a SpecError.
func jsonError(name string, doc *specdoc.Doc, err error) error {
	var spe *specError
	if errors.As(err, &spe) {
		return &SpecError{File: name, Line: doc.Line(spe.Path), Path: spe.Path, Err: spe.Err}
	}
	return &SpecError{File: name, Err: err}
}

// decodeSpec decodes one spec object strictly, part by part, so that an
// error carries the JSON path of the value at fault (a *specError).
func decodeSpec(raw json.RawMessage) (EndpointSpec, error) {
	var s EndpointSpec
	top, err := object(raw, "", "id", "source", "title", "icon", "verify", "respondWith", "triggers", "maxBody", "dedup", "examples")
	if err != nil {
		return s, err
	}
	if err := field(top, "id", "", &s.ID); err != nil {
		return s, err
	}
	if err := field(top, "source", "", &s.Source); err != nil {
		return s, err
	}
	if err := field(top, "maxBody", "", &s.MaxBody); err != nil {
		return s, err
	}
	if err := field(top, "title", "", &s.Title); err != nil {
		return s, err
	}
	if len(s.Title) > MaxTitle {
		return s, specErrorf("title", "%d bytes, want at most %d", len(s.Title), MaxTitle)
	}
	if err := field(top, "icon", "", &s.Icon); err != nil {
		return s, err
	}
	if !validIcon(s.Icon) {
		return s, specErrorf("icon", "%s: want a name of at most 32 lower-case letters, digits and \"-\" (\"github\", \"stripe\")", quoteShort(s.Icon))
	}
	if v, ok := top["verify"]; ok && !isNull(v) {
		s.Verify = &VerifySpec{}
		if err := s.Verify.UnmarshalJSON(v); err != nil {
			return s, verifyError(err)
		}
	}
	if v, ok := top["respondWith"]; ok && !isNull(v) {
		rw, err := object(v, "respondWith", "filter", "skipTriggering", "response")
		if err != nil {
			return s, err
		}
		s.RespondWith = &RespondWithSpec{Filter: rw["filter"]}
		if err := field(rw, "skipTriggering", "respondWith", &s.RespondWith.SkipTriggering); err != nil {
			return s, err
		}
		if r, ok := rw["response"]; ok && !isNull(r) {
			resp, err := object(r, "respondWith.response", "status", "headers", "body")
			if err != nil {
				return s, err
			}
			for _, k := range []struct {
				name string
				dst  any
			}{{"status", &s.RespondWith.Response.Status}, {"headers", &s.RespondWith.Response.Headers}, {"body", &s.RespondWith.Response.Body}} {
				if err := field(resp, k.name, "respondWith.response", k.dst); err != nil {
					return s, err
				}
			}
		}
	}
	if v, ok := top["dedup"]; ok && !isNull(v) {
		d, err := object(v, "dedup", "by", "window", "max")
		if err != nil {
			return s, err
		}
		var window string
		s.Dedup = &DedupSpec{}
		for _, k := range []struct {
			name string
			dst  any
		}{{"by", &s.Dedup.By}, {"window", &window}, {"max", &s.Dedup.Max}} {
			if err := field(d, k.name, "dedup", k.dst); err != nil {
				return s, err
			}
		}
		if window != "" {
			w, err := time.ParseDuration(window)
			if err != nil {
				return s, specErrorf("dedup.window", "%q is not a duration such as \"24h\"", window)
			}
			s.Dedup.Window = w
		}
	}
	if v, ok := top["examples"]; ok && !isNull(v) {
		if s.Examples, err = decodeExamples(v); err != nil {
			return s, err
		}
	}
	if v, ok := top["triggers"]; ok && !isNull(v) {
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return s, specErrorf("triggers", "want a list of triggers, got JSON %s", jsonKind(v))
		}
		for i, tr := range list {
			path := "triggers[" + strconv.Itoa(i) + "]"
			t, err := object(tr, path, "id", "filter", "deliver")
			if err != nil {
				return s, err
			}
			ts := TriggerSpec{Filter: t["filter"]}
			if err := field(t, "id", path, &ts.ID); err != nil {
				return s, err
			}
			if err := field(t, "deliver", path, &ts.Deliver); err != nil {
				return s, err
			}
			s.Triggers = append(s.Triggers, ts)
		}
	}
	return s, nil
}

// object reads raw as a JSON object with only the given keys.
func object(raw json.RawMessage, path string, keys ...string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, specErrorf(path, "want an object, got JSON %s", jsonKind(raw))
	}
	var unknown []string
	for k := range m {
		known := false
		for _, w := range keys {
			known = known || k == w
		}
		if !known {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, specErrorf(joinPath(path, unknown[0]), "unknown key (want one of %s)", strings.Join(keys, ", "))
	}
	return m, nil
}

// field decodes m[key] into dst, if present.
func field(m map[string]json.RawMessage, key, path string, dst any) error {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		want := "a value of another type"
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			want = te.Type.String()
			switch want {
			case "string":
				want = "a string"
			case "int", "int64":
				want = "an integer"
			case "bool":
				want = "true or false"
			case "map[string]string":
				want = "an object of strings"
			}
		}
		return specErrorf(joinPath(path, key), "want %s, got JSON %s", want, jsonKind(raw))
	}
	return nil
}

// verifyError places an error of VerifySpec.UnmarshalJSON at its path.
func verifyError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "json: ")
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		return specErrorf(joinPath("verify", te.Field), "want %s, got JSON %s", te.Type, te.Value)
	case strings.HasPrefix(msg, "unknown field "):
		f, _ := strconv.Unquote(strings.TrimPrefix(msg, "unknown field "))
		return specErrorf(joinPath("verify", f), "unknown key (want one of preset, scheme, secret, secrets, secretEnv, tolerance)")
	case strings.HasPrefix(msg, "tolerance: "):
		return specErrorf("verify.tolerance", "%s", strings.TrimPrefix(msg, "tolerance: "))
	case strings.HasPrefix(msg, "secretEnv: "):
		return specErrorf("verify.secretEnv", "%s", strings.TrimPrefix(msg, "secretEnv: "))
	}
	return specErrorf("verify", "%s", msg)
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// jsonKind names the JSON type of raw.
func jsonKind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "object"
	case '[':
		return "list"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// MaxTitle is the longest EndpointSpec.Title, in bytes.
const MaxTitle = 200

// validIcon reports whether s is an icon name: "" or 1 to 32 of a-z, 0-9
// and "-".
func validIcon(s string) bool {
	if len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
