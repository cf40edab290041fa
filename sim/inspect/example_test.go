package inspect_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/hooklab/hooklab/sim"
	"github.com/hooklab/hooklab/sim/inspect"
)

// An Ingress observed by a Store, and the inspector's pages for it.
func Example() {
	store := inspect.NewStore(100, 0)
	in, _ := sim.NewIngress(sim.Config{Observer: store}, sim.EndpointSpec{ID: "demo", Title: "Demo"})
	defer in.Close()
	in.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/hooks/demo", strings.NewReader(`{"hello":"world"}`)))

	ui := inspect.Handler(inspect.Config{Store: store, Specs: in.Specs, Target: "http://127.0.0.1:8080"})
	r := httptest.NewRequest("GET", inspect.Prefix+"requests", nil)
	r.RemoteAddr, r.Host = "127.0.0.1:50000", "127.0.0.1:8080" // loopback: no token needed
	w := httptest.NewRecorder()
	ui.ServeHTTP(w, r)
	e, _ := store.Get(1)
	fmt.Println(w.Code, w.Header().Get("Content-Type"), store.Len(), e.Trace.Method, e.Trace.Path, e.Trace.Status)
	_ = http.StatusOK
	// Output: 200 text/html; charset=utf-8 1 POST /hooks/demo 200
}
