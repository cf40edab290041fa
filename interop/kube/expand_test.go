package kube

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Cases in the style of k8s.io/kubernetes
// third_party/forked/golang/expansion's expand_test.go, whose Expand and
// tryReadVariableName this package's Expand follows step for step, and
// the documented rules
// (https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/#use-environment-variables-to-define-arguments):
// $(VAR) is expanded from the container's environment, an unknown one is
// left as it is, and $$ escapes a $.
func TestExpandFollowsKubernetes(t *testing.T) {
	env := map[string]string{
		"VAR_A":     "A",
		"VAR_B":     "B",
		"VAR_C":     "C",
		"VAR_REF":   "$(VAR_A)",
		"VAR_EMPTY": "",
	}
	for _, tc := range []struct{ name, input, want string }{
		{"Whole", "$(VAR_A)", "A"},
		{"Prefix", "___$(VAR_B)", "___B"},
		{"Suffix", "$(VAR_C)___", "C___"},
		{"Middle", "__$(VAR_B)__", "__B__"},
		{"Several", "$(VAR_A)-$(VAR_B)-$(VAR_C)", "A-B-C"},
		{"Adjacent", "$(VAR_A)$(VAR_B)$(VAR_C)", "ABC"},
		{"ValueNotReexpanded", "$(VAR_REF)", "$(VAR_A)"},
		{"Empty", "foo$(VAR_EMPTY)bar", "foobar"},
		{"Unknown", "$(VAR_NOPE)", "$(VAR_NOPE)"},
		{"UnknownAmongKnown", "$(VAR_A)$(VAR_NOPE)", "A$(VAR_NOPE)"},
		{"EscapedDollar", "$$", "$"},
		{"EscapedReference", "$$(VAR_A)", "$(VAR_A)"},
		{"EscapedThenReference", "$$$(VAR_A)", "$A"},
		{"DoubleEscape", "$$$$(VAR_A)", "$$(VAR_A)"},
		{"DollarOtherByte", "$VAR_A", "$VAR_A"},
		{"ShellBraces", "${JOB_COMPLETION_INDEX}", "${JOB_COMPLETION_INDEX}"},
		{"ShellSubstitutionUnknown", "$(date)", "$(date)"},
		{"TrailingDollar", "foo$", "foo$"},
		{"LoneDollar", "$", "$"},
		{"Unclosed", "$(VAR_A", "$(VAR_A"},
		{"UnclosedAfterKnown", "$(VAR_A)$(VAR_B", "A$(VAR_B"},
		{"EmptyName", "$()", "$()"},
		{"NestedOpen", "$(VAR_$(VAR_A))", "$(VAR_$(VAR_A))"},
		{"NoDollar", "VAR_A", "VAR_A"},
		{"EmptyInput", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Expand(tc.input, Lookup(env)); got != tc.want {
				t.Errorf("Expand(%q) = %q, want %q", tc.input, got, tc.want)
			}
		})
	}
}

func TestEnvResolvesAsTheKubeletDoes(t *testing.T) {
	c := corev1.Container{
		Name: "load",
		Env: []corev1.EnvVar{
			{Name: "DIR", Value: "/reports"},
			{Name: "OUT", Value: "$(DIR)/$(RUN_ID)/x"}, // RUN_ID comes later: not expanded
			{Name: "RUN_ID", Value: "r1"},
			{Name: "BOTH", Value: "$(DIR)/$(RUN_ID)"},
			{Name: "ESCAPED", Value: "$$(DIR)"},
			{Name: "SECRET", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "hooklab-webhook"}, Key: "secret"}}},
			{Name: "MISSING_OK", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Key: "k", Optional: ptr(true)}}},
			{Name: "MEM", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory"}}},
			{Name: "MEM_MI", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
			{Name: "CPU", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "requests.cpu"}}},
			{Name: "INDEX", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}},
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1500m")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
		},
	}
	env, err := Env(c,
		map[string]map[string]string{"hooklab-webhook": {"secret": "s3cret"}},
		map[string]string{"metadata.annotations['batch.kubernetes.io/job-completion-index']": "2"},
		map[string]string{"JOB_COMPLETION_INDEX": "2"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"DIR": "/reports", "OUT": "/reports/$(RUN_ID)/x", "RUN_ID": "r1", "BOTH": "/reports/r1",
		"ESCAPED": "$(DIR)", "SECRET": "s3cret", "MEM": "536870912", "MEM_MI": "512", "CPU": "2",
		"INDEX": "2", "JOB_COMPLETION_INDEX": "2",
	}
	for k, w := range want {
		if env[k] != w {
			t.Errorf("Env: %s = %q, want %q", k, env[k], w)
		}
	}
	if _, ok := env["MISSING_OK"]; ok || len(env) != len(want) {
		t.Errorf("Env = %q, want exactly %q (an optional missing secret is left out)", env, want)
	}

	c.Command = []string{"/busybox/sh", "-c"}
	c.Args = []string{`exec hooklab --run-id "$(RUN_ID)" > $(BOTH)/$${JOB_COMPLETION_INDEX}.json $(NOPE)`}
	got := CommandLine(c, env)
	wantArgv := []string{"/busybox/sh", "-c", `exec hooklab --run-id "r1" > /reports/r1/${JOB_COMPLETION_INDEX}.json $(NOPE)`}
	if !slices.Equal(got, wantArgv) {
		t.Errorf("CommandLine = %q, want %q", got, wantArgv)
	}
}

func TestEnvRefusesWhatItCannotResolve(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  corev1.EnvVar
		want string
	}{
		{"MissingSecret", corev1.EnvVar{Name: "S", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Key: "k"}}}, "env S: secret nope has no key k"},
		{"NoSuchLimit", corev1.EnvVar{Name: "M", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory"}}}, "sets no limits.memory"},
		{"OtherContainer", corev1.EnvVar{Name: "M", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "other", Resource: "limits.memory"}}}, "names container other"},
		{"UnknownField", corev1.EnvVar{Name: "F", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}, "no value for field spec.nodeName"},
		{"ConfigMap", corev1.EnvVar{Name: "C", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Key: "k"}}}, "env C: a source other than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Env(corev1.Container{Name: "load", Env: []corev1.EnvVar{tc.env}}, nil, nil, nil)
			if err == nil || !containsAll(err.Error(), "container load", tc.want) {
				t.Errorf("Env(%s) = %v, want an error containing %q", tc.env.Name, err, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
