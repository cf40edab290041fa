package specdoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"go.yaml.in/yaml/v3"
)

// The bounds of a document.
const (
	// MaxBytes is the largest document, in bytes.
	MaxBytes = 1 << 20
	// MaxDepth is the deepest nesting of objects and lists; the document's
	// top-level object or list is at depth 1.
	MaxDepth = 64
	// MaxAliasBytes is how many bytes of JSON the YAML aliases of one
	// document may add in all, each use counted.
	MaxAliasBytes = 1 << 20
)

// An Error is a problem in a document: its line (0 when not known), the
// JSON path of the value at fault ("" for the whole document) and why.
type Error struct {
	Line int
	Path string
	Err  error
}

// Error implements error: "line 4: triggers[0].id: duplicate key (first
// at line 3)".
func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// A Doc is a decoded document. It is immutable.
type Doc struct {
	// JSON is the document as JSON: for a JSON document its bytes as
	// given, for YAML the conversion. Empty for an empty document.
	JSON []byte
	yaml *yaml.Node // the YAML document's root, or nil
}

// IsYAML reports whether a document is read as YAML: by the name's
// extension (.yaml, .yml), else when it does not start like JSON ('{' or
// '[').
func IsYAML(name string, data []byte) bool {
	if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
		return true
	}
	t := bytes.TrimSpace(data)
	return len(t) > 0 && t[0] != '{' && t[0] != '['
}

// Decode reads data, YAML when isYAML and JSON otherwise, within the
// bounds of the package. Errors are *Error values.
func Decode(data []byte, isYAML bool) (*Doc, error) {
	if len(data) > MaxBytes {
		return nil, &Error{Err: fmt.Errorf("the document has more than %d bytes", MaxBytes)}
	}
	if isYAML {
		return decodeYAML(data)
	}
	if err := checkJSON(data); err != nil {
		return nil, err
	}
	return &Doc{JSON: data}, nil
}

// Line returns the line of the value at path ("endpoints[0].verify") in
// the source, or of the deepest value on the way to it that exists; 0
// when not even the first step of the path exists. The path "" is the
// document's top-level value (0 for an empty document).
func (d *Doc) Line(path string) int {
	if path == "" {
		if d.yaml != nil {
			return d.yaml.Line
		}
		t := bytes.TrimLeft(d.JSON, " \t\r\n")
		if len(t) == 0 {
			return 0
		}
		return 1 + bytes.Count(d.JSON[:len(d.JSON)-len(t)], []byte("\n"))
	}
	if d.yaml != nil {
		return yamlLine(d.yaml, path)
	}
	for p := path; ; {
		if r := gjson.GetBytes(d.JSON, gjsonPath(p)); r.Exists() {
			return 1 + bytes.Count(d.JSON[:r.Index], []byte("\n"))
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return 0
		}
		p = p[:i]
	}
}

// JoinPath appends a path step ("id", "[2]") to a JSON path.
func JoinPath(path, step string) string {
	switch {
	case path == "":
		return step
	case step == "":
		return path
	case strings.HasPrefix(step, "["):
		return path + step
	}
	return path + "." + step
}

// index is the path step of a list element.
func index(i int) string { return "[" + strconv.Itoa(i) + "]" }

// splitPath splits "a.b[1].c" into "a", "b", "1", "c".
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

// lines counts the lines of a source up to increasing offsets.
type lines struct {
	src  []byte
	off  int
	line int
}

// at returns the line of offset off, which is at least the previous one.
func (l *lines) at(off int) int {
	off = min(off, len(l.src))
	if off < l.off {
		return 1 + bytes.Count(l.src[:off], []byte("\n"))
	}
	l.line += bytes.Count(l.src[l.off:off], []byte("\n"))
	l.off = off
	return l.line + 1
}

// checkJSON walks a JSON document token by token, without building it,
// for syntax errors, nesting deeper than MaxDepth and duplicate keys.
func checkJSON(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil // empty: the caller decides
	}
	if !json.Valid(data) {
		var raw json.RawMessage
		err := json.Unmarshal(data, &raw)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return &Error{Line: 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n")), Err: err}
		}
		return &Error{Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	w := &jsonWalker{dec: dec, lines: lines{src: data}}
	return w.value(0)
}

type jsonWalker struct {
	dec   *json.Decoder
	lines lines
	path  []string // the steps to the current value
}

func (w *jsonWalker) pathString() string {
	p := ""
	for _, s := range w.path {
		p = JoinPath(p, s)
	}
	return p
}

// value reads one value at depth (the number of objects and lists around
// it).
func (w *jsonWalker) value(depth int) error {
	tok, err := w.dec.Token()
	if err != nil {
		return &Error{Line: w.lines.at(int(w.dec.InputOffset())), Path: w.pathString(), Err: err}
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth >= MaxDepth {
		return &Error{Line: w.lines.at(int(w.dec.InputOffset())), Path: w.pathString(),
			Err: fmt.Errorf("nested deeper than %d levels", MaxDepth)}
	}
	switch d {
	case '{':
		seen := map[string]int{}
		for w.dec.More() {
			tok, err := w.dec.Token()
			if err != nil {
				return &Error{Line: w.lines.at(int(w.dec.InputOffset())), Path: w.pathString(), Err: err}
			}
			key, _ := tok.(string)
			line := w.lines.at(int(w.dec.InputOffset()))
			w.path = append(w.path, key)
			if first, dup := seen[key]; dup {
				return &Error{Line: line, Path: w.pathString(), Err: fmt.Errorf("duplicate key (first at line %d)", first)}
			}
			seen[key] = line
			if err := w.value(depth + 1); err != nil {
				return err
			}
			w.path = w.path[:len(w.path)-1]
		}
	case '[':
		for i := 0; w.dec.More(); i++ {
			w.path = append(w.path, index(i))
			if err := w.value(depth + 1); err != nil {
				return err
			}
			w.path = w.path[:len(w.path)-1]
		}
	}
	_, err = w.dec.Token() // the closing delimiter
	return err
}

// decodeYAML parses one YAML document and converts it to JSON.
func decodeYAML(data []byte) (*Doc, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil && err != io.EOF {
		return nil, yamlError(err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != io.EOF {
		if err != nil {
			return nil, yamlError(err)
		}
		return nil, &Error{Line: next.Line, Err: errors.New("a second YAML document: want everything in one document")}
	}
	if len(root.Content) == 0 {
		return &Doc{}, nil
	}
	c := &converter{anchors: map[*yaml.Node]bool{}}
	if err := c.value(root.Content[0], "", 0); err != nil {
		return nil, err
	}
	return &Doc{JSON: c.b.Bytes(), yaml: root.Content[0]}, nil
}

// yamlError turns a yaml.v3 error ("yaml: line 2: did not find expected
// key") into an *Error.
func yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return &Error{Line: line, Err: errors.New(msg)}
}

// A converter writes a YAML node tree as JSON, expanding aliases within
// MaxAliasBytes.
type converter struct {
	b bytes.Buffer
	// anchors are the anchored nodes being written, to refuse an alias
	// inside its own anchor.
	anchors map[*yaml.Node]bool
	// alias is the outermost alias being expanded (nil when none), at
	// aliasPath, since the buffer had aliasStart bytes; aliased is what
	// the aliases expanded before it added.
	alias      *yaml.Node
	aliasPath  string
	aliasStart int
	aliased    int
}

// write appends b, refusing it past the alias budget.
func (c *converter) write(b []byte) error {
	if c.alias != nil && c.aliased+c.b.Len()-c.aliasStart+len(b) > MaxAliasBytes {
		return &Error{Line: c.alias.Line, Path: c.aliasPath, Err: fmt.Errorf(
			"YAML aliases expand past %d bytes (alias *%s, anchored at line %d); write the value out or use fewer aliases",
			MaxAliasBytes, c.alias.Value, c.alias.Alias.Line)}
	}
	c.b.Write(b)
	return nil
}

func (c *converter) writeString(s string) error { return c.write([]byte(s)) }

// value writes n, found at path and depth, as JSON.
func (c *converter) value(n *yaml.Node, path string, depth int) error {
	if n.Anchor != "" {
		c.anchors[n] = true
		defer delete(c.anchors, n)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil || c.anchors[n.Alias] {
			return &Error{Line: n.Line, Path: path, Err: fmt.Errorf("alias *%s contains itself", n.Value)}
		}
		outer := c.alias == nil
		if outer {
			c.alias, c.aliasPath, c.aliasStart = n, path, c.b.Len()
		}
		err := c.value(n.Alias, path, depth)
		if outer {
			c.aliased += c.b.Len() - c.aliasStart
			c.alias = nil
		}
		return err
	case yaml.MappingNode:
		if depth >= MaxDepth {
			return &Error{Line: n.Line, Path: path, Err: fmt.Errorf("nested deeper than %d levels", MaxDepth)}
		}
		if err := c.writeString("{"); err != nil {
			return err
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return &Error{Line: k.Line, Path: path, Err: errors.New("a mapping key must be a scalar")}
			}
			p := JoinPath(path, k.Value)
			if first, dup := seen[k.Value]; dup {
				return &Error{Line: k.Line, Path: p, Err: fmt.Errorf("duplicate key (first at line %d)", first)}
			}
			seen[k.Value] = k.Line
			kb, _ := json.Marshal(k.Value)
			if i > 0 {
				kb = append([]byte{','}, kb...)
			}
			if err := c.write(append(kb, ':')); err != nil {
				return err
			}
			if err := c.value(v, p, depth+1); err != nil {
				return err
			}
		}
		return c.writeString("}")
	case yaml.SequenceNode:
		if depth >= MaxDepth {
			return &Error{Line: n.Line, Path: path, Err: fmt.Errorf("nested deeper than %d levels", MaxDepth)}
		}
		if err := c.writeString("["); err != nil {
			return err
		}
		for i, e := range n.Content {
			if i > 0 {
				if err := c.writeString(","); err != nil {
					return err
				}
			}
			if err := c.value(e, path+index(i), depth+1); err != nil {
				return err
			}
		}
		return c.writeString("]")
	case yaml.ScalarNode:
		b, err := scalar(n)
		if err != nil {
			return &Error{Line: n.Line, Path: path, Err: err}
		}
		return c.write(b)
	}
	return &Error{Line: n.Line, Path: path, Err: errors.New("unsupported YAML node")}
}

// scalar returns the JSON of a YAML scalar, by its resolved tag.
func scalar(n *yaml.Node) ([]byte, error) {
	switch n.ShortTag() {
	case "!!null":
		return []byte("null"), nil
	case "!!bool":
		switch n.Value {
		case "true", "false":
			return []byte(n.Value), nil
		}
		var v bool
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return []byte(strconv.FormatBool(v)), nil
	case "!!int", "!!float":
		if json.Valid([]byte(n.Value)) {
			return []byte(n.Value), nil // the common case, without a decoder
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		b, err := json.Marshal(f)
		if err != nil {
			return nil, fmt.Errorf("%s is not a JSON number", n.Value)
		}
		return b, nil
	}
	return json.Marshal(n.Value)
}

// yamlLine finds the line of path in the tree under root.
func yamlLine(root *yaml.Node, path string) int {
	n, line, found := root, 0, 0
	for _, seg := range splitPath(path) {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg {
					next = n.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
			}
		}
		if next == nil {
			break
		}
		n, line = next, next.Line
		found++
	}
	if found == 0 {
		return 0
	}
	return line
}
