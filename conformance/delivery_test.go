package conformance_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/internal/fault"
	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// deliveryIDs returns the ids of the Delivery cases.
func deliveryIDs() []string {
	var ids []string
	for _, c := range conformance.Cases() {
		if c.IsDelivery() {
			ids = append(ids, c.ID())
		}
	}
	return ids
}

// TestDeliveryCasesProveThemselves runs the Delivery group against the
// reference, whose endpoints de-duplicate as their spec asks: every case
// passes; and against the reference with dedup off (the fault no-dedup):
// every case fails, since each sends a repeat that must wake nothing.
func TestDeliveryCasesProveThemselves(t *testing.T) {
	ids := deliveryIDs()
	require.Len(t, ids, 5, "the Delivery cases")
	t.Run("DedupOn", func(t *testing.T) {
		t.Parallel()
		rep, err := conformance.Check(t.Context(), conformance.Reference(), conformance.Delivery(true), conformance.Select("^Delivery/"))
		var text strings.Builder
		rep.WriteText(&text, false)
		require.NoError(t, err, "Check(Reference(), Delivery(true)):\n%s", text.String())
		passed, _, _ := rep.Counts()
		assert.Equal(t, len(ids), passed, "passed")
	})
	t.Run("DedupOff", func(t *testing.T) {
		t.Parallel()
		f, err := fault.Lookup(sim.Strict, "no-dedup")
		require.NoError(t, err)
		cfg, err := fault.With(sim.Config{}, f)
		require.NoError(t, err)
		rep, err := conformance.Check(t.Context(), conformance.ReferenceWith(cfg), conformance.Delivery(true),
			conformance.Select("^Delivery/"), conformance.DeliveryWait(2*time.Second))
		require.Error(t, err)
		st := statuses(rep)
		for _, id := range ids {
			assert.Equal(t, conformance.StatusFail, st[id], "%s against the reference without dedup", id)
		}
	})
}

// TestDeliveryOptIn checks that the Delivery cases run only with
// Delivery(true), and that the reference's triggerdev-v2 profile, which
// has no dedup, skips them with the reason.
func TestDeliveryOptIn(t *testing.T) {
	ids := deliveryIDs()
	tests := []struct {
		name string
		cfg  sim.Config
		opts []conformance.Option
		want []string
	}{
		{"Default", sim.Config{}, []conformance.Option{conformance.Select("^Delivery/")}, nil},
		{"DeliveryFalse", sim.Config{}, []conformance.Option{conformance.Delivery(true), conformance.Delivery(false), conformance.Select("^Delivery/")}, nil},
		{"DeliveryTrueTriggerDev", sim.Config{Profile: sim.TriggerDevV2}, []conformance.Option{conformance.Delivery(true), conformance.Select("^Delivery/")}, ids},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := conformance.Check(t.Context(), conformance.ReferenceWith(tt.cfg), tt.opts...)
			require.NoError(t, err)
			var got []string
			for _, c := range rep.Cases {
				got = append(got, c.Case.ID())
				assert.Equal(t, conformance.StatusSkip, c.Status, "%s under triggerdev-v2", c.Case.ID())
				assert.Contains(t, c.Reason, "triggerdev-v2 profile has no dedup", "%s: reason", c.Case.ID())
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestDeclaredDeliveryPromise runs the Delivery cases against an app (the
// reference serving a Stripe endpoint that de-duplicates by the event id)
// described in a manifest: a manifest that promises idempotent delivery
// runs them without Delivery(true), and they pass, or fail against the
// app with dedup off; one that promises nothing skips them, with the
// reason, when Delivery(true) asks for them.
func TestDeclaredDeliveryPromise(t *testing.T) {
	secret := "whsec_ZGVjbGFyZWQtZGVkdXAtc2VjcmV0"
	tests := []struct {
		name     string
		fault    []string
		delivery map[string]any
		opts     []conformance.Option
		want     conformance.Status
	}{
		{"Promised", nil, map[string]any{"idempotent": true, "by": "event-id", "reorder": true}, nil, conformance.StatusPass},
		{"PromisedByBodyPath", nil, map[string]any{"idempotent": true, "by": "body:id", "reorder": true}, nil, conformance.StatusPass},
		{"PromisedButDedupOff", []string{"no-dedup"}, map[string]any{"idempotent": true}, nil, conformance.StatusFail},
		{"NotPromised", nil, nil, []conformance.Option{conformance.Delivery(true)}, conformance.StatusSkip},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := freeAddr(t)
			app := sim.EndpointSpec{ID: "stripe", Verify: &sim.VerifySpec{Preset: "stripe", Secrets: signer.Keys(secret)},
				Triggers: []sim.TriggerSpec{{ID: "all", Deliver: "http://" + sink + "/d"}}, Dedup: &sim.DedupSpec{}}
			url := startApp(t, app, tt.fault...)
			m := map[string]any{"url": url, "sink": sink, "endpoint": map[string]any{
				"verify":   map[string]any{"preset": "stripe", "secret": secret},
				"triggers": []any{map[string]any{"id": "all"}},
			}}
			if tt.delivery != nil {
				m["delivery"] = tt.delivery
			}
			target, err := conformance.Declared(writeManifest(t, m))
			require.NoError(t, err)
			opts := append([]conformance.Option{conformance.Select("^Delivery/"), conformance.DeliveryWait(2 * time.Second)}, tt.opts...)
			rep, _ := conformance.Check(context.Background(), target, opts...)
			require.Len(t, rep.Cases, len(deliveryIDs()), "cases run")
			for _, c := range rep.Cases {
				want := tt.want
				if tt.name == "PromisedButDedupOff" && c.Case.Name == "ReorderedDeliveriesEachDelivered" {
					want = conformance.StatusSkip // reorder not promised
				}
				assert.Equal(t, want, c.Status, "%s: problems %v; reason %q", c.Case.ID(), c.Problems, c.Reason)
				if c.Status == conformance.StatusSkip {
					assert.NotEmpty(t, c.Reason)
				}
			}
			if tt.name == "NotPromised" {
				assert.Contains(t, rep.Cases[0].Reason, "promises no idempotent delivery")
			}
		})
	}
}

func TestManifestDeliveryErrors(t *testing.T) {
	const head = "url: http://127.0.0.1:1/hooks/x\nendpoint:\n  verify: {preset: %s, secret: s}\n"
	tests := []struct {
		name, preset, delivery, want string
	}{
		{"NotAnObject", "stripe", "delivery: true", "app.yaml:4: delivery: want an object"},
		{"UnknownKey", "stripe", "delivery:\n  idempotent: true\n  order: true", "app.yaml:6: delivery.order: unknown key (want idempotent, by, reorder)"},
		{"IdempotentNotBool", "stripe", "delivery:\n  idempotent: yes please", "app.yaml:5: delivery.idempotent: want true or false"},
		{"BadBy", "stripe", "delivery:\n  idempotent: true\n  by: webhook-id", `app.yaml:6: delivery.by: want "header:NAME" or "body:PATH"`},
		{"PresetWithoutID", "caldotcom", "delivery:\n  idempotent: true", `app.yaml:5: delivery: by (default event-id): "event-id": the preset caldotcom carries no event id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Replace(head, "%s", tt.preset, 1) + tt.delivery + "\n"
			_, err := conformance.ParseManifest("app.yaml", []byte(data))
			require.Error(t, err, "ParseManifest:\n%s", data)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	m, err := conformance.ParseManifest("app.yaml", []byte(strings.Replace(head, "%s", "github", 1)+"delivery: {idempotent: true, reorder: true}\n"))
	require.NoError(t, err)
	require.NotNil(t, m.Delivery)
	assert.Equal(t, "header:X-Github-Delivery", m.Delivery.Source().String(), "the github preset's event id")
	assert.True(t, m.Delivery.Idempotent && m.Delivery.Reorder)
}

// TestDeclaredIdempotentAppIdenticalRequests: FanOut/IdenticalRequestsEachFire
// sends one body three times; to an app that promises to de-duplicate by
// an id in the body (Stripe's event id), that is one event, so the case
// is skipped with the reason instead of failing a correct app.
func TestDeclaredIdempotentAppIdenticalRequests(t *testing.T) {
	secret := "whsec_ZGVjbGFyZWQtZGVkdXAtc2VjcmV0"
	sink := freeAddr(t)
	filter := `{"body":{"type":["invoice.paid"]}}`
	app := sim.EndpointSpec{ID: "stripe", Verify: &sim.VerifySpec{Preset: "stripe", Secrets: signer.Keys(secret)},
		Triggers: []sim.TriggerSpec{{ID: "all", Deliver: "http://" + sink + "/d"}, {ID: "paid", Filter: []byte(filter), Deliver: "http://" + sink + "/d"}},
		Dedup:    &sim.DedupSpec{}}
	url := startApp(t, app)
	target, err := conformance.Declared(writeManifest(t, map[string]any{"url": url, "sink": sink,
		"endpoint": map[string]any{"verify": map[string]any{"preset": "stripe", "secret": secret},
			"triggers": []any{map[string]any{"id": "all"}, map[string]any{"id": "paid", "filter": json.RawMessage(filter)}}},
		"delivery": map[string]any{"idempotent": true}}))
	require.NoError(t, err)
	rep, err := conformance.Check(context.Background(), target, conformance.Select("^FanOut/IdenticalRequestsEachFire$"))
	require.NoError(t, err)
	require.Len(t, rep.Cases, 1)
	assert.Equal(t, conformance.StatusSkip, rep.Cases[0].Status, "problems %v", rep.Cases[0].Problems)
	assert.Contains(t, rep.Cases[0].Reason, "promises idempotent delivery by body:id")
}
