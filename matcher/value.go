package matcher

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/tidwall/gjson"
)

// kind is the JavaScript type of a value, as eventFilterMatches sees it.
type kind uint8

const (
	kUndefined kind = iota // a missing key
	kNull
	kBool
	kNumber
	kString
	kArray
	kObject
)

// accessor is a JSON value read either from a decoded Go value or from raw
// bytes. The matching code is generic over it, so each form is compiled on
// its own and neither boxes values.
type accessor[V any] interface {
	kind() kind
	str() string
	num() float64
	boolean() bool
	// get returns payload[key] with JavaScript's property semantics for JSON
	// values: an object's own key (the last one when a key repeats, as
	// JSON.parse keeps), an array's or string's "length" and canonical
	// indices, and undefined otherwise.
	get(key string) V
	// fields sets out[i] to payload[n.entries[i].key] for every entry,
	// reading an object once; only called where onePass is true.
	fields(n *node, out []V)
	// onePass reports whether fields is cheaper than a get per key.
	onePass() bool
	// some reports whether the value is an array with an element that
	// matches n (Array.prototype.some).
	some(n *node) bool
	// includes reports whether the value is an array holding s
	// (Array.prototype.includes).
	includes(s scalar) bool
	// raw renders the value as JSON, for explanations.
	raw() string
}

// dval is a decoded value: what encoding/json produces into an any
// (map[string]any, []any, float64 or json.Number, string, bool, nil), plus
// a flag for undefined.
type dval struct {
	v       any
	defined bool
}

func (d dval) kind() kind {
	if !d.defined {
		return kUndefined
	}
	switch d.v.(type) {
	case nil:
		return kNull
	case bool:
		return kBool
	case float64, json.Number, int, int64, float32:
		return kNumber
	case string:
		return kString
	case []any:
		return kArray
	case map[string]any:
		return kObject
	}
	return kUndefined // a Go value JSON cannot hold
}

func (d dval) str() string {
	s, _ := d.v.(string)
	return s
}

func (d dval) num() float64 {
	switch n := d.v.(type) {
	case float64:
		return n
	case json.Number:
		return parseJSNumber(string(n))
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case float32:
		return float64(n)
	}
	return 0
}

func (d dval) boolean() bool {
	b, _ := d.v.(bool)
	return b
}

func (d dval) get(key string) dval {
	switch v := d.v.(type) {
	case map[string]any:
		x, ok := v[key]
		return dval{v: x, defined: ok}
	case []any:
		if key == "length" {
			return dval{v: float64(len(v)), defined: true}
		}
		if i, ok := arrayIndex(key); ok && i < len(v) {
			return dval{v: v[i], defined: true}
		}
	case string:
		return stringProperty(v, key, func(x any) dval { return dval{v: x, defined: true} })
	}
	return dval{}
}

func (d dval) onePass() bool { return false }

func (d dval) fields(n *node, out []dval) {
	for i := range n.entries {
		out[i] = d.get(n.entries[i].key)
	}
}

func (d dval) some(n *node) bool {
	a, _ := d.v.([]any)
	for _, x := range a {
		if matchNode(n, dval{v: x, defined: true}, nil, "") {
			return true
		}
	}
	return false
}

func (d dval) includes(s scalar) bool {
	a, _ := d.v.([]any)
	for _, x := range a {
		if equalScalar(dval{v: x, defined: true}, s) {
			return true
		}
	}
	return false
}

func (d dval) raw() string {
	if !d.defined {
		return "undefined"
	}
	b, err := json.Marshal(d.v)
	if err != nil {
		return "?"
	}
	return string(b)
}

// rval is a value inside raw JSON bytes, read through gjson.
type rval struct {
	r gjson.Result
}

func (r rval) kind() kind {
	switch r.r.Type {
	case gjson.Null:
		if r.r.Raw == "" {
			return kUndefined
		}
		return kNull
	case gjson.False, gjson.True:
		return kBool
	case gjson.Number:
		return kNumber
	case gjson.String:
		return kString
	}
	if r.r.IsArray() {
		return kArray
	}
	if r.r.IsObject() {
		return kObject
	}
	return kUndefined
}

func (r rval) str() string   { return jsText(r.r.Str) }
func (r rval) num() float64  { return r.r.Num }
func (r rval) boolean() bool { return r.r.Type == gjson.True }

func (r rval) get(key string) rval {
	switch {
	case r.r.IsObject():
		var found gjson.Result
		r.r.ForEach(func(k, v gjson.Result) bool {
			if jsText(k.Str) == key {
				found = v // keep going: the last duplicate wins, as in JSON.parse
			}
			return true
		})
		return rval{found}
	case r.r.IsArray():
		if key == "length" {
			n := 0
			r.r.ForEach(func(_, _ gjson.Result) bool { n++; return true })
			return rval{gjson.Result{Type: gjson.Number, Num: float64(n), Raw: strconv.Itoa(n)}}
		}
		i, ok := arrayIndex(key)
		if !ok {
			return rval{}
		}
		var found gjson.Result
		n := 0
		r.r.ForEach(func(_, v gjson.Result) bool {
			if n == i {
				found = v
				return false
			}
			n++
			return true
		})
		return rval{found}
	case r.r.Type == gjson.String:
		return stringProperty(jsText(r.r.Str), key, func(x any) rval {
			switch x := x.(type) {
			case float64:
				return rval{gjson.Result{Type: gjson.Number, Num: x, Raw: strconv.FormatFloat(x, 'f', -1, 64)}}
			case string:
				return rval{gjson.Result{Type: gjson.String, Str: x, Raw: strconv.Quote(x)}}
			}
			return rval{}
		})
	}
	return rval{}
}

func (r rval) onePass() bool { return r.r.IsObject() }

func (r rval) fields(n *node, out []rval) {
	if !r.r.IsObject() {
		for i := range n.entries {
			out[i] = r.get(n.entries[i].key)
		}
		return
	}
	for i := range out {
		out[i] = rval{}
	}
	// One pass over the object; a repeated key's last value wins, as in
	// JSON.parse.
	r.r.ForEach(func(k, v gjson.Result) bool {
		key := jsText(k.Str)
		for i := range n.entries {
			if n.entries[i].key == key {
				out[i] = rval{v}
			}
		}
		return true
	})
}

func (r rval) some(n *node) bool {
	found := false
	if r.r.IsArray() {
		r.r.ForEach(func(_, v gjson.Result) bool {
			found = matchNode(n, rval{v}, nil, "")
			return !found
		})
	}
	return found
}

func (r rval) includes(s scalar) bool {
	found := false
	if r.r.IsArray() {
		r.r.ForEach(func(_, v gjson.Result) bool {
			found = equalScalar(rval{v}, s)
			return !found
		})
	}
	return found
}

func (r rval) raw() string {
	if r.kind() == kUndefined {
		return "undefined"
	}
	var b bytes.Buffer
	if json.Compact(&b, []byte(r.r.Raw)) != nil {
		return r.r.Raw
	}
	return b.String()
}

// arrayIndex reports whether key is a canonical array index ("0", "17",
// not "01" or "-1"), as JavaScript property keys are.
func arrayIndex(key string) (int, bool) {
	if key == "" || len(key) > 10 || (key[0] == '0' && len(key) > 1) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n >= 1<<32-1 {
		return 0, false
	}
	return n, true
}

// stringProperty is "s"[key] in JavaScript: "length" is the number of
// UTF-16 code units and a canonical index is the code unit there, as a
// one-unit string. A lone surrogate is written in WTF-8, so it equals no
// well-formed string, as in JavaScript.
func stringProperty[V any](s, key string, mk func(any) V) V {
	var zero V
	if key == "length" {
		n := 0
		for _, r := range s {
			n++
			if r > 0xffff {
				n++
			}
		}
		return mk(float64(n))
	}
	i, ok := arrayIndex(key)
	if !ok {
		return zero
	}
	u := 0
	for _, r := range s {
		if r <= 0xffff {
			if u == i {
				return mk(string(r))
			}
			u++
			continue
		}
		r -= 0x10000
		hi, lo := 0xd800+(r>>10), 0xdc00+(r&0x3ff)
		if u == i {
			return mk(wtf8(hi))
		}
		if u+1 == i {
			return mk(wtf8(lo))
		}
		u += 2
	}
	return zero
}

// wtf8 encodes a surrogate code point the way WTF-8 does.
func wtf8(r rune) string {
	return string([]byte{0xe0 | byte(r>>12), 0x80 | byte(r>>6)&0x3f, 0x80 | byte(r)&0x3f})
}

// parseJSNumber converts a JSON number literal as JSON.parse does:
// correctly rounded, overflowing to ±Infinity.
func parseJSNumber(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64) // ±Inf with ErrRange on overflow, as JavaScript
	return f
}
