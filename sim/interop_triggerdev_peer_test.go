package sim_test

// The Trigger.dev v2 adapter as a real peer: interop/triggerdev-ingress.mjs
// (the published @trigger.dev/sdk and core 2.3.19 behind the control
// protocol) is checked by the whole conformance suite under the
// triggerdev-v2 profile, as `hooklab conformance --target URL --profile
// triggerdev-v2` would check it, and its results must be exactly those
// its expectation file, interop/peers/triggerdev-v2.expect.yaml, lists.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hooklab/hooklab/conformance"
)

// tdPeerExpect is the adapter's expectation file.
const tdPeerExpect = "peers/triggerdev-v2.expect.yaml"

// tdPeerDecline is the reason the adapter gives (501) for a spec it
// cannot run; a case it skips must be skipped for that reason.
const tdPeerDecline = "is not a scheme verifyRequestSignature can check"

func TestTriggerDevV2AdapterPassesItsProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node and runs the whole conformance suite against it; not in -short")
	}
	dir := tdInteropDir(t)
	want, err := readPeerExpect(filepath.Join(dir, tdPeerExpect))
	if err != nil {
		t.Fatal(err)
	}
	base := startTDAdapter(t, dir)
	if err := conformance.ProbeControl(t.Context(), base); err != nil {
		t.Fatalf("ProbeControl(adapter) = %v, want a control API", err)
	}
	rep, _ := conformance.Check(t.Context(), conformance.HTTPTarget(base),
		conformance.Profile(conformance.ProfileTriggerDevV2), conformance.Parallel(4))
	if rep == nil {
		t.Fatal("Check(adapter) returned no report")
	}
	passed, failed, skipped := rep.Counts()
	t.Logf("triggerdev-ingress.mjs under triggerdev-v2: %d passed, %d failed, %d skipped (%d expected failures)", passed, failed, skipped, len(want.Failures))
	for _, p := range want.judge(rep) {
		t.Error(p)
	}
	for _, c := range rep.Cases {
		if c.Status == conformance.StatusSkip && !strings.Contains(c.Reason, tdPeerDecline) {
			t.Errorf("%s: skipped (%s), want it run: the adapter declines only schemes verifyRequestSignature cannot check", c.Case.ID(), c.Reason)
		}
	}
	if t.Failed() {
		var text bytes.Buffer
		rep.WriteText(&text, false)
		t.Logf("report:\n%s", text.String())
	}
}

// startTDAdapter starts interop/triggerdev-ingress.mjs on a free loopback
// port and returns its base URL; the test's cleanup stops it.
func startTDAdapter(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", "triggerdev-ingress.mjs", "--addr", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = tdNodeEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatalf("node triggerdev-ingress.mjs: %v", err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("node triggerdev-ingress.mjs: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if s := stderr.String(); s != "" {
			t.Logf("adapter stderr:\n\t%s", strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n\t"))
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		t.Fatalf("node triggerdev-ingress.mjs printed %q (%v), want \"listening http://…\"\n%s", line, err, stderr.String())
	}
	return base
}

// peerExpect is an expectation file: the cases a peer is known to fail,
// each with its cause and substrings of its problems (the format of
// `hooklab conformance --expect`).
type peerExpect struct {
	name     string
	Failures []peerFailure `yaml:"failures"`
}

// peerFailure is one case a peer is known to fail.
type peerFailure struct {
	Case  string `yaml:"case"`
	Cause string `yaml:"cause"`
	// Problems are substrings: every problem line of the failure must
	// contain one of them.
	Problems []string `yaml:"problems"`
}

// readPeerExpect reads an expectation file: every case a case of the
// suite, listed once, with a cause and at least one non-empty problem
// substring. Errors name the file and the entry.
func readPeerExpect(path string) (*peerExpect, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parsePeerExpect(path, data)
}

func parsePeerExpect(name string, data []byte) (*peerExpect, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	e := &peerExpect{name: name}
	if err := dec.Decode(e); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ids := map[string]bool{}
	for _, c := range conformance.Cases() {
		ids[c.ID()] = true
	}
	seen := map[string]bool{}
	for i, f := range e.Failures {
		at := fmt.Sprintf("%s: failures[%d]", name, i)
		switch {
		case !ids[f.Case]:
			return nil, fmt.Errorf("%s.case: no case %q in the suite", at, f.Case)
		case seen[f.Case]:
			return nil, fmt.Errorf("%s.case: %s listed twice", at, f.Case)
		case strings.TrimSpace(f.Cause) == "":
			return nil, fmt.Errorf("%s.cause: empty, want why %s fails", at, f.Case)
		case len(f.Problems) == 0 || slices.Contains(f.Problems, ""):
			return nil, fmt.Errorf("%s.problems: want at least one substring, none empty", at)
		}
		seen[f.Case] = true
	}
	return e, nil
}

// judge returns every result of rep the expectations do not list: a case
// failing outside the list, a listed case that did not fail, and a
// problem line of a listed failure that contains none of its substrings.
func (e *peerExpect) judge(rep *conformance.Report) []string {
	byCase := map[string]peerFailure{}
	for _, f := range e.Failures {
		byCase[f.Case] = f
	}
	var out []string
	for _, c := range rep.Cases {
		id := c.Case.ID()
		f, listed := byCase[id]
		switch {
		case c.Status == conformance.StatusFail && !listed:
			out = append(out, fmt.Sprintf("%s: failed, and %s does not list it:\n%s", id, e.name, strings.Join(c.Problems, "\n")))
		case c.Status != conformance.StatusFail && listed:
			out = append(out, fmt.Sprintf("%s: %s, want it to fail as %s lists (%s)", id, c.Status, e.name, f.Cause))
		case listed:
			for _, line := range problemLines(c.Problems) {
				if !slices.ContainsFunc(f.Problems, func(s string) bool { return strings.Contains(line, s) }) {
					out = append(out, fmt.Sprintf("%s: problem %q matches none of the problems %s lists", id, line, e.name))
				}
			}
		}
	}
	return out
}

// problemLines splits a case's problems into problem lines: each failure
// message's lines before its rule, a more indented line continuing the
// one before it.
func problemLines(problems []string) []string {
	var out []string
	for _, p := range problems {
		p, _, _ = strings.Cut(p, "\n    rule: ")
		for _, l := range strings.Split(p, "\n") {
			if strings.HasPrefix(l, "        ") && len(out) > 0 {
				out[len(out)-1] += "\n" + l
				continue
			}
			if strings.TrimSpace(l) != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

// TestPeerExpectJudge checks the judgement of a report against an
// expectation file: only an unlisted failure, a listed case that passed,
// and a listed failure's problem matching none of its substrings are
// results to report.
func TestPeerExpectJudge(t *testing.T) {
	e, err := parsePeerExpect("x.yaml", []byte(`failures:
  - case: Verify/EmptyBody
    cause: the peer parses the body first
    problems: ["status = 400, want 200", "deliveries to all = 0"]
`))
	if err != nil {
		t.Fatalf("parsePeerExpect = %v", err)
	}
	result := func(id string, st conformance.Status, problems ...string) conformance.CaseResult {
		g, n, _ := strings.Cut(id, "/")
		return conformance.CaseResult{Case: conformance.Case{Group: g, Name: n}, Status: st, Problems: problems}
	}
	const rule = "\n    rule: r\n    ref:  f\n    case: c"
	tests := []struct {
		name string
		rep  []conformance.CaseResult
		want []string // substrings of the results, in order
	}{
		{"AsListed", []conformance.CaseResult{
			result("Verify/EmptyBody", conformance.StatusFail, "POST / (x): status = 400, want 200\nPOST / (x): deliveries to all = 0, want 1"+rule),
			result("Verify/WrongSecret", conformance.StatusPass),
		}, nil},
		{"UnlistedFailure", []conformance.CaseResult{
			result("Verify/EmptyBody", conformance.StatusFail, "POST / (x): status = 400, want 200"+rule),
			result("Verify/WrongSecret", conformance.StatusFail, "POST / (x): status = 200, want 401"+rule),
		}, []string{"Verify/WrongSecret: failed, and x.yaml does not list it"}},
		{"ListedButPassed", []conformance.CaseResult{result("Verify/EmptyBody", conformance.StatusPass)},
			[]string{"Verify/EmptyBody: pass, want it to fail as x.yaml lists"}},
		{"ListedButSkipped", []conformance.CaseResult{result("Verify/EmptyBody", conformance.StatusSkip)},
			[]string{"Verify/EmptyBody: skip, want it to fail"}},
		{"OtherProblem", []conformance.CaseResult{
			result("Verify/EmptyBody", conformance.StatusFail, "POST / (x): status = 500, want 200\n        body: boom"+rule),
		}, []string{`Verify/EmptyBody: problem "POST / (x): status = 500, want 200\n        body: boom" matches none`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.judge(&conformance.Report{Cases: tt.rep})
			if len(got) != len(tt.want) {
				t.Fatalf("judge = %q, want %d results like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("judge[%d] = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

// TestParsePeerExpectErrors checks that a malformed expectation file is
// refused, naming the file and the entry.
func TestParsePeerExpectErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"UnknownCase", "failures:\n  - {case: Verify/Nope, cause: c, problems: [p]}\n", `x.yaml: failures[0].case: no case "Verify/Nope"`},
		{"Twice", "failures:\n  - {case: Verify/EmptyBody, cause: c, problems: [p]}\n  - {case: Verify/EmptyBody, cause: c, problems: [p]}\n", "failures[1].case: Verify/EmptyBody listed twice"},
		{"NoCause", "failures:\n  - {case: Verify/EmptyBody, problems: [p]}\n", "failures[0].cause: empty"},
		{"NoProblems", "failures:\n  - {case: Verify/EmptyBody, cause: c}\n", "failures[0].problems: want at least one"},
		{"EmptyProblem", "failures:\n  - {case: Verify/EmptyBody, cause: c, problems: [\"\"]}\n", "failures[0].problems"},
		{"UnknownKey", "failure: []\n", "x.yaml: "},
		{"NotYAML", "failures: [\n", "x.yaml: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parsePeerExpect("x.yaml", []byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parsePeerExpect(%q) = %v, want an error containing %q", tt.data, err, tt.want)
			}
		})
	}
}
