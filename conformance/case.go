package conformance

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/hooklab/hooklab/sim"
)

// The case groups.
const (
	GroupVerify      = "Verify"
	GroupRespondWith = "RespondWith"
	GroupFilter      = "Filter"
	GroupFanOut      = "FanOut"
	GroupRobustness  = "Robustness"
	// GroupPolicy holds the rules of this project that no provider, HTTP
	// or Trigger.dev requires (conformance/RULES.md P1). Its cases are
	// opt-in (option Policy, flag --policy) and reported apart from
	// conformance.
	GroupPolicy = "Policy"
	// GroupDelivery holds the rules of a receiver that promises
	// idempotent delivery (conformance/RULES.md D1–D3): one action per
	// event id however often the provider sends it, and reordered events
	// each taken. Its cases are opt-in (option Delivery, flag --delivery,
	// or a manifest's delivery promise), since no provider requires them
	// of a receiver, only recommends them.
	GroupDelivery = "Delivery"
)

var groupOrder = []string{GroupVerify, GroupRespondWith, GroupFilter, GroupFanOut, GroupRobustness, GroupDelivery, GroupPolicy}

// A Case is one rule of the suite, as data: where it belongs, what it
// checks, where the rule comes from and where the case is written.
type Case struct {
	// Group is one of Verify, RespondWith, Filter, FanOut and Robustness,
	// Delivery for the opt-in rules of an idempotent receiver (see
	// IsDelivery), or Policy for a rule of this project that no provider
	// requires (see IsPolicy).
	Group string `json:"group"`
	// Name is a CamelCase identifier, unique within the suite.
	Name string `json:"name"`
	// Rule is the rule as a sentence.
	Rule string `json:"rule"`
	// Reference is where the rule comes from (a provider's docs, the
	// Trigger.dev v2 source).
	Reference string `json:"reference"`
	// Source is the file:line where the case is declared.
	Source string `json:"source"`
}

// ID returns "Group/Name", the case's subtest name.
func (c Case) ID() string { return c.Group + "/" + c.Name }

// IsPolicy reports whether the case is of the Policy group: a rule of
// this project, run only with the option Policy(true) and counted apart
// from conformance.
func (c Case) IsPolicy() bool { return c.Group == GroupPolicy }

// IsDelivery reports whether the case is of the Delivery group: a rule
// of a receiver that promises idempotent delivery, run only with the
// option Delivery(true) or against a manifest that promises it.
func (c Case) IsDelivery() bool { return c.Group == GroupDelivery }

// check is a Case with what it needs to run.
type check struct {
	Case
	// spec is the endpoint the case needs; the suite sets its ID and points
	// every trigger's Deliver at the sink.
	spec func() sim.EndpointSpec
	// run sends the case's requests and reports violations through x.
	run func(x *exchange)
}

// source returns "conformance/<file>:<line>" of the caller's caller.
func source(skip int) string {
	_, file, line, ok := runtime.Caller(skip + 1)
	if !ok {
		return "conformance"
	}
	return "conformance/" + filepath.Base(file) + ":" + fmt.Sprint(line)
}

// def declares a case; it records the file:line of its caller.
func def(group, name, rule, ref string, spec func() sim.EndpointSpec, run func(x *exchange)) check {
	return check{Case: Case{Group: group, Name: name, Rule: rule, Reference: ref, Source: source(1)}, spec: spec, run: run}
}

// suite is every check, in the order the runners run them: group by
// group, each group in declaration order, the opt-in Delivery and Policy
// groups last.
var suite = slices.Concat(
	verifyCases,
	respondWithCases,
	filterCases, filterBodyCases,
	fanOutCases, fanOutScaleCases,
	robustnessCases, robustnessBodyCases,
	deliveryCases,
	policyCases,
)

// all returns every check in suite order.
func all() []check { return slices.Clone(suite) }

// Cases returns every case of the suite, in the order the runners run
// them, the opt-in Delivery and Policy cases (see Case.IsDelivery and
// Case.IsPolicy) included.
func Cases() []Case {
	var out []Case
	for _, c := range all() {
		out = append(out, c.Case)
	}
	return out
}

// kebab turns "GitHubValid" into "github-valid" for endpoint ids.
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 && !(s[i-1] >= 'A' && s[i-1] <= 'Z') {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
