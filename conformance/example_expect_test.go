package conformance_test

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/sim"
)

// An expectation file holds a run against a real receiver to exactly its
// known defects. Here the "receiver" is the reference ingress with its
// verification left out, which fails WrongSecret; the file lists that
// failure with its cause, so the run is as expected.
func ExampleExpectations_Judge() {
	expect, err := conformance.ParseExpectations("app.expect.yaml", []byte(`
failures:
  - case: Verify/WrongSecret
    cause: the app forgot to verify (it answers 200 and delivers)
    problems:
      - status = 200, want 401
      - deliveries to all = 1, want 0
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	noVerify := conformance.HandlerTarget(func(spec sim.EndpointSpec) (http.Handler, error) {
		spec.Verify = nil
		return sim.NewIngress(sim.Config{}, spec)
	})
	rep, _ := conformance.Check(context.Background(), noVerify,
		conformance.Select("^Verify/(WrongSecret|ValidSignature)$"))
	j := expect.Judge(rep)
	if err := j.WriteText(os.Stdout, "app.expect.yaml"); err != nil {
		fmt.Println(err)
	}
	fmt.Println("as expected:", j.Err() == nil)
	// Output:
	// expected failures (app.expect.yaml): 1 seen
	//     Verify/WrongSecret: the app forgot to verify (it answers 200 and delivers)
	// expectations met
	// as expected: true
}
