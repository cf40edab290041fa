package conformance_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
)

func githubAppManifest(t *testing.T) *conformance.Manifest {
	t.Helper()
	m, err := conformance.ParseManifest("app.yaml", []byte(githubManifest))
	require.NoError(t, err)
	return m
}

func TestAppObservesTheTriggersTheAppFires(t *testing.T) {
	app := &githubApp{secret: "example-secret-0123456789"}
	obs := conformance.NewObserver()
	app.OnEvent = obs.Fired
	rep, _ := conformance.Check(context.Background(), conformance.App(app.Routes(), githubAppManifest(t), obs),
		conformance.Select("^(FanOut|Verify)/"))
	st := statuses(rep)
	assert.Equal(t, conformance.StatusPass, st["FanOut/DeliveryEnvelope"], "the observer's envelopes must carry what the suite checks")
	assert.Equal(t, conformance.StatusPass, st["Verify/WrongSecret"])
	assert.Equal(t, conformance.StatusPass, st["Verify/BodyChangedByOneByte"])
	assert.Equal(t, conformance.StatusSkip, st["FanOut/PartialMatches"], "the app has no trigger with that filter")
	require.NoError(t, obs.Err())
}

func TestAppCatchesAnAppThatFiresBeforeVerifying(t *testing.T) {
	app := &githubApp{secret: "example-secret-0123456789", fireUnverified: true}
	obs := conformance.NewObserver()
	app.OnEvent = obs.Fired
	rep, err := conformance.Check(context.Background(), conformance.App(app.Routes(), githubAppManifest(t), obs),
		conformance.Select("^Verify/(WrongSecret|MissingSignatureHeader)$"))
	require.Error(t, err)
	st := statuses(rep)
	assert.Equal(t, conformance.StatusFail, st["Verify/WrongSecret"], "a delivery of a rejected request must fail the case")
	assert.Equal(t, conformance.StatusFail, st["Verify/MissingSignatureHeader"])
}

func TestAppWithoutObserverChecksOnlyAnswers(t *testing.T) {
	app := &githubApp{secret: "example-secret-0123456789", fireUnverified: true}
	app.OnEvent = func(string, *http.Request) {}
	rep, err := conformance.Check(context.Background(), conformance.App(app.Routes(), githubAppManifest(t), nil),
		conformance.Select("^(Verify/WrongSecret|FanOut/DeliveryEnvelope)$"))
	require.NoError(t, err, "without an observer the app's deliveries are not judged")
	st := statuses(rep)
	assert.Equal(t, conformance.StatusPass, st["Verify/WrongSecret"])
	assert.Equal(t, conformance.StatusSkip, st["FanOut/DeliveryEnvelope"], "a case with a filtered trigger needs an observer")
	for _, c := range rep.Cases {
		if c.Case.ID() == "FanOut/DeliveryEnvelope" {
			assert.Contains(t, c.Reason, "has no Observer")
		}
	}
	for _, c := range rep.Cases {
		if c.Status == conformance.StatusSkip {
			assert.NotEmpty(t, c.Reason)
		}
	}
}

func TestAppSkipsCasesTheManifestDoesNotFit(t *testing.T) {
	m := githubAppManifest(t)
	m.Endpoint.Verify = nil
	app := &githubApp{secret: "example-secret-0123456789"}
	obs := conformance.NewObserver()
	app.OnEvent = obs.Fired
	rep, err := conformance.Check(context.Background(), conformance.App(app.Routes(), m, obs),
		conformance.Select("^Verify/WrongSecret$"))
	require.NoError(t, err)
	require.Len(t, rep.Cases, 1)
	assert.Equal(t, conformance.StatusSkip, rep.Cases[0].Status)
	assert.Contains(t, rep.Cases[0].Reason, "does not verify signatures")
}

func TestAppRefusesAManifestURLThatDoesNotParse(t *testing.T) {
	m := githubAppManifest(t)
	m.URL = "http://[::1"
	_, err := conformance.App(http.NotFoundHandler(), m, nil).Provision(context.Background(), m.Endpoint)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "manifest's url")
}

func TestObserverFiredForARequestNotServedByAppIsAnError(t *testing.T) {
	obs := conformance.NewObserver()
	require.NoError(t, obs.Err())
	obs.Fired("all", httptest.NewRequest(http.MethodPost, "/webhooks/github", strings.NewReader("{}")))
	err := obs.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `Fired("all")`)
	assert.Contains(t, err.Error(), "not served by conformance.App")
}

func TestAppDeliversForAManifestWithoutEndpointID(t *testing.T) {
	m := githubAppManifest(t)
	m.Endpoint.ID = "" // a Manifest made in Go, not by ParseManifest
	app := &githubApp{secret: "example-secret-0123456789"}
	obs := &conformance.Observer{} // the zero value delivers too
	app.OnEvent = obs.Fired
	rep, err := conformance.Check(context.Background(), conformance.App(app.Routes(), m, obs),
		conformance.Select("^FanOut/DeliveryEnvelope$"))
	require.NoError(t, err)
	assert.Equal(t, conformance.StatusPass, statuses(rep)["FanOut/DeliveryEnvelope"])
	require.NoError(t, obs.Err(), "the sink refuses an envelope without an endpoint id")
}

func TestAppAndObserverRefuseNilInputsWithAnError(t *testing.T) {
	m := githubAppManifest(t)
	for _, tc := range []struct {
		name string
		h    http.Handler
		m    *conformance.Manifest
	}{{"nil handler", nil, m}, {"nil manifest", http.NotFoundHandler(), nil}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := conformance.App(tc.h, tc.m, nil).Provision(context.Background(), m.Endpoint)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "App needs a handler and a manifest")
		})
	}
	var obs conformance.Observer // the zero value is usable
	obs.Fired("all", nil)
	require.Error(t, obs.Err())
	assert.Contains(t, obs.Err().Error(), "a nil request")
}
