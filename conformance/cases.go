package conformance

import (
	"encoding/json"

	"github.com/hooklab/hooklab/signer"
	"github.com/hooklab/hooklab/sim"
)

// References used by many cases: a section of conformance/RULES.md (the
// facts, in a few sentences) and the public source.
const (
	// v2src is Trigger.dev's source at the last v2 tag.
	v2src = "https://github.com/triggerdotdev/trigger.dev/blob/%40trigger.dev%2Fsdk%402.3.18/"

	refTriggerFlow    = "Trigger.dev v2 HTTP endpoints: platform request flow (conformance/RULES.md T3; " + v2src + "apps/webapp/app/services/httpendpoint/HandleHttpEndpointService.ts)"
	refTriggerFilter  = "Trigger.dev v2 eventFilterMatches and requestFilterMatches (conformance/RULES.md F1–F3; " + v2src + "packages/core/src/eventFilterMatches.ts)"
	refTriggerFanOut  = "Trigger.dev v2 fan-out: every matching dispatcher fires (conformance/RULES.md T6; " + v2src + "apps/webapp/app/services/events/deliverEvent.server.ts)"
	refRespondWith    = "Trigger.dev v2 respondWith / skipTriggeringRuns (conformance/RULES.md T1; https://trigger.dev/docs/sdk/triggerclient/instancemethods/define-http-endpoint)"
	refVerifyRequest  = "Trigger.dev v2 verifyRequestSignature (conformance/RULES.md T2; " + v2src + "packages/trigger-sdk/src/security.ts)"
	refHTTPSemantics  = "RFC 9110 (HTTP semantics), https://www.rfc-editor.org/rfc/rfc9110 (conformance/RULES.md H1): 404, 405, 413"
	refStandardWebhks = "Standard Webhooks specification, https://www.standardwebhooks.com/"
)

// trig is a trigger with a filter written as JSON ("" matches every
// request).
func trig(id, filter string) sim.TriggerSpec {
	t := sim.TriggerSpec{ID: id}
	if filter != "" {
		t.Filter = json.RawMessage(filter)
	}
	return t
}

// ProvisionPreset provisions an endpoint verified with the named preset
// and a fresh secret (a key pair for asymmetric presets), with the given
// triggers; edit, if set, changes the spec first. It returns the
// endpoint's index.
func (x *exchange) ProvisionPreset(preset string, edit func(*sim.EndpointSpec), triggers ...sim.TriggerSpec) int {
	x.t.Helper()
	i, reason := x.TryProvisionPreset(preset, edit, triggers...)
	if i < 0 {
		x.Skipf("skipped: %s", reason)
	}
	return i
}

// TryProvisionPreset is ProvisionPreset for a case that loops over
// presets: it returns -1 and the reason when the target cannot make the
// endpoint, instead of skipping the whole case.
func (x *exchange) TryProvisionPreset(preset string, edit func(*sim.EndpointSpec), triggers ...sim.TriggerSpec) (int, string) {
	x.t.Helper()
	if preset == targetPreset {
		preset = x.preset()
	}
	s, err := signer.Preset(preset)
	if err != nil {
		x.Fatalf("conformance: %v", err)
	}
	verify, sign := newKeys(s, 1)
	spec := sim.EndpointSpec{Source: preset, Verify: &sim.VerifySpec{Preset: preset, Secrets: verify}, Triggers: triggers}
	if edit != nil {
		edit(&spec)
	}
	return x.TryProvision(spec, sign)
}

// targetPreset, given as the preset of a case's endpoint (presetSpec,
// ProvisionPreset), stands for the target's preset: the one
// a declared app verifies with (its manifest's endpoint.verify.preset),
// else defaultPreset. The endpoint gets fresh keys of that preset when it
// is provisioned (see exchange.TryProvision), so a case written for any
// preset runs against a Stripe or Standard Webhooks app as it does
// against the reference.
const targetPreset = "(the target's preset)"

// defaultPreset is the preset of targetPreset for a target that prefers
// none (the reference, a control API).
const defaultPreset = "github"

// presetPreferrer is implemented by a target that stands for an app
// verified with one preset (DeclaredTarget, App): preferredPreset returns
// it, or "" when the app verifies with no preset.
type presetPreferrer interface {
	preferredPreset() string
}

// preset returns the preset targetPreset stands for in this run.
func (x *exchange) preset() string { return runPreset(x.env.target) }

// runPreset returns the preset targetPreset stands for against t.
func runPreset(t Target) string {
	if p, ok := t.(presetPreferrer); ok {
		if name := p.preferredPreset(); name != "" {
			return name
		}
	}
	return defaultPreset
}

// presetSpec returns a spec builder for a case with one endpoint verified
// by a preset with a fresh HMAC secret (not for asymmetric presets), or,
// for targetPreset, by the target's preset with keys made when the
// endpoint is provisioned.
func presetSpec(preset string, triggers ...sim.TriggerSpec) func() sim.EndpointSpec {
	return func() sim.EndpointSpec {
		if preset == targetPreset {
			return sim.EndpointSpec{Source: targetPreset, Verify: &sim.VerifySpec{Preset: targetPreset}, Triggers: triggers}
		}
		s, _ := signer.Preset(preset)
		verify, _ := newKeys(s, 1)
		return sim.EndpointSpec{Source: preset, Verify: &sim.VerifySpec{Preset: preset, Secrets: verify}, Triggers: triggers}
	}
}
