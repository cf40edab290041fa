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

	"github.com/tidwall/gjson"
	"go.yaml.in/yaml/v3"
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
// by content), and validates every endpoint in it.
func LoadSpecs(path string) ([]EndpointSpec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	return ParseSpecs(path, data)
}

// ParseSpecs parses and validates the specs in data; name is the file name
// used in errors. data is one of: {"endpoints": [spec, …]}, a list of
// specs, or one spec; in JSON, or in YAML with the same shape. Errors are
// *SpecError values naming name, line and JSON path.
func ParseSpecs(name string, data []byte) ([]EndpointSpec, error) {
	lines := map[string]int{}
	js := data
	trimmed := bytes.TrimSpace(data)
	isYAML := strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") ||
		(len(trimmed) > 0 && trimmed[0] != '{' && trimmed[0] != '[')
	if isYAML {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		var root yaml.Node
		if err := dec.Decode(&root); err != nil && err != io.EOF {
			return nil, yamlError(name, err)
		}
		// Decoding once more rejects aliases that contain themselves or
		// expand without bound ("billion laughs") before yamlToJSON walks
		// them.
		var probe any
		if err := root.Decode(&probe); err != nil {
			return nil, yamlError(name, err)
		}
		var next yaml.Node
		if err := dec.Decode(&next); err != io.EOF {
			line := next.Line
			return nil, &SpecError{File: name, Line: line, Err: errors.New("a second YAML document: put every endpoint in one document, under \"endpoints\"")}
		}
		if len(root.Content) == 0 {
			return nil, &SpecError{File: name, Err: errors.New("empty file: want an endpoint spec")}
		}
		var b bytes.Buffer
		if err := yamlToJSON(&b, root.Content[0], "", lines); err != nil {
			var se *SpecError
			if errors.As(err, &se) {
				se.File = name
			}
			return nil, err
		}
		js = b.Bytes()
	}
	list, base, err := splitSpecs(js)
	if err != nil {
		return nil, jsonError(name, data, js, isYAML, lines, err)
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
			return nil, &SpecError{File: name, Line: lineOf(js, isYAML, lines, path), Path: path, Err: err}
		}
		if j, dup := seen[s.ID]; dup {
			path := joinPath(prefix, "id")
			return nil, &SpecError{File: name, Line: lineOf(js, isYAML, lines, path), Path: path,
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

func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case strings.HasPrefix(b, "["):
		return a + b
	}
	return a + "." + b
}

// lineOf finds the line of the value at path.
func lineOf(js []byte, isYAML bool, lines map[string]int, path string) int {
	for p := path; ; {
		if isYAML {
			if l, ok := lines[p]; ok {
				return l
			}
		} else if r := gjson.GetBytes(js, gjsonPath(p)); r.Exists() {
			return 1 + bytes.Count(js[:r.Index], []byte("\n"))
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return 0
		}
		p = p[:i]
	}
}

// gjsonPath turns "endpoints[0].triggers[1].filter" into gjson syntax.
func gjsonPath(p string) string {
	var b strings.Builder
	for _, seg := range splitPath(p) {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		for _, c := range seg {
			if strings.ContainsRune(`.*?|#@\!=<>%`, c) {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
		}
	}
	return b.String()
}

func splitPath(p string) []string {
	var segs []string
	for p != "" {
		switch {
		case p[0] == '.':
			p = p[1:]
		case p[0] == '[':
			j := strings.IndexByte(p, ']')
			if j < 0 {
				return append(segs, p)
			}
			segs = append(segs, p[1:j])
			p = p[j+1:]
		default:
			j := strings.IndexAny(p, ".[")
			if j < 0 {
				return append(segs, p)
			}
			segs = append(segs, p[:j])
			p = p[j:]
		}
	}
	return segs
}

// jsonError turns a document-level decoding error into a SpecError.
func jsonError(name string, orig, js []byte, isYAML bool, lines map[string]int, err error) error {
	var spe *specError
	if errors.As(err, &spe) {
		return &SpecError{File: name, Line: lineOf(js, isYAML, lines, spe.Path), Path: spe.Path, Err: spe.Err}
	}
	line := 0
	var se *json.SyntaxError
	if errors.As(err, &se) && !isYAML {
		off := int(se.Offset) + len(orig) - len(bytes.TrimLeft(orig, " \t\r\n"))
		line = 1 + bytes.Count(orig[:min(off, len(orig))], []byte("\n"))
	}
	return &SpecError{File: name, Line: line, Err: err}
}

// decodeSpec decodes one spec object strictly, part by part, so that an
// error carries the JSON path of the value at fault (a *specError).
func decodeSpec(raw json.RawMessage) (EndpointSpec, error) {
	var s EndpointSpec
	top, err := object(raw, "", "id", "source", "verify", "respondWith", "triggers", "maxBody")
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

func yamlError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return &SpecError{File: name, Line: line, Err: errors.New(msg)}
}

// yamlToJSON writes n as JSON, recording the line of every path.
func yamlToJSON(b *bytes.Buffer, n *yaml.Node, path string, lines map[string]int) error {
	lines[path] = n.Line
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteString("null")
			return nil
		}
		return yamlToJSON(b, n.Content[0], path, lines)
	case yaml.AliasNode:
		return yamlToJSON(b, n.Alias, path, lines)
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return &SpecError{Line: k.Line, Path: path, Err: errors.New("a mapping key must be a scalar")}
			}
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k.Value)
			b.Write(kb)
			b.WriteByte(':')
			if err := yamlToJSON(b, v, joinPath(path, k.Value), lines); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := yamlToJSON(b, c, path+"["+strconv.Itoa(i)+"]", lines); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			b.WriteString("null")
		case "!!bool":
			var v bool
			if err := n.Decode(&v); err != nil {
				return &SpecError{Line: n.Line, Path: path, Err: err}
			}
			b.WriteString(strconv.FormatBool(v))
		case "!!int", "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return &SpecError{Line: n.Line, Path: path, Err: err}
			}
			if json.Valid([]byte(n.Value)) {
				b.WriteString(n.Value)
			} else {
				nb, err := json.Marshal(f)
				if err != nil {
					return &SpecError{Line: n.Line, Path: path, Err: fmt.Errorf("%s is not a JSON number", n.Value)}
				}
				b.Write(nb)
			}
		default:
			sb, _ := json.Marshal(n.Value)
			b.Write(sb)
		}
	default:
		return &SpecError{Line: n.Line, Path: path, Err: fmt.Errorf("unsupported YAML node")}
	}
	return nil
}
