// Package kube checks hooklab's Kubernetes recipe (deploy/kubernetes) the
// way a cluster would read it, without a cluster: its tests decode every
// manifest strictly as the Kubernetes API types (k8s.io/api, an unknown
// field is an error) and check the fields the recipe depends on, and run
// the load Job's exact command line N times on this machine, with the
// environment and the $(VAR) expansion Kubernetes gives each pod, then
// merge the reports and compare them with one unsharded run.
//
// It is a module of its own so that k8s.io/api stays out of hooklab's
// go.mod. Run it from this directory:
//
//	cd interop/kube && go test ./...
package kube
