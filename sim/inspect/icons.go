package inspect

import "strings"

// An icon is a provider's letter badge: up to two letters on its colour.
type icon struct {
	Name, Letters, Class string
}

// providerIcons are the embedded provider glyphs, by icon name.
var providerIcons = map[string]icon{
	"github":            {"github", "GH", "i-github"},
	"gitlab":            {"gitlab", "GL", "i-gitlab"},
	"stripe":            {"stripe", "S", "i-stripe"},
	"slack":             {"slack", "Sl", "i-slack"},
	"shopify":           {"shopify", "Sh", "i-shopify"},
	"twilio":            {"twilio", "Tw", "i-twilio"},
	"discord":           {"discord", "D", "i-discord"},
	"linear":            {"linear", "Li", "i-linear"},
	"zoom":              {"zoom", "Z", "i-zoom"},
	"svix":              {"svix", "Sv", "i-svix"},
	"standard-webhooks": {"standard-webhooks", "SW", "i-svix"},
	"sendgrid":          {"sendgrid", "SG", "i-sendgrid"},
	"mailgun":           {"mailgun", "MG", "i-mailgun"},
	"paddle":            {"paddle", "P", "i-paddle"},
	"resend":            {"resend", "R", "i-linear"},
	"clerk":             {"clerk", "C", "i-linear"},
	"hubspot":           {"hubspot", "HS", "i-shopify"},
	"intercom":          {"intercom", "I", "i-twilio"},
	"typeform":          {"typeform", "Tf", "i-linear"},
}

// iconOf returns the badge of an icon name: a provider's, else the name's
// first letter on a neutral colour.
func iconOf(name string) icon {
	if ic, ok := providerIcons[name]; ok {
		return ic
	}
	for p, ic := range providerIcons {
		if strings.HasPrefix(name, p) {
			return ic
		}
	}
	l := "?"
	if name != "" {
		l = strings.ToUpper(name[:1])
	}
	return icon{Name: name, Letters: l, Class: "i-other"}
}
