package sim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

func ExampleNewIngress() {
	secret := signer.Keys("It's a Secret to Everybody")
	rec := &sim.Recorder{}
	in, err := sim.NewIngress(sim.Config{Recorder: rec}, sim.EndpointSpec{
		ID:     "github",
		Source: "github.com",
		Verify: &sim.VerifySpec{Preset: "github", Secrets: secret},
		Triggers: []sim.TriggerSpec{
			{ID: "issue-opened", Filter: json.RawMessage(`{"headers":{"x-github-event":["issues"]},"body":{"action":["opened"]}}`)},
			{ID: "issues", Filter: json.RawMessage(`{"headers":{"x-github-event":["issues"]}}`)},
			{ID: "pushes", Filter: json.RawMessage(`{"headers":{"x-github-event":["push"]}}`)},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer in.Close()

	// A signed delivery, as GitHub sends it.
	req := httptest.NewRequest("POST", "/hooks/github", strings.NewReader(`{"action":"opened","issue":{"number":1}}`))
	req.Header.Set("X-GitHub-Event", "issues")
	if err := signer.SignRequest(req, signer.GitHub(), secret); err != nil {
		fmt.Println(err)
		return
	}
	w := httptest.NewRecorder()
	in.ServeHTTP(w, req)
	fmt.Print(w.Code, " ", w.Body.String())

	// Deliveries run in the background; Flush waits for them.
	in.Flush(context.Background())
	ds := rec.Deliveries()
	sort.Slice(ds, func(i, j int) bool { return ds[i].Trigger < ds[j].Trigger })
	for _, d := range ds {
		fmt.Printf("%s/%s verified=%v body=%s\n", d.Endpoint, d.Trigger, d.Verification.Verified, d.Request.Body)
	}
	// Output:
	// 200 {"ok":true,"endpoint":"github","triggered":["issue-opened","issues"]}
	// github/issue-opened verified=true body={"action":"opened","issue":{"number":1}}
	// github/issues verified=true body={"action":"opened","issue":{"number":1}}
}

func ExampleParseSpecs() {
	specs, err := sim.ParseSpecs("hooks.yaml", []byte(`
endpoints:
  - id: github
    verify: {preset: gihub, secret: s3cret}
`))
	fmt.Println(len(specs), err)

	specs, err = sim.ParseSpecs("hooks.yaml", []byte(`
endpoints:
  - id: github
    triggers:
      - id: opened
        filter:
          body:
            action: [{$between: opened}]
`))
	fmt.Println(len(specs), err)

	specs, err = sim.ParseSpecs("hooks.json", []byte(`{"id": "github", "triggers": [{"id": "all"}]}`))
	fmt.Println(len(specs), err, specs[0].ID, specs[0].Triggers[0].ID)
	// Output:
	// 0 hooks.yaml:4: endpoints[0].verify.preset: unknown preset "gihub" (hooklab presets lists them)
	// 0 hooks.yaml:8: endpoints[0].triggers[0].filter.body.action[0]: $between wants [number, number], got a string
	// 1 <nil> github all
}

func ExampleNewSink() {
	// The sink stands in for a trigger's consumer: deliveries are POSTed to it.
	sink, err := sim.NewSink("")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sink.Close()

	in, err := sim.NewIngress(sim.Config{}, sim.EndpointSpec{
		ID:       "orders",
		Triggers: []sim.TriggerSpec{{ID: "paid", Filter: json.RawMessage(`{"body":{"status":["paid"]}}`), Deliver: sink.URL}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer in.Close()
	srv := httptest.NewServer(sim.Handler(in))
	defer srv.Close()

	for _, body := range []string{`{"status":"pending"}`, `{"status":"paid"}`} {
		resp, err := http.Post(srv.URL+"/hooks/orders", "application/json", strings.NewReader(body))
		if err != nil {
			fmt.Println(err)
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(resp.StatusCode, " ", string(b))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ds, err := sink.Wait(ctx, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range ds {
		fmt.Printf("%s/%s %s %s\n", d.Endpoint, d.Trigger, d.Request.Method, d.Request.Body)
	}
	// Output:
	// 200 {"ok":true,"endpoint":"orders","triggered":[]}
	// 200 {"ok":true,"endpoint":"orders","triggered":["paid"]}
	// orders/paid POST {"status":"paid"}
}

func ExampleHandler() {
	in, err := sim.NewIngress(sim.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer in.Close()
	srv := httptest.NewServer(sim.ControlHandler(in, ""))
	defer srv.Close()

	// Create an endpoint through the control API, then send to it.
	post := func(path, body string) {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Print(resp.StatusCode, " ", strings.ReplaceAll(string(b), srv.URL, "http://SERVER"))
	}
	post(sim.ControlPath, `{"id": "orders", "triggers": [{"id": "all"}]}`)
	post(sim.ControlPath, `{"id": "orders"}`)
	post(sim.PathPrefix+"orders", `{"status":"paid"}`)
	// Output:
	// 201 {"id":"orders","url":"http://SERVER/hooks/orders"}
	// 409 {"error":"invalid spec","reason":"endpoint \"orders\": endpoint already exists"}
	// 200 {"ok":true,"endpoint":"orders","triggered":["all"]}
}
