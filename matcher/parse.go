package matcher

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/hooklab/hooklab/internal/whatwg"
)

// ErrInvalidJSON is wrapped by errors for input that is not JSON.
var ErrInvalidJSON = errors.New("invalid JSON")

// A ParseError says where a filter is invalid: the JSON path inside the
// filter ("address.city[1]"), the byte offset in the input, and why.
type ParseError struct {
	Path   string
	Offset int
	Msg    string
	Err    error // ErrInvalidJSON for syntax errors, else nil
}

// Error implements error: "matcher: address.city[1]: $between wants [number, number]".
func (e *ParseError) Error() string {
	if e.Path == "" {
		return "matcher: " + e.Msg
	}
	return "matcher: " + e.Path + ": " + e.Msg
}

// Unwrap returns ErrInvalidJSON for syntax errors.
func (e *ParseError) Unwrap() error { return e.Err }

// An Option changes how a filter is parsed.
type Option func(*options)

type options struct {
	compat bool
}

// Compat parses the way the reference's zod schemas do, instead of
// rejecting what they let through silently: a content object with several
// operators is narrowed to the first operator, in the schema's union order
// ($endsWith, $startsWith, $ignoreCaseEquals, $exists, $isNull,
// $anythingBut, $gt, $lt, $gte, $lte, $between, $includes, $not), whose
// operand has the right type, and other keys of a content object are
// dropped; unknown RequestFilter keys (such as the docs' typo "header")
// are dropped; header names that are not lower-case are kept, and never
// match, as in the reference. Without Compat each of these is an error
// that says so.
func Compat() Option { return func(o *options) { o.compat = true } }

func buildOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// parser compiles filters from JSON, keeping paths and offsets for errors.
type parser struct {
	o options
}

func (p *parser) errorf(path string, at gjson.Result, format string, args ...any) error {
	return &ParseError{Path: path, Offset: at.Index, Msg: fmt.Sprintf(format, args...)}
}

// parseRoot checks data is JSON and returns its root value with offsets.
// The result reads data in place, without a copy: it must not outlive the
// call that got it, and data must not change meanwhile. Compiled filters
// copy what they keep.
func parseRoot(data []byte) (gjson.Result, error) {
	if !gjson.ValidBytes(data) {
		return gjson.Result{}, invalidJSON(data)
	}
	r := gjson.Parse(unsafe.String(unsafe.SliceData(data), len(data)))
	r.Index = len(data) - len(bytes.TrimLeft(data, " \t\r\n"))
	return r, nil
}

// invalidJSON returns the error for data that is not JSON: encoding/json's
// message and the offset of the bad byte.
func invalidJSON(data []byte) error {
	var v any
	err := json.Unmarshal(data, &v)
	off := 0
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = int(se.Offset) // bytes read, the bad one included
		if strings.HasPrefix(se.Error(), "invalid character") && off > 0 {
			off-- // point at the bad character itself
		}
	}
	msg := "not valid JSON"
	if err != nil {
		msg = strings.TrimPrefix(err.Error(), "json: ")
	}
	return &ParseError{Offset: off, Msg: msg, Err: ErrInvalidJSON}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func typeName(r gjson.Result) string {
	switch {
	case r.Type == gjson.String:
		return "a string"
	case r.Type == gjson.Number:
		return "a number"
	case r.Type == gjson.True || r.Type == gjson.False:
		return "a boolean"
	case r.Type == gjson.Null:
		return "null"
	case r.IsArray():
		return "a list"
	}
	return "an object"
}

// members returns an object's keys and values; a repeated key keeps its
// first position and its last value, as JSON.parse does.
func members(obj gjson.Result) (keys []gjson.Result, vals []gjson.Result) {
	pos := map[string]int{}
	obj.ForEach(func(k, v gjson.Result) bool {
		key := jsText(k.Str)
		if i, ok := pos[key]; ok {
			vals[i] = v
			return true
		}
		pos[key] = len(keys)
		keys = append(keys, k)
		vals = append(vals, v)
		return true
	})
	return keys, vals
}

// node compiles an EventFilter object.
func (p *parser) node(obj gjson.Result, path string) (*node, error) {
	if !obj.IsObject() {
		return nil, p.errorf(path, obj, "want an object (an EventFilter), got %s", typeName(obj))
	}
	keys, vals := members(obj)
	n := &node{entries: make([]entry, 0, len(keys))}
	for i, k := range keys {
		v := vals[i]
		kp := join(path, k.Str)
		switch {
		case v.IsArray():
			e, err := p.list(v, kp)
			if err != nil {
				return nil, err
			}
			e.key = jsText(k.Str)
			n.entries = append(n.entries, e)
		case v.IsObject():
			nested, err := p.node(v, kp)
			if err != nil {
				return nil, err
			}
			n.entries = append(n.entries, entry{key: jsText(k.Str), kind: eNested, nested: nested})
		default:
			return nil, p.errorf(kp, v, "want a list of values or operators, or a nested filter object, got %s", typeName(v))
		}
	}
	return n, nil
}

// list compiles a pattern list: literals (OR) or content filters (AND).
func (p *parser) list(arr gjson.Result, path string) (entry, error) {
	items := arr.Array()
	if len(items) == 0 {
		return entry{kind: eSkip}, nil
	}
	first := items[0]
	switch {
	case first.Type == gjson.String:
		e := entry{kind: eStrings}
		for i, it := range items {
			if it.Type != gjson.String {
				return entry{}, p.mixed(items, i, path)
			}
			e.strs = append(e.strs, jsText(it.Str))
		}
		return e, nil
	case first.Type == gjson.Number:
		e := entry{kind: eNumbers}
		for i, it := range items {
			if it.Type != gjson.Number {
				return entry{}, p.mixed(items, i, path)
			}
			e.nums = append(e.nums, parseJSNumber(it.Raw))
		}
		return e, nil
	case first.Type == gjson.True || first.Type == gjson.False:
		e := entry{kind: eBools}
		for i, it := range items {
			if it.Type != gjson.True && it.Type != gjson.False {
				return entry{}, p.mixed(items, i, path)
			}
			e.bools[boolIndex(it.Type == gjson.True)] = true
			e.blits = append(e.blits, it.Type == gjson.True)
		}
		return e, nil
	case first.IsObject():
		e := entry{kind: eContent}
		for i, it := range items {
			ip := path + "[" + strconv.Itoa(i) + "]"
			if !it.IsObject() {
				return entry{}, p.errorf(ip, it, "%s in a list of operators: literals and operators cannot be mixed (write the literal as {\"$anythingBut\"…} or split the key)", typeName(it))
			}
			o, err := p.op(it, ip)
			if err != nil {
				return entry{}, err
			}
			e.ops = append(e.ops, o)
		}
		return e, nil
	}
	return entry{}, p.errorf(path+"[0]", first, "%s is not allowed in a pattern list (want strings, numbers, booleans or operator objects)", typeName(first))
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mixed reports a list whose item i differs in type from item 0.
func (p *parser) mixed(items []gjson.Result, i int, path string) error {
	it := items[i]
	ip := path + "[" + strconv.Itoa(i) + "]"
	if it.IsObject() {
		return p.errorf(ip, it, "an operator in a list of literals: literals and operators cannot be mixed")
	}
	why := "a literal list must have one type"
	if (it.Type == gjson.String) != (items[0].Type == gjson.String) && (it.Type == gjson.Number || items[0].Type == gjson.Number) {
		why += " (30 never equals \"30\")"
	}
	return p.errorf(ip, it, "%s in a list of %ss: %s", typeName(it), strings.TrimPrefix(typeName(items[0]), "a "), why)
}

// operand checks, in the schema's union order.
type opSpec struct {
	kind  opKind
	name  string
	check func(gjson.Result) bool
	want  string
}

func isString(r gjson.Result) bool { return r.Type == gjson.String }
func isNumber(r gjson.Result) bool { return r.Type == gjson.Number }
func isBool(r gjson.Result) bool   { return r.Type == gjson.True || r.Type == gjson.False }
func isScalar(r gjson.Result) bool { return isString(r) || isNumber(r) || isBool(r) }
func isScalarList(r gjson.Result) bool {
	if !r.IsArray() {
		return false
	}
	items := r.Array()
	for _, it := range items {
		if !isScalar(it) || it.Type != items[0].Type && !(isBool(it) && isBool(items[0])) {
			return false
		}
	}
	return true
}
func isPair(r gjson.Result) bool {
	if !r.IsArray() {
		return false
	}
	items := r.Array()
	return len(items) == 2 && isNumber(items[0]) && isNumber(items[1])
}

var opSpecs = []opSpec{
	{opEndsWith, "$endsWith", isString, "a string"},
	{opStartsWith, "$startsWith", isString, "a string"},
	{opIgnoreCaseEquals, "$ignoreCaseEquals", isString, "a string"},
	{opExists, "$exists", isBool, "true or false"},
	{opIsNull, "$isNull", isBool, "true or false"},
	{opAnythingBut, "$anythingBut", isScalar, "a string, number or boolean, or a list of strings, of numbers or of booleans"},
	{opAnythingButList, "$anythingBut", isScalarList, "a string, number or boolean, or a list of strings, of numbers or of booleans"},
	{opGt, "$gt", isNumber, "a number"},
	{opLt, "$lt", isNumber, "a number"},
	{opGte, "$gte", isNumber, "a number"},
	{opLte, "$lte", isNumber, "a number"},
	{opBetween, "$between", isPair, "[number, number]"},
	{opIncludes, "$includes", isScalar, "a string, number or boolean"},
	{opNot, "$not", isScalar, "a string, number or boolean"},
}

func knownOp(name string) bool {
	for _, s := range opSpecs {
		if s.name == name {
			return true
		}
	}
	return false
}

// op compiles one content-filter object.
func (p *parser) op(obj gjson.Result, path string) (op, error) {
	keys, vals := members(obj)
	val := func(name string) (gjson.Result, bool) {
		for i, k := range keys {
			if k.Str == name {
				return vals[i], true
			}
		}
		return gjson.Result{}, false
	}
	if p.o.compat {
		// zod: the first union member that parses wins; other keys are
		// stripped.
		for _, s := range opSpecs {
			if v, ok := val(s.name); ok && s.check(v) {
				return makeOp(s, v), nil
			}
		}
		return op{}, p.errorf(path, obj, "no operator with a valid operand (the reference schema rejects it)")
	}
	var present []string
	for i, k := range keys {
		if !knownOp(k.Str) {
			if strings.HasPrefix(k.Str, "$") {
				return op{}, p.errorf(path, k, "unknown operator %s (known: $endsWith $startsWith $anythingBut $exists $gt $lt $gte $lte $between $includes $ignoreCaseEquals $isNull $not)", k.Str)
			}
			return op{}, p.errorf(path, k, "%q is not an operator (the reference schema silently drops it; use the Compat option (--compat) to do the same)", k.Str)
		}
		_ = vals[i]
		present = append(present, k.Str)
	}
	switch len(present) {
	case 0:
		return op{}, p.errorf(path, obj, "empty operator object {} (the reference schema rejects it)")
	case 1:
	default:
		kept := "none of them"
		for _, s := range opSpecs {
			if v, ok := val(s.name); ok && s.check(v) {
				kept = "only " + s.name
				break
			}
		}
		return op{}, p.errorf(path, obj, "%d operators (%s) in one object: the reference keeps %s and drops the rest; write each as its own list item, or use the Compat option (--compat) to narrow it the same way",
			len(present), strings.Join(present, ", "), kept)
	}
	v, _ := val(present[0])
	for _, s := range opSpecs {
		if s.name == present[0] && s.check(v) {
			return makeOp(s, v), nil
		}
	}
	for _, s := range opSpecs {
		if s.name == present[0] {
			return op{}, p.errorf(path, v, "%s wants %s, got %s", s.name, s.want, typeName(v))
		}
	}
	panic("unreachable")
}

// jsText returns s as JavaScript reads it from JSON text: invalid UTF-8
// replaced with U+FFFD (WHATWG decode), as the bytes were decoded to text
// before JSON.parse saw them.
func jsText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string(whatwg.DecodeUTF8([]byte(s)))
}

func toScalar(r gjson.Result) scalar {
	switch {
	case isString(r):
		return scalar{k: kString, s: jsText(r.Str)}
	case isNumber(r):
		return scalar{k: kNumber, n: parseJSNumber(r.Raw)}
	}
	return scalar{k: kBool, b: r.Type == gjson.True}
}

func makeOp(s opSpec, v gjson.Result) op {
	o := op{kind: s.kind, literal: `{"` + s.name + `":` + v.Raw + `}`}
	switch s.kind {
	case opEndsWith, opStartsWith, opIgnoreCaseEquals:
		o.str = jsText(v.Str)
	case opExists, opIsNull:
		o.b = v.Type == gjson.True
	case opAnythingBut, opIncludes, opNot:
		o.val = toScalar(v)
	case opAnythingButList:
		for _, it := range v.Array() {
			o.list = append(o.list, toScalar(it))
		}
	case opGt, opLt, opGte, opLte:
		o.num = parseJSNumber(v.Raw)
	case opBetween:
		items := v.Array()
		o.num, o.hi = parseJSNumber(items[0].Raw), parseJSNumber(items[1].Raw)
	}
	return o
}
