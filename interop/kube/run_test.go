package kube

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// repoRoot is hooklab's repository, from this module's directory.
const repoRoot = "../.."

// The plan of the local run: small enough for a loaded 2-core machine, long
// enough that 1% is a few requests.
const (
	testRate     = 200 // requests a second, the whole run
	testDuration = 5 * time.Second
	testSecret   = "kube-test-secret"
	// startAhead is how far ahead the shared start is: time for N
	// processes to start and read their flags.
	startAhead = 4 * time.Second
)

// buildTools builds hooklab and the minimal target into dir.
func buildTools(t *testing.T, dir string) (hooklab, target string) {
	t.Helper()
	hooklab, target = filepath.Join(dir, "hooklab"), filepath.Join(dir, "target")
	for out, pkg := range map[string]string{hooklab: "./cmd/hooklab", target: "./sim/load/bench/target"} {
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build -o %s %s: %v\n%s", out, pkg, err, b)
		}
	}
	return hooklab, target
}

// startTarget starts the minimal target on a free loopback port and
// returns its base URL; it is stopped when the test ends.
func startTarget(t *testing.T, bin string) string {
	t.Helper()
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("target: reading its URL: %v", err)
	}
	return strings.TrimSpace(line)
}

// pod is one emulated pod of a Job: the argv and environment the container
// runtime would start.
type pod struct {
	name string
	argv []string
	env  map[string]string
}

// emulate returns the pod the kubelet would start for c with the given
// JOB_COMPLETION_INDEX ("" for a non-indexed Job): the environment resolved
// (Env), the command line expanded (CommandLine), the volume mounted at
// reportDir instead of its mountPath, and the image's shell
// (/busybox/sh, a POSIX shell) replaced by this machine's sh.
func emulate(t *testing.T, c corev1.Container, index, reportDir string) pod {
	t.Helper()
	extra := map[string]string{}
	if index != "" {
		extra["JOB_COMPLETION_INDEX"] = index
	}
	for _, m := range c.VolumeMounts {
		if m.Name == "reports" {
			// The volume is where the mount puts it; REPORT_DIR names it.
			extra["REPORT_DIR"] = reportDir
		}
	}
	env, err := Env(c, map[string]map[string]string{"hooklab-webhook": {"secret": testSecret}}, nil, extra)
	if err != nil {
		t.Fatal(err)
	}
	argv := CommandLine(c, env)
	if argv[0] != "/busybox/sh" {
		t.Fatalf("container %s: command %q, want /busybox/sh first", c.Name, argv)
	}
	argv[0] = "sh"
	return pod{name: c.Name + "-" + index, argv: argv, env: env}
}

// result is what one process did.
type result struct {
	stdout, stderr string
	code           int
}

// run starts p with only its environment, and hooklab on PATH as in the
// image (/usr/local/bin).
func (p pod) run(binDir string) result {
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Env = []string{"PATH=" + binDir + ":/usr/local/bin:/usr/bin:/bin"}
	for k, v := range p.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
		e.WriteString(err.Error())
	}
	return result{o.String(), e.String(), code}
}

// report is the part of a hooklab load report the test compares.
type report struct {
	Requests     uint64  `json:"requests"`
	Success      uint64  `json:"success"`
	RateAchieved float64 `json:"rate_achieved"`
	Dropped      uint64  `json:"dropped"`
	Shards       int     `json:"shards"`
	raw          map[string]any
}

func readReport(t *testing.T, path string) report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := json.Unmarshal(data, &r.raw); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// within reports whether got is within frac of want.
func within(got, want, frac float64) bool { return math.Abs(got-want) <= frac*want }

// TestShardedRunMatchesUnsharded runs the load Job's exact command line
// once per index, as Kubernetes would start its pods, against one local
// target with the shared start; merges the reports with the merge Job's
// command line; and compares the merge with one unsharded run of the same
// plan against the same target.
func TestShardedRunMatchesUnsharded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hooklab and runs it for about 15 s")
	}
	tmp := t.TempDir()
	binDir := filepath.Join(tmp, "bin")
	reportDir := filepath.Join(tmp, "reports") // the volume
	for _, d := range []string{binDir, reportDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	hooklab, targetBin := buildTools(t, binDir)
	base := startTarget(t, targetBin)
	targetURL := base + "/hooks/github"

	// The user's step: render.sh with the run id, the start and the plan.
	const runID = "kube-test"
	startAt := time.Now().UTC().Truncate(time.Second).Add(startAhead + time.Second)
	out, stderr, code := renderSh(t, "-r", runID, "-s", startAt.Format(time.RFC3339),
		"-e", "TARGET_URL="+targetURL, "-e", "RATE="+strconv.Itoa(testRate), "-e", "DURATION="+testDuration.String(),
		filepath.Join(manifestDir, "load-job.yaml"), filepath.Join(manifestDir, "merge-job.yaml"))
	if code != 0 {
		t.Fatalf("render.sh = exit %d: %s", code, stderr)
	}
	m, err := Decode("rendered", []byte(out))
	if err != nil {
		t.Fatal(err)
	}
	loadJob, mergeJob := m.Jobs[0], m.Jobs[1]
	n := int(*loadJob.Spec.Completions)

	// N pods at once, JOB_COMPLETION_INDEX 0 … N-1.
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		p := emulate(t, loadJob.Spec.Template.Spec.Containers[0], strconv.Itoa(i), reportDir)
		if i == 0 {
			t.Logf("pod 0: %q", p.argv)
		}
		wg.Go(func() { results[i] = p.run(binDir) })
	}
	wg.Wait()
	runDir := filepath.Join(reportDir, runID)
	var shardFiles []string
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("pod %d: exit %d, stderr:\n%s", i, r.code, r.stderr)
		}
		f := filepath.Join(runDir, strconv.Itoa(i)+".json")
		shardFiles = append(shardFiles, f)
		checkShardReport(t, f, i, n, runID)
	}
	if t.Failed() {
		t.FailNow()
	}

	// The merge Job's command line, over the same volume.
	mp := emulate(t, mergeJob.Spec.Template.Spec.Containers[0], "", reportDir)
	mr := mp.run(binDir)
	if mr.code != 0 {
		t.Fatalf("merge: exit %d, stderr:\n%s", mr.code, mr.stderr)
	}
	t.Logf("merge printed:\n%s", mr.stdout)
	merged := readReport(t, filepath.Join(runDir, "merged.json"))

	// One unsharded run of the same plan against the same target.
	unshardedFile := filepath.Join(tmp, "unsharded.json")
	un := pod{argv: []string{hooklab, "load", "--to", targetURL, "--fixture", envValues(loadJob.Spec.Template.Spec.Containers[0])["FIXTURE"],
		"--secret-env", "WEBHOOK_SECRET", "--rate", strconv.Itoa(testRate), "--duration", testDuration.String(), "--run-id", "kube-test-unsharded", "--json"},
		env: map[string]string{"WEBHOOK_SECRET": testSecret}}
	ur := un.run(binDir)
	if ur.code != 0 {
		t.Fatalf("unsharded run: exit %d, stderr:\n%s", ur.code, ur.stderr)
	}
	if err := os.WriteFile(unshardedFile, []byte(ur.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	unsharded := readReport(t, unshardedFile)

	if !within(float64(merged.Requests), float64(unsharded.Requests), 0.01) {
		t.Errorf("merged requests = %d, unsharded %d: want within 1%%", merged.Requests, unsharded.Requests)
	}
	if !within(merged.RateAchieved, unsharded.RateAchieved, 0.01) {
		t.Errorf("merged rate_achieved = %.2f/s, unsharded %.2f/s: want within 1%%", merged.RateAchieved, unsharded.RateAchieved)
	}
	if merged.Success != merged.Requests || merged.Dropped != 0 {
		t.Errorf("merged: %d of %d requests 2xx, %d dropped; want all 2xx, none dropped", merged.Success, merged.Requests, merged.Dropped)
	}
	checkMergedNamesShards(t, merged, n, runID)

	// What merge must refuse, naming the file and why.
	dup := filepath.Join(tmp, "copy-of-0.json")
	if err := os.WriteFile(dup, mustRead(t, shardFiles[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		files []string
		want  []string
	}{
		{"Duplicate", append(append([]string{}, shardFiles...), dup), []string{"copy-of-0.json", "the same shard twice"}},
		{"Unrelated", append(append([]string{}, shardFiles...), unshardedFile), []string{"unsharded.json", "different runs"}},
		{"MissingShard", shardFiles[:n-1], []string{"shard 4 of 4 missing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := pod{argv: append([]string{hooklab, "load", "merge", "--json"}, tc.files...)}.run(binDir)
			if r.code != 2 || !containsAll(strings.ToLower(r.stderr), tc.want...) {
				t.Errorf("hooklab load merge %s = exit %d, stderr %q; want exit 2 and an error containing %q",
					strings.Join(baseNames(tc.files), " "), r.code, r.stderr, tc.want)
			}
		})
	}
}

// checkShardReport checks that shard i's report says which run and shard
// it is.
func checkShardReport(t *testing.T, path string, i, n int, runID string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("pod %d wrote no report: %v", i, err)
		return
	}
	r := readReport(t, path)
	if r.Requests == 0 || r.Success != r.Requests {
		t.Errorf("%s: %d of %d requests 2xx, want all and some", filepath.Base(path), r.Success, r.Requests)
	}
	if got := fmt.Sprint(r.raw["run_id"]); got != runID {
		t.Errorf("%s: run_id = %s, want %s", filepath.Base(path), got, runID)
	}
	// JOB_COMPLETION_INDEX i (from 0) is shard i+1 of n in the report,
	// as --shard i/n counts.
	shard, _ := r.raw["shard"].(map[string]any)
	if fmt.Sprint(shard["index"]) != strconv.Itoa(i+1) || fmt.Sprint(shard["count"]) != strconv.Itoa(n) {
		t.Errorf("%s: shard = %v, want index %d count %d", filepath.Base(path), r.raw["shard"], i+1, n)
	}
}

// checkMergedNamesShards checks that the merged report names the run and
// all n shards.
func checkMergedNamesShards(t *testing.T, merged report, n int, runID string) {
	t.Helper()
	if got := fmt.Sprint(merged.raw["run_id"]); got != runID {
		t.Errorf("merged: run_id = %s, want %s", got, runID)
	}
	if merged.Shards != n {
		t.Errorf("merged: shards = %d, want %d", merged.Shards, n)
	}
	var set struct {
		Count         int     `json:"count"`
		Indexes       []int   `json:"indexes"`
		Missing       []int   `json:"missing"`
		StartSpreadMS float64 `json:"start_spread_ms"`
	}
	b, _ := json.Marshal(merged.raw["merged"])
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("merged: merged = %s: %v", b, err)
	}
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	if set.Count != n || !slices.Equal(set.Indexes, want) || len(set.Missing) != 0 {
		t.Errorf("merged: merged = %s, want count %d, indexes %v, none missing", b, n, want)
	}
	// --start-at gives every shard the one planned start.
	if set.StartSpreadMS != 0 {
		t.Errorf("merged: start_spread_ms = %g, want 0 (every shard planned to start at --start-at)", set.StartSpreadMS)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func baseNames(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, filepath.Base(p))
	}
	return out
}
