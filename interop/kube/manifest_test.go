package kube

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// manifestDir is deploy/kubernetes, from this module's directory.
const manifestDir = "../../deploy/kubernetes"

// decodeFile decodes one manifest of the recipe, failing the test on error.
func decodeFile(t *testing.T, name string) *Manifests {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(manifestDir, name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(name, data)
	if err != nil {
		t.Fatalf("Decode(%s): %v", name, err)
	}
	return m
}

// oneJob returns the one Job of m.
func oneJob(t *testing.T, name string, m *Manifests) *batchv1.Job {
	t.Helper()
	if len(m.Jobs) != 1 || len(m.PVCs)+len(m.Pods) != 0 {
		t.Fatalf("%s: %d Jobs, %d claims, %d Pods, want one Job", name, len(m.Jobs), len(m.PVCs), len(m.Pods))
	}
	return m.Jobs[0]
}

func TestEveryManifestDecodesStrictly(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(manifestDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("Glob(%s/*.yaml) = %v, want load-job.yaml, merge-job.yaml and reports-pvc.yaml at least", manifestDir, files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { decodeFile(t, filepath.Base(f)) })
	}
}

func TestDecodeRefusesWhatTheAPIServerWould(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"UnknownField", "apiVersion: batch/v1\nkind: Job\nspec:\n  completionMod: Indexed\n", `unknown field "completionMod"`},
		{"UnknownFieldInContainer", "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          argz: [x]\n", `unknown field "argz"`},
		{"DuplicateField", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: a\n  name: b\n", `"name" already set`},
		{"WrongType", "apiVersion: batch/v1\nkind: Job\nspec:\n  completions: four\n", "completions"},
		{"OtherKind", "apiVersion: apps/v1\nkind: Deployment\n", `kind "Deployment"`},
		{"Empty", "# nothing\n---\n", "no document"},
		{"SecondDocument", "apiVersion: v1\nkind: PersistentVolumeClaim\n---\napiVersion: batch/v1\nkind: Job\nspex: {}\n", "document 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode("x.yaml", []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Decode(%q) = %v, want an error containing %q", tc.doc, err, tc.want)
			}
		})
	}
}

func TestLoadJob(t *testing.T) {
	checkLoadJob(t, "load-job.yaml", oneJob(t, "load-job.yaml", decodeFile(t, "load-job.yaml")), 4)
}

// checkLoadJob checks the fields the recipe depends on in the load Job,
// which must run shards shards.
func checkLoadJob(t *testing.T, name string, job *batchv1.Job, shards int32) {
	t.Helper()
	spec := job.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("%s: completionMode = %v, want Indexed", name, spec.CompletionMode)
	}
	if spec.Completions == nil || spec.Parallelism == nil || *spec.Completions != shards || *spec.Parallelism != shards {
		t.Errorf("%s: completions, parallelism = %v, %v, want %d, %d", name, ptrString(spec.Completions), ptrString(spec.Parallelism), shards, shards)
	}
	// A retried shard would send its requests twice: no retries.
	if spec.BackoffLimitPerIndex == nil || *spec.BackoffLimitPerIndex != 0 {
		t.Errorf("%s: backoffLimitPerIndex = %v, want 0", name, ptrString(spec.BackoffLimitPerIndex))
	}
	if spec.BackoffLimit != nil {
		t.Errorf("%s: backoffLimit = %d, want unset (a Job-wide limit would stop every shard when one fails)", name, *spec.BackoffLimit)
	}
	if spec.ActiveDeadlineSeconds == nil || *spec.ActiveDeadlineSeconds < 120 {
		t.Errorf("%s: activeDeadlineSeconds = %v, want at least 120", name, ptrString(spec.ActiveDeadlineSeconds))
	}
	if spec.TTLSecondsAfterFinished == nil {
		t.Errorf("%s: ttlSecondsAfterFinished unset", name)
	}
	pod := spec.Template.Spec
	c := checkPod(t, name, pod, "load")
	if !hasFailJobOnExit2(spec.PodFailurePolicy, c.Name) {
		t.Errorf("%s: podFailurePolicy = %+v, want a FailJob rule for exit code 2 of container %s", name, spec.PodFailurePolicy, c.Name)
	}
	if len(c.Args) != 1 || !slices.Equal(c.Command, []string{"/busybox/sh", "-c"}) {
		t.Fatalf("%s: command, args = %q, %q, want /busybox/sh -c and one script", name, c.Command, c.Args)
	}
	words := shellWords(c.Args[0])
	for flag, want := range map[string]string{
		"--shard":    "auto/" + itoa(shards),
		"--start-at": "$(START_AT)",
		"--run-id":   "$(RUN_ID)",
		"--to":       "$(TARGET_URL)",
		"--rate":     "$(RATE)",
	} {
		if got, ok := flagValue(words, flag); !ok || got != want {
			t.Errorf("%s: args: %s = %q (given: %v), want %q", name, flag, got, ok, want)
		}
	}
	if !slices.Contains(words, "--json") {
		t.Errorf("%s: args %q: no --json", name, words)
	}
	// The report goes to the volume, named by the 0-based index.
	if want := `> $(REPORT_DIR)/$(RUN_ID)/${JOB_COMPLETION_INDEX}.json`; !strings.HasSuffix(strings.Join(words, " "), want) {
		t.Errorf("%s: args end %q, want %q", name, lastN(words, 2), want)
	}
	env := envValues(c)
	for _, v := range []string{"RUN_ID", "START_AT", "TARGET_URL", "RATE", "DURATION", "FIXTURE", "REPORT_DIR"} {
		if _, ok := env[v]; !ok {
			t.Errorf("%s: env %s is not set: the command line uses $(%s)", name, v, v)
		}
	}
	if env["RUN_ID"] != job.Labels["hooklab.dev/run-id"] || env["RUN_ID"] != job.Spec.Template.Labels["hooklab.dev/run-id"] || job.Name != "hooklab-load-"+env["RUN_ID"] {
		t.Errorf("%s: RUN_ID %q, Job %s, labels %q and %q: want the one run id", name, env["RUN_ID"], job.Name, job.Labels["hooklab.dev/run-id"], job.Spec.Template.Labels["hooklab.dev/run-id"])
	}
	checkReportsMount(t, name, pod, c, env)
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() || !c.Resources.Requests.Cpu().Equal(*c.Resources.Limits.Cpu()) {
		t.Errorf("%s: resources = %v, want cpu requests equal to limits and a memory limit", name, c.Resources)
	}
}

func TestMergeJob(t *testing.T) {
	name := "merge-job.yaml"
	job := oneJob(t, name, decodeFile(t, name))
	if job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion {
		t.Errorf("%s: completionMode Indexed, want one pod", name)
	}
	if job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 0 {
		t.Errorf("%s: backoffLimit = %v, want 0", name, ptrString(job.Spec.BackoffLimit))
	}
	c := checkPod(t, name, job.Spec.Template.Spec, "merge")
	words := shellWords(strings.Join(c.Args, " "))
	if i := slices.Index(words, "merge"); i < 1 || words[i-1] != "load" || !slices.Contains(words, "[0-9]*.json") {
		t.Errorf("%s: args %q, want hooklab load merge … [0-9]*.json", name, words)
	}
	env := envValues(c)
	checkReportsMount(t, name, job.Spec.Template.Spec, c, env)
	load := oneJob(t, "load-job.yaml", decodeFile(t, "load-job.yaml"))
	lc := load.Spec.Template.Spec.Containers[0]
	if c.Image != lc.Image {
		t.Errorf("%s: image %s, load-job.yaml's %s: want the same", name, c.Image, lc.Image)
	}
	if env["RUN_ID"] != envValues(lc)["RUN_ID"] {
		t.Errorf("%s: RUN_ID %q, load-job.yaml's %q: want the same", name, env["RUN_ID"], envValues(lc)["RUN_ID"])
	}
}

func TestReportsClaim(t *testing.T) {
	m := decodeFile(t, "reports-pvc.yaml")
	if len(m.PVCs) != 1 {
		t.Fatalf("reports-pvc.yaml: %d claims, want 1", len(m.PVCs))
	}
	pvc := m.PVCs[0]
	if !slices.Equal(pvc.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}) {
		t.Errorf("reports-pvc.yaml: accessModes = %v, want [ReadWriteMany]: every shard's pod writes to it, on any node", pvc.Spec.AccessModes)
	}
	for _, f := range []string{"load-job.yaml", "merge-job.yaml"} {
		for _, v := range oneJob(t, f, decodeFile(t, f)).Spec.Template.Spec.Volumes {
			if v.Name == "reports" && (v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != pvc.Name) {
				t.Errorf("%s: volume reports = %+v, want claim %s", f, v.VolumeSource, pvc.Name)
			}
		}
	}
}

// checkPod checks what every pod of the recipe must be: restartPolicy
// Never, one container named container, locked down; it returns the
// container.
func checkPod(t *testing.T, name string, pod corev1.PodSpec, container string) corev1.Container {
	t.Helper()
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy = %q, want Never", name, pod.RestartPolicy)
	}
	if len(pod.Containers) != 1 || pod.Containers[0].Name != container {
		t.Fatalf("%s: %d containers, want one named %s", name, len(pod.Containers), container)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken = %v, want false", name, ptrString(pod.AutomountServiceAccountToken))
	}
	if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
		t.Errorf("%s: enableServiceLinks = %v, want false (service variables would enter $(VAR) expansion)", name, ptrString(pod.EnableServiceLinks))
	}
	if psc := pod.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("%s: pod securityContext = %+v, want runAsNonRoot and a non-zero runAsUser", name, psc)
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Errorf("%s: container %s has no securityContext", name, c.Name)
	default:
		if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: container %s: runAsNonRoot = %v, want true", name, c.Name, ptrString(sc.RunAsNonRoot))
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s: container %s: readOnlyRootFilesystem = %v, want true", name, c.Name, ptrString(sc.ReadOnlyRootFilesystem))
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: container %s: allowPrivilegeEscalation = %v, want false", name, c.Name, ptrString(sc.AllowPrivilegeEscalation))
		}
		if sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s: container %s: privileged", name, c.Name)
		}
		if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s: container %s: capabilities = %+v, want drop [ALL] and nothing added", name, c.Name, sc.Capabilities)
		}
	}
	if c.Resources.Limits.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Errorf("%s: container %s: resources = %v, want cpu and memory limits and a memory request", name, c.Name, c.Resources)
	}
	return c
}

// checkReportsMount checks that REPORT_DIR is where the reports volume is
// mounted, writable.
func checkReportsMount(t *testing.T, name string, pod corev1.PodSpec, c corev1.Container, env map[string]string) {
	t.Helper()
	var mount *corev1.VolumeMount
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == "reports" {
			mount = &c.VolumeMounts[i]
		}
	}
	if mount == nil {
		t.Fatalf("%s: container %s mounts no volume named reports", name, c.Name)
	}
	if mount.MountPath != env["REPORT_DIR"] || mount.ReadOnly {
		t.Errorf("%s: reports mounted at %s (read-only %v), REPORT_DIR %q: want REPORT_DIR the writable mount path", name, mount.MountPath, mount.ReadOnly, env["REPORT_DIR"])
	}
	if !slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == "reports" }) {
		t.Errorf("%s: no volume named reports for the mount", name)
	}
}

// hasFailJobOnExit2 reports whether policy fails the whole Job when
// container exits 2 (bad usage: every shard would say the same).
func hasFailJobOnExit2(policy *batchv1.PodFailurePolicy, container string) bool {
	if policy == nil {
		return false
	}
	for _, r := range policy.Rules {
		if r.Action == batchv1.PodFailurePolicyActionFailJob && r.OnExitCodes != nil &&
			r.OnExitCodes.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && slices.Contains(r.OnExitCodes.Values, 2) &&
			(r.OnExitCodes.ContainerName == nil || *r.OnExitCodes.ContainerName == container) {
			return true
		}
	}
	return false
}

// envValues is c's literal env values by name.
func envValues(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			m[e.Name] = e.Value
		}
	}
	return m
}

// renderSh runs deploy/kubernetes/render.sh with args.
func renderSh(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{filepath.Join(manifestDir, "render.sh")}, args...)...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

func TestRenderSetsRunStartAndShards(t *testing.T) {
	out, stderr, code := renderSh(t, "-r", "run-7", "-s", "2026-12-06T05:00:00Z", "-n", "3",
		"-e", `TARGET_URL=http://ingress.shop.svc:8080/hooks/github?x="1"\`, "-e", "MERGE_FLAGS=--partial",
		filepath.Join(manifestDir, "load-job.yaml"), filepath.Join(manifestDir, "merge-job.yaml"))
	if code != 0 {
		t.Fatalf("render.sh = exit %d, stderr %s", code, stderr)
	}
	m, err := Decode("rendered", []byte(out))
	if err != nil {
		t.Fatalf("Decode(rendered) = %v", err)
	}
	if len(m.Jobs) != 2 {
		t.Fatalf("rendered: %d Jobs, want 2", len(m.Jobs))
	}
	load, merge := m.Jobs[0], m.Jobs[1]
	checkLoadJob(t, "rendered load-job.yaml", load, 3)
	lenv, menv := envValues(load.Spec.Template.Spec.Containers[0]), envValues(merge.Spec.Template.Spec.Containers[0])
	for _, c := range []struct{ what, got, want string }{
		{"load Job name", load.Name, "hooklab-load-run-7"},
		{"merge Job name", merge.Name, "hooklab-merge-run-7"},
		{"merge label", merge.Spec.Template.Labels["hooklab.dev/run-id"], "run-7"},
		{"load RUN_ID", lenv["RUN_ID"], "run-7"},
		{"merge RUN_ID", menv["RUN_ID"], "run-7"},
		{"START_AT", lenv["START_AT"], "2026-12-06T05:00:00Z"},
		{"TARGET_URL", lenv["TARGET_URL"], `http://ingress.shop.svc:8080/hooks/github?x="1"\`},
		{"MERGE_FLAGS", menv["MERGE_FLAGS"], "--partial"},
		{"RATE (unchanged)", lenv["RATE"], "1000"},
	} {
		if c.got != c.want {
			t.Errorf("render.sh: %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if merge.Spec.Completions != nil {
		t.Errorf("render.sh -n 3: merge Job completions = %d, want unset (one pod)", *merge.Spec.Completions)
	}
}

func TestRenderRefusesBadInput(t *testing.T) {
	load := filepath.Join(manifestDir, "load-job.yaml")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"UpperCaseRunID", []string{"-r", "Run-1", load}, "-r Run-1"},
		{"RunIDTooLong", []string{"-r", strings.Repeat("a", 41), load}, "at most 40"},
		{"StartNotRFC3339", []string{"-s", "tomorrow", load}, "RFC 3339"},
		{"ZeroShards", []string{"-n", "0", load}, "-n 0"},
		{"TooManyShards", []string{"-n", "1001", load}, "-n 1001"},
		{"UnknownEnv", []string{"-e", "NOPE=1", load}, "no env variable NOPE"},
		{"NoFile", []string{"-r", "run-1"}, "no manifest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := renderSh(t, tc.args...)
			if code != 2 || out != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("render.sh %q = exit %d, stdout %d bytes, stderr %q; want exit 2, no output, an error containing %q", tc.args, code, len(out), stderr, tc.want)
			}
		})
	}
}
