package signer_test

import (
	"testing"
	"time"

	"github.com/hooklab/hooklab/signer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPresetsAreImmuneToCallers checks that no importer can change a
// preset for anyone else: a Scheme from a preset function, Preset or
// Presets is the caller's own, down to the slices inside it. Before
// presets were functions, `signer.Stripe.Tolerance = 24*time.Hour` made
// Preset("stripe") return 24h for every importer.
func TestPresetsAreImmuneToCallers(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T)
	}{
		{"PresetFunctionField", func(*testing.T) {
			s := signer.Stripe()
			s.Tolerance = 24 * time.Hour
		}},
		{"PresetFunctionSlices", func(*testing.T) {
			h := signer.HubSpotV1()
			h.SetHeaders[0].Value = "tampered"
			b := signer.Box()
			b.ExtraHeaders[0] = "tampered"
			b.SetHeaders[1].Value = "tampered"
		}},
		{"PresetSlices", func(t *testing.T) {
			for _, name := range []string{"box", "hubspot-v1", "stripe"} {
				s, err := signer.Preset(name)
				require.NoError(t, err, name)
				s.Tolerance = 24 * time.Hour
				if len(s.SetHeaders) > 0 {
					s.SetHeaders[0].Value = "tampered"
				}
				if len(s.ExtraHeaders) > 0 {
					s.ExtraHeaders[0] = "tampered"
				}
			}
		}},
		{"PresetsSlices", func(*testing.T) {
			all := signer.Presets()
			for i := range all {
				all[i].Tolerance = 24 * time.Hour
				if len(all[i].SetHeaders) > 0 {
					all[i].SetHeaders[0].Value = "tampered"
				}
				if len(all[i].ExtraHeaders) > 0 {
					all[i].ExtraHeaders[0] = "tampered"
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.tamper(t)
			checks := []struct {
				call      string
				get       func() (signer.Scheme, error)
				tolerance time.Duration
				extra     []string
				set       []signer.Field
			}{
				{`Preset("stripe")`, func() (signer.Scheme, error) { return signer.Preset("stripe") }, 5 * time.Minute, nil, nil},
				{"Stripe()", func() (signer.Scheme, error) { return signer.Stripe(), nil }, 5 * time.Minute, nil, nil},
				{`Preset("box")`, func() (signer.Scheme, error) { return signer.Preset("box") }, 10 * time.Minute,
					[]string{"BOX-SIGNATURE-SECONDARY"}, []signer.Field{{Name: "BOX-SIGNATURE-VERSION", Value: "1"}, {Name: "BOX-SIGNATURE-ALGORITHM", Value: "HmacSHA256"}}},
				{"Box()", func() (signer.Scheme, error) { return signer.Box(), nil }, 10 * time.Minute,
					[]string{"BOX-SIGNATURE-SECONDARY"}, []signer.Field{{Name: "BOX-SIGNATURE-VERSION", Value: "1"}, {Name: "BOX-SIGNATURE-ALGORITHM", Value: "HmacSHA256"}}},
				{`Preset("hubspot-v1")`, func() (signer.Scheme, error) { return signer.Preset("hubspot-v1") }, 0,
					nil, []signer.Field{{Name: "X-HubSpot-Signature-Version", Value: "v1"}}},
				{"HubSpotV1()", func() (signer.Scheme, error) { return signer.HubSpotV1(), nil }, 0,
					nil, []signer.Field{{Name: "X-HubSpot-Signature-Version", Value: "v1"}}},
			}
			for _, c := range checks {
				got, err := c.get()
				require.NoError(t, err, c.call)
				assert.Equal(t, c.tolerance, got.Tolerance, "%s.Tolerance", c.call)
				assert.Equal(t, c.extra, got.ExtraHeaders, "%s.ExtraHeaders", c.call)
				assert.Equal(t, c.set, got.SetHeaders, "%s.SetHeaders", c.call)
			}
			for _, s := range signer.Presets() {
				if s.SetHeaders != nil {
					assert.NotContains(t, s.SetHeaders, signer.Field{Name: s.SetHeaders[0].Name, Value: "tampered"}, "Presets() %s.SetHeaders", s.Name)
				}
				assert.NotContains(t, s.ExtraHeaders, "tampered", "Presets() %s.ExtraHeaders", s.Name)
				assert.NotEqual(t, 24*time.Hour, s.Tolerance, "Presets() %s.Tolerance", s.Name)
			}
		})
	}
}
