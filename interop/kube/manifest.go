package kube

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// MaxManifestBytes bounds what Decode reads: the recipe's manifests are a
// few KiB.
const MaxManifestBytes = 1 << 20

// Manifests is what a YAML file (or a stream of documents separated by
// ---) holds, by kind, in order.
type Manifests struct {
	Jobs []*batchv1.Job
	PVCs []*corev1.PersistentVolumeClaim
	Pods []*corev1.Pod
}

// Decode decodes every document of data strictly, as the API server's
// strict field validation does: a field the Kubernetes type does not have,
// a field given twice, or a value of the wrong type is an error naming name
// and the document (from 1). Kinds other than batch/v1 Job, v1
// PersistentVolumeClaim and v1 Pod are errors too: the recipe uses no
// others.
func Decode(name string, data []byte) (*Manifests, error) {
	if len(data) > MaxManifestBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a manifest may have", name, len(data), MaxManifestBytes)
	}
	var m Manifests
	for i, doc := range splitDocuments(data) {
		where := fmt.Sprintf("%s: document %d", name, i+1)
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		var err error
		switch tm.APIVersion + " " + tm.Kind {
		case "batch/v1 Job":
			j := new(batchv1.Job)
			err = yaml.UnmarshalStrict(doc, j)
			m.Jobs = append(m.Jobs, j)
		case "v1 PersistentVolumeClaim":
			p := new(corev1.PersistentVolumeClaim)
			err = yaml.UnmarshalStrict(doc, p)
			m.PVCs = append(m.PVCs, p)
		case "v1 Pod":
			p := new(corev1.Pod)
			err = yaml.UnmarshalStrict(doc, p)
			m.Pods = append(m.Pods, p)
		default:
			return nil, fmt.Errorf("%s: apiVersion %q kind %q: not one of batch/v1 Job, v1 PersistentVolumeClaim, v1 Pod", where, tm.APIVersion, tm.Kind)
		}
		if err != nil {
			return nil, fmt.Errorf("%s (%s %s): %w", where, tm.APIVersion, tm.Kind, err)
		}
	}
	if len(m.Jobs)+len(m.PVCs)+len(m.Pods) == 0 {
		return nil, fmt.Errorf("%s: no document", name)
	}
	return &m, nil
}

// splitDocuments splits a YAML stream at its "---" lines, leaving out
// documents that hold only comments and blank lines.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		for _, line := range strings.Split(cur.String(), "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				docs = append(docs, bytes.Clone(cur.Bytes()))
				break
			}
		}
		cur.Reset()
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if strings.TrimRight(line, " \r\n") == "---" {
			flush()
			continue
		}
		cur.WriteString(line)
	}
	flush()
	return docs
}

// Env resolves a container's environment as the kubelet does for a pod
// on its node: in order, each literal value with $(NAME) expanded from the
// variables before it (Expand), secretKeyRef from secrets (secret name →
// key → value; a missing one is an error unless the ref is optional),
// resourceFieldRef from the container's own resources, fieldRef from
// fields (such as metadata.annotations['batch.kubernetes.io/job-completion-index']),
// and extra added last, as the Job controller adds JOB_COMPLETION_INDEX.
// ConfigMap references are errors: the recipe uses none.
func Env(c corev1.Container, secrets map[string]map[string]string, fields, extra map[string]string) (map[string]string, error) {
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = Expand(e.Value, Lookup(env))
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			v, ok := secrets[ref.Name][ref.Key]
			if !ok {
				if ref.Optional != nil && *ref.Optional {
					continue
				}
				return nil, fmt.Errorf("container %s: env %s: secret %s has no key %s", c.Name, e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
		case e.ValueFrom.ResourceFieldRef != nil:
			v, err := resourceField(c, e.ValueFrom.ResourceFieldRef)
			if err != nil {
				return nil, fmt.Errorf("container %s: env %s: %w", c.Name, e.Name, err)
			}
			env[e.Name] = v
		case e.ValueFrom.FieldRef != nil:
			v, ok := fields[e.ValueFrom.FieldRef.FieldPath]
			if !ok {
				return nil, fmt.Errorf("container %s: env %s: no value for field %s", c.Name, e.Name, e.ValueFrom.FieldRef.FieldPath)
			}
			env[e.Name] = v
		default:
			return nil, fmt.Errorf("container %s: env %s: a source other than a value, secretKeyRef, resourceFieldRef or fieldRef", c.Name, e.Name)
		}
	}
	for k, v := range extra {
		env[k] = v
	}
	return env, nil
}

// resourceField is a resourceFieldRef's value: the container's request or
// limit divided by the divisor (default 1), rounded up, as the kubelet
// gives it.
func resourceField(c corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	if ref.ContainerName != "" && ref.ContainerName != c.Name {
		return "", fmt.Errorf("resourceFieldRef names container %s, not %s", ref.ContainerName, c.Name)
	}
	kind, res, ok := strings.Cut(ref.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("resourceFieldRef %q: want limits.X or requests.X", ref.Resource)
	}
	list := c.Resources.Limits
	if kind == "requests" {
		list = c.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(res)]
	if !ok {
		return "", fmt.Errorf("resourceFieldRef %s: the container sets no %s", ref.Resource, ref.Resource)
	}
	div := ref.Divisor
	if div.IsZero() {
		div = resource.MustParse("1")
	}
	if res == "cpu" {
		m := q.MilliValue()
		d := div.MilliValue()
		return strconv.FormatInt((m+d-1)/d, 10), nil
	}
	v, d := q.Value(), div.Value()
	if d <= 0 {
		return "", errors.New("resourceFieldRef: a divisor of less than 1")
	}
	return strconv.FormatInt((v+d-1)/d, 10), nil
}

// CommandLine is the argv the container runtime starts for c: command and
// args with $(NAME) expanded from env, as the kubelet expands them.
func CommandLine(c corev1.Container, env map[string]string) []string {
	var argv []string
	for _, s := range append(append([]string{}, c.Command...), c.Args...) {
		argv = append(argv, Expand(s, Lookup(env)))
	}
	return argv
}
