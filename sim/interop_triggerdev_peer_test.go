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
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
	want, err := conformance.ReadExpectations(filepath.Join(dir, tdPeerExpect))
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
	j := want.Judge(rep)
	for _, m := range j.Mismatches {
		t.Error(m)
	}
	for _, f := range j.NotRun {
		t.Errorf("expected failure %s did not run", f.Case)
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
