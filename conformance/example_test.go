package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/sim"
)

// This is how a user checks their own Go ingress: a test that runs the
// suite against a fresh handler per case. Examples get no *testing.T, so,
// as go-cmp's ExampleDiff_testing does, this one passes a stand-in t that
// prints what go test would report, through RunT (which Run wraps).
func ExampleRun() {
	// newHandler builds the user's ingress for one endpoint spec; here it
	// is the reference ingress, sim.Ingress.
	newHandler := func(spec sim.EndpointSpec) (http.Handler, error) {
		return sim.NewIngress(sim.Config{}, spec)
	}

	// In the user's _test.go file:
	//
	//	func TestConformance(t *testing.T) {
	//		conformance.Run(t, conformance.HandlerTarget(newHandler))
	//	}
	//
	// Here two cases are selected, one at a time, so that the output is
	// short and in order.
	TestConformance := func(t conformance.T) {
		conformance.RunT(t, conformance.HandlerTarget(newHandler),
			conformance.Select("^FanOut/(PartialMatches|EveryMatchExactlyOnce)$"),
			conformance.Parallel(1))
	}

	TestConformance(&printT{name: "TestConformance"})
	// Output:
	// --- PASS: TestConformance/FanOut/PartialMatches
	// --- PASS: TestConformance/FanOut/EveryMatchExactlyOnce
	// --- PASS: TestConformance/FanOut
}

// Check runs the suite without package testing, for a program or a CI
// step, and returns a Report and an error joining a *CaseError per failed
// case.
func ExampleCheck() {
	rep, err := conformance.Check(context.Background(), conformance.Reference(),
		conformance.Select("^Robustness/(UnknownEndpoint|OversizeBody)$"))
	var ce *conformance.CaseError
	if errors.As(err, &ce) {
		fmt.Println("first failed case:", ce.Case.ID())
	}
	rep.WriteText(os.Stdout, false)
	// Output:
	// 2 passed, 0 failed, 0 skipped
}

// Delivery(true) adds the Delivery cases, for a receiver that promises
// idempotent delivery: the reference passes them, since its endpoints
// de-duplicate as their spec's dedup asks.
func ExampleDelivery() {
	rep, _ := conformance.Check(context.Background(), conformance.Reference(),
		conformance.Delivery(true), conformance.Select("^Delivery/(DuplicateDeliveredOnce|RetryDeliveredOnce)$"))
	rep.WriteText(os.Stdout, false)
	// Output:
	// 2 passed, 0 failed, 0 skipped
}

// Cases lists the suite's cases, for a -list flag or documentation.
func ExampleCases() {
	for _, c := range conformance.Cases() {
		if c.ID() == "Robustness/OversizeBody" {
			fmt.Println(c.ID())
			fmt.Println("rule:", c.Rule)
		}
	}
	// Output:
	// Robustness/OversizeBody
	// rule: a body over the endpoint's limit is answered 413 before verification and wakes nothing; a body at the limit is accepted
}

// printT is a conformance.T that prints each (sub)test's outcome, as go
// test does, and its failure messages. It stands in for *testing.T in the
// examples.
type printT struct {
	name string

	mu      sync.Mutex
	failed  bool
	skipped bool
	msgs    []string
}

func (t *printT) Helper() {}

func (t *printT) Errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed = true
	t.msgs = append(t.msgs, fmt.Sprintf(format, args...))
}

func (t *printT) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	runtime.Goexit()
}

func (t *printT) Skipf(format string, args ...any) {
	t.mu.Lock()
	t.skipped = true
	t.msgs = append(t.msgs, fmt.Sprintf(format, args...))
	t.mu.Unlock()
	runtime.Goexit()
}

func (t *printT) Logf(format string, args ...any) {}

func (t *printT) Context() context.Context { return context.Background() }

// Run runs f in a goroutine of its own, so that Fatalf and Skipf can end
// it, then prints the outcome.
func (t *printT) Run(name string, f func(conformance.T)) bool {
	sub := &printT{name: t.name + "/" + name}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(sub)
	}()
	<-done
	status := "PASS"
	switch {
	case sub.failed:
		status = "FAIL"
		t.Errorf("%s failed", sub.name)
	case sub.skipped:
		status = "SKIP"
	}
	fmt.Printf("--- %s: %s\n", status, sub.name)
	for _, m := range sub.msgs {
		fmt.Println("    " + strings.ReplaceAll(m, "\n", "\n    "))
	}
	return !sub.failed
}
