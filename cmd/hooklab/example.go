package main

// The examples of a spec (EndpointSpec.Examples): made into requests
// signed for their endpoint, for send --example and serve's start-up check.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hooklab/hooklab/fixtures"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// lookupFixture is fixtures.Lookup as sim.CheckExampleFixtures wants it.
func lookupFixture(name string) error {
	_, err := fixtures.Lookup(name)
	return err
}

// exampleRequest makes example e of endpoint spec into a request to
// target, signed at time at with the endpoint's scheme and its newest
// secret (unsigned when the endpoint verifies nothing). A fixture is
// rendered from seed.
func exampleRequest(ctx context.Context, spec sim.EndpointSpec, e sim.ExampleSpec, target string, seed int64, at time.Time) (*http.Request, error) {
	var p signer.Payload
	if e.Fixture != "" {
		f, err := fixtures.Lookup(e.Fixture)
		if err != nil {
			return nil, err
		}
		d, err := f.Render(seed, at)
		if err != nil {
			return nil, err
		}
		var opts []fixtures.Option
		for _, path := range e.SetPaths() {
			opts = append(opts, fixtures.Set(path, e.Set[path]))
		}
		for _, name := range sortedKeys(e.Headers) {
			opts = append(opts, fixtures.Header(name, e.Headers[name]))
		}
		if err := d.Apply(opts...); err != nil {
			return nil, err
		}
		u, err := d.URL(target)
		if err != nil {
			return nil, err
		}
		p = signer.Payload{Method: d.Method, URL: u, Header: d.Header.Clone(), Body: d.Body}
	} else {
		h := http.Header{}
		ct := "application/json"
		var s string
		if json.Unmarshal(e.Body, &s) == nil {
			ct = "text/plain; charset=utf-8"
		}
		h.Set("Content-Type", ct)
		for _, name := range sortedKeys(e.Headers) {
			h.Set(name, e.Headers[name])
		}
		p = signer.Payload{Method: http.MethodPost, URL: target, Header: h, Body: e.BodyBytes()}
	}
	if spec.Verify != nil {
		scheme := signer.Scheme{}
		switch {
		case spec.Verify.Preset != "":
			var err error
			if scheme, err = signer.Preset(spec.Verify.Preset); err != nil {
				return nil, err
			}
		case spec.Verify.Scheme != nil:
			scheme = *spec.Verify.Scheme
		}
		if len(spec.Verify.Secrets) == 0 {
			return nil, errors.New("the endpoint verifies with no secret")
		}
		var err error
		if p, err = signer.Sign(scheme, spec.Verify.Secrets[:1], p, signer.At(at)); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, p.Method, p.URL, strings.NewReader(string(p.Body)))
	if err != nil {
		return nil, err
	}
	for k, vs := range p.Header {
		req.Header[k] = vs
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "hooklab")
	}
	return req, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkExamples runs every example of specs through an ingress of its
// own, in process, whose triggers deliver nowhere (only to a Recorder),
// and writes one line per example: the triggers it wakes, or why its
// endpoint rejected it. It reports whether every example was accepted.
func checkExamples(w io.Writer, specs []sim.EndpointSpec, profile sim.Profile) (bool, error) {
	ok := true
	for _, spec := range specs {
		if len(spec.Examples) == 0 {
			continue
		}
		quiet := spec
		quiet.Triggers = make([]sim.TriggerSpec, len(spec.Triggers))
		for i, t := range spec.Triggers {
			t.Deliver = "" // never deliver during the check
			quiet.Triggers[i] = t
		}
		rec := &sim.Recorder{}
		in, err := sim.NewIngress(sim.Config{Profile: profile, Recorder: rec}, quiet)
		if err != nil {
			return false, err
		}
		for _, e := range spec.Examples {
			line, accepted := checkExample(in, rec, spec, e)
			ok = ok && accepted
			if _, err := fmt.Fprintln(w, line); err != nil {
				in.Close()
				return false, err
			}
		}
		in.Close()
	}
	return ok, nil
}

// checkExample sends one example to in and describes the outcome.
func checkExample(in *sim.Ingress, rec *sim.Recorder, spec sim.EndpointSpec, e sim.ExampleSpec) (string, bool) {
	name := fmt.Sprintf("hooklab serve: example %s/%s", spec.ID, e.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := exampleRequest(ctx, spec, e, "http://hooklab.invalid/hooks/"+spec.ID, 1, time.Now().UTC())
	if err != nil {
		return fmt.Sprintf("%s: rejected: %v", name, err), false
	}
	n := rec.Len()
	w := httptest.NewRecorder()
	in.ServeHTTP(w, req)
	if w.Code < 200 || w.Code > 299 {
		return fmt.Sprintf("%s: rejected: %d %s", name, w.Code, oneLine(w.Body.Bytes(), false)), false
	}
	if err := in.Flush(ctx); err != nil {
		return fmt.Sprintf("%s: rejected: %v", name, err), false
	}
	got := map[string]bool{}
	for _, d := range rec.From(n) {
		got[d.Trigger] = true
	}
	var woke []string // in the spec's order: deliveries arrive in any
	for _, t := range spec.Triggers {
		if got[t.ID] {
			woke = append(woke, t.ID)
		}
	}
	if len(woke) == 0 {
		return name + ": accepted, wakes no trigger", true
	}
	return name + ": accepted, wakes " + strings.Join(woke, ", "), true
}

// An exampleSender is the example send --example sends and its endpoint.
type exampleSender struct {
	spec    sim.EndpointSpec
	example sim.ExampleSpec
}

// newExampleSender loads spec file and finds example id: in endpoint
// endpointID, or in the one endpoint that has it when endpointID is empty.
func newExampleSender(file, endpointID, id string) (*exampleSender, error) {
	switch {
	case id == "":
		return nil, usageErrorf("-spec and -endpoint go with -example ID")
	case file == "":
		return nil, usageErrorf("-example: give -spec FILE, the spec the example is in")
	}
	specs, err := sim.LoadSpecs(file)
	if err == nil {
		err = sim.CheckExampleFixtures(file, specs, lookupFixture)
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, usageErrorf("-spec: %s", pathError(err))
		}
		return nil, usageErrorf("%v", err)
	}
	var found []*exampleSender
	var ids []string
	for _, s := range specs {
		if endpointID != "" && s.ID != endpointID {
			continue
		}
		ids = append(ids, s.ID)
		if e, ok := s.Example(id); ok {
			found = append(found, &exampleSender{spec: s, example: e})
		}
	}
	switch {
	case endpointID != "" && len(ids) == 0:
		return nil, usageErrorf("-endpoint: %s has no endpoint %q", file, endpointID)
	case len(found) == 0 && endpointID != "":
		return nil, usageErrorf("-example: endpoint %q of %s has no example %q", endpointID, file, id)
	case len(found) == 0:
		return nil, usageErrorf("-example: no endpoint of %s has an example %q", file, id)
	case len(found) > 1:
		return nil, usageErrorf("-example: endpoints %s and %s both have an example %q: give -endpoint ID", found[0].spec.ID, found[1].spec.ID, id)
	}
	return found[0], nil
}
