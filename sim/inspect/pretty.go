package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// A Line is one line of a pretty-printed JSON body; Hit marks a line
// whose key path a trigger's filter reads.
type Line struct {
	Text string
	Hit  bool
}

// maxPrettyDepth bounds the nesting prettyJSON follows.
const maxPrettyDepth = 64

var errTooDeep = errors.New("nested too deep")

// prettyJSON pretty-prints body, keeping the order of object keys, and
// marks the lines whose key path ("data.object.id"; array elements share
// their array's path) is in hits. It returns false when body is not one
// JSON value (or is nested deeper than maxPrettyDepth).
func prettyJSON(body []byte, hits map[string]bool) ([]Line, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	p := &printer{dec: dec, hits: hits}
	if err := p.value("", "", 0, ""); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return p.lines, true
}

type printer struct {
	dec   *json.Decoder
	hits  map[string]bool
	lines []Line
}

// value prints one value at path, prefixed by key (`"name": ` or "") and
// followed by suffix ("," or "").
func (p *printer) value(path, key string, depth int, suffix string) error {
	if depth > maxPrettyDepth {
		return errTooDeep
	}
	tok, err := p.dec.Token()
	if err != nil {
		return err
	}
	ind := strings.Repeat("  ", depth)
	hit := p.hits[path]
	switch d := tok.(type) {
	case json.Delim:
		closer := "]"
		if d == '{' {
			closer = "}"
		}
		if !p.dec.More() {
			if _, err := p.dec.Token(); err != nil {
				return err
			}
			p.lines = append(p.lines, Line{ind + key + string(d) + closer + suffix, hit})
			return nil
		}
		p.lines = append(p.lines, Line{ind + key + string(d), hit})
		for p.dec.More() {
			childPath, childKey := path, ""
			if d == '{' {
				kt, err := p.dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				childKey = quoteJSON(k) + ": "
				if childPath == "" {
					childPath = k
				} else {
					childPath += "." + k
				}
			}
			if err := p.value(childPath, childKey, depth+1, ","); err != nil {
				return err
			}
		}
		if _, err := p.dec.Token(); err != nil {
			return err
		}
		// The last child has no comma.
		last := &p.lines[len(p.lines)-1]
		last.Text = strings.TrimSuffix(last.Text, ",")
		p.lines = append(p.lines, Line{ind + closer + suffix, hit})
	default:
		b := marshalText(d)
		if d == nil {
			b = []byte("null")
		}
		if n, ok := d.(json.Number); ok {
			b = []byte(n.String())
		}
		p.lines = append(p.lines, Line{ind + key + string(b) + suffix, hit})
	}
	return nil
}

func quoteJSON(s string) string { return string(marshalText(s)) }

// marshalText is json.Marshal without its HTML escaping: a body's "<"
// stays "<" (html/template escapes it when the page is rendered), so
// the page shows the text that was sent, not "\u003c".
func marshalText(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// filterPaths returns the key paths a request filter reads in the body
// ("action", "pull_request.draft"): every key under its "body", operator
// objects ({"$startsWith": …}) excluded.
func filterPaths(filter []byte, into map[string]bool) {
	var f struct {
		Body json.RawMessage `json:"body"`
	}
	if json.Unmarshal(filter, &f) != nil || len(f.Body) == 0 {
		return
	}
	var walk func(raw json.RawMessage, path string, depth int)
	walk = func(raw json.RawMessage, path string, depth int) {
		var m map[string]json.RawMessage
		if depth > maxPrettyDepth || json.Unmarshal(raw, &m) != nil {
			return
		}
		for k, v := range m {
			if strings.HasPrefix(k, "$") {
				continue
			}
			p := k
			if path != "" {
				p = path + "." + k
			}
			into[p] = true
			walk(v, p, depth+1)
		}
	}
	walk(f.Body, "", 0)
}
