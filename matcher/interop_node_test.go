package matcher_test

// Differential tests against Trigger.dev v2's filters: eventFilterMatches,
// requestFilterMatches, EventFilterSchema and RequestFilterSchema from
// @trigger.dev/core 2.3.19 (zod 3.22.3), pinned by interop/package-lock.json.
// Each test batches its cases into Node processes running
// interop/triggerdev-filter.mjs, which reads JSON lines on stdin and writes
// one JSON line per case on stdout (zod's parse is slow, about 0.4 ms a
// filter, so large batches are split over up to two or four processes run
// at the same time).
//
// The generated cases come from a seeded PCG generator (the seed is logged;
// set MATCHER_INTEROP_SEED to replay another one). Every disagreement fails
// the test; the first 20 are printed as JSON (MATCHER_INTEROP_ALL=1 prints
// all of them).
//
// The tests skip when node or interop/node_modules is missing (install with:
// npm ci --prefix interop), and fail instead when CI is set.
//
// $ignoreCaseEquals uses String.prototype.localeCompare with the default
// locale, so Node runs with LC_ALL=en_US.UTF-8 (under a Turkish locale, for
// example, "I" and "ı" compare equal).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

const tdFilterScript = "triggerdev-filter.mjs"

// tdDefaultSeed seeds the generators unless MATCHER_INTEROP_SEED is set.
const tdDefaultSeed uint64 = 0x7269_6767_6572 // "rigger"

// --- harness ----------------------------------------------------------------

// tdInteropDir returns the interop/ directory next to matcher/, skipping (or,
// when CI is set, failing) if Node or its packages are missing.
func tdInteropDir(tb testing.TB) string {
	tb.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "interop"))
	if err != nil {
		tb.Fatalf("filepath.Abs(../interop): %v", err)
	}
	unavailable := func(why string) {
		tb.Helper()
		msg := why + "; install the Node packages with `npm ci --prefix interop` from the repository root (Node 20+)"
		if os.Getenv("CI") != "" {
			tb.Fatal(msg + " (CI is set, so a missing interop environment is a failure)")
		}
		tb.Skip(msg)
	}
	if _, err := exec.LookPath("node"); err != nil {
		unavailable("node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		unavailable(filepath.Join(dir, "node_modules") + " is missing")
	}
	return dir
}

// tdNodeEnv is the environment for Node: a fixed locale for localeCompare and
// no warnings on stderr (undici warns about the method "patch").
func tdNodeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "LANG=") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANGUAGE=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=en_US.UTF-8", "NODE_NO_WARNINGS=1")
}

// tdRunNode runs `node triggerdev-filter.mjs` in dir, writing one JSON line
// per input, and returns one raw JSON value per input, in order. zod's
// parse costs about half a millisecond a filter, so large batches are split
// over up to min(GOMAXPROCS, 4) Node processes run at the same time.
func tdRunNode(tb testing.TB, dir string, inputs []any) []json.RawMessage {
	tb.Helper()
	if len(inputs) == 0 {
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), 4, (len(inputs)+999)/1000)
	chunk := (len(inputs) + workers - 1) / workers
	type result struct {
		out []json.RawMessage
		err error
	}
	results := make([]result, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(inputs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := tdRunNodeOnce(dir, inputs[lo:hi])
			results[w] = result{out, err}
		}()
	}
	wg.Wait()
	var all []json.RawMessage
	for _, r := range results {
		if r.err != nil {
			tb.Fatal(r.err)
		}
		all = append(all, r.out...)
	}
	return all
}

func tdRunNodeOnce(dir string, inputs []any) ([]json.RawMessage, error) {
	var stdin bytes.Buffer
	enc := json.NewEncoder(&stdin)
	enc.SetEscapeHTML(false)
	for i, in := range inputs {
		if err := enc.Encode(in); err != nil {
			return nil, fmt.Errorf("encoding case %d for %s: %v", i, tdFilterScript, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", tdFilterScript)
	cmd.Dir = dir
	cmd.Env = tdNodeEnv()
	cmd.Stdin = &stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("node %s: %v\n\t%s", tdFilterScript, err, strings.ReplaceAll(stderr.String(), "\n", "\n\t"))
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != len(inputs) {
		return nil, fmt.Errorf("node %s: %d output lines for %d cases\n\tstderr: %s", tdFilterScript, len(lines), len(inputs), stderr.String())
	}
	res := make([]json.RawMessage, len(lines))
	for i, l := range lines {
		res[i] = json.RawMessage(l)
	}
	return res, nil
}

// tdNodeResult is one output line of triggerdev-filter.mjs.
type tdNodeResult struct {
	Match        *bool           `json:"match"`
	Invalid      bool            `json:"invalid"`
	Valid        *bool           `json:"valid"`
	Parsed       json.RawMessage `json:"parsed"`
	Throw        *string         `json:"throw"`
	HarnessError *string         `json:"harness_error"`
	NsPerOp      float64         `json:"ns_per_op"`
	N            int64           `json:"n"`
	Matched      bool            `json:"matched"`
}

func tdDecodeResult(tb testing.TB, raw json.RawMessage) tdNodeResult {
	tb.Helper()
	var r tdNodeResult
	if err := json.Unmarshal(raw, &r); err != nil {
		tb.Fatalf("decoding node output %s: %v", raw, err)
	}
	return r
}

func tdSeed(t *testing.T) uint64 {
	t.Helper()
	seed := tdDefaultSeed
	if s := os.Getenv("MATCHER_INTEROP_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			t.Fatalf("MATCHER_INTEROP_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %#x (replay with MATCHER_INTEROP_SEED=%#x)", seed, seed)
	return seed
}

// tdDisagreements collects failures and prints a bounded number of them.
type tdDisagreements struct {
	name  string
	total int
	kinds map[string]int
	lines []string
}

func (d *tdDisagreements) add(kind string, details map[string]any) {
	if d.kinds == nil {
		d.kinds = map[string]int{}
	}
	d.total++
	d.kinds[kind]++
	if d.total > 20 && os.Getenv("MATCHER_INTEROP_ALL") == "" {
		return
	}
	details["kind"] = kind
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(details); err != nil {
		d.lines = append(d.lines, fmt.Sprintf("%s: %v (unprintable: %v)", kind, details, err))
		return
	}
	d.lines = append(d.lines, strings.TrimSpace(b.String()))
}

func (d *tdDisagreements) report(t *testing.T, cases int) {
	t.Helper()
	if d.total == 0 {
		t.Logf("%s: %d cases, all agree with Node", d.name, cases)
		return
	}
	kinds := make([]string, 0, len(d.kinds))
	for k, n := range d.kinds {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
	}
	slices.Sort(kinds)
	t.Errorf("%s: %d disagreements in %d cases (%s); first %d:\n\t%s", d.name, d.total, cases,
		strings.Join(kinds, ", "), len(d.lines), strings.Join(d.lines, "\n\t"))
}

// tdCatch runs f, turning a panic into an error string.
func tdCatch(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint("panic: ", r)
		}
	}()
	f()
	return ""
}

// --- JSON values with control over their spelling ---------------------------

// tdNum is a JSON number literal, spelled as given ("1.0", "-0", "1e21").
type tdNum string

// tdObj is a JSON object with ordered (possibly repeated) keys.
type tdObj []tdKV

type tdKV struct {
	k string
	v any
}

// tdOmitT marks a key to leave out.
type tdOmitT struct{}

var tdOmit = tdOmitT{}

// tdEncoder writes values as JSON text; with noise it adds whitespace and
// \u escapes that every JSON parser must treat as the same value.
type tdEncoder struct {
	b     bytes.Buffer
	noise *tdGen
}

func tdEncodeJSON(v any, noise *tdGen) []byte {
	e := &tdEncoder{noise: noise}
	e.value(v)
	return e.b.Bytes()
}

func (e *tdEncoder) ws() {
	if e.noise != nil && e.noise.p(0.08) {
		e.b.WriteString(tdPick(e.noise, []string{" ", "\n", "\t", "\r\n", "  "}))
	}
}

func (e *tdEncoder) value(v any) {
	e.ws()
	switch v := v.(type) {
	case nil:
		e.b.WriteString("null")
	case bool:
		e.b.WriteString(strconv.FormatBool(v))
	case tdNum:
		e.b.WriteString(string(v))
	case int:
		e.b.WriteString(strconv.Itoa(v))
	case string:
		e.str(v)
	case []any:
		e.b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				e.b.WriteByte(',')
			}
			e.value(x)
		}
		e.ws()
		e.b.WriteByte(']')
	case tdObj:
		e.b.WriteByte('{')
		for i, kv := range v {
			if i > 0 {
				e.b.WriteByte(',')
			}
			e.ws()
			e.str(kv.k)
			e.ws()
			e.b.WriteByte(':')
			e.value(kv.v)
		}
		e.ws()
		e.b.WriteByte('}')
	default:
		panic(fmt.Sprintf("encodeJSON: unexpected %T", v))
	}
	e.ws()
}

func (e *tdEncoder) str(s string) {
	e.b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			e.b.WriteByte(s[i]) // raw invalid byte, on purpose
			i++
			continue
		}
		i += size
		switch {
		case r == '"':
			e.b.WriteString(`\"`)
		case r == '\\':
			e.b.WriteString(`\\`)
		case r < 0x20:
			fmt.Fprintf(&e.b, `\u%04x`, r)
		case e.noise != nil && e.noise.p(0.05):
			if r1, r2 := utf16.EncodeRune(r); r1 != unicode.ReplacementChar {
				fmt.Fprintf(&e.b, `\u%04x\u%04X`, r1, r2)
			} else if r == '/' && e.noise.p(0.5) {
				e.b.WriteString(`\/`)
			} else {
				fmt.Fprintf(&e.b, `\u%04X`, r)
			}
		default:
			e.b.WriteRune(r)
		}
	}
	e.b.WriteByte('"')
}

// --- generator --------------------------------------------------------------
