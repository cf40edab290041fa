package conformance_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/conformance"
	"github.com/hooklab/hooklab/internal/fault"
	"github.com/hooklab/hooklab/sim"
)

// caughtBy names, for each fault of the reference ingress, cases that
// must fail against it (rule 22: test the tester). A fault may fail more
// cases than these; the test logs every case that failed.
var caughtBy = map[string][]string{
	"skip-verify":                {"Verify/WrongSecret", "Verify/BodyChangedByOneByte", "FanOut/RejectedRequestWakesNothing", "FanOut/DeliveryEnvelope"},
	"verify-after-trigger":       {"Verify/WrongSecret", "FanOut/RejectedRequestWakesNothing", "FanOut/EndpointIsolation"},
	"case-sensitive-headers":     {"Verify/HeaderNameCase", "Filter/HeaderNameCaseInsensitive", "FanOut/PartialMatches"},
	"first-match-only":           {"FanOut/PartialMatches", "FanOut/EveryMatchExactlyOnce", "FanOut/ConcurrentRequests"},
	"ignore-skip-triggering":     {"RespondWith/SkipTriggeringDeliversNothing"},
	"no-respond-with":            {"RespondWith/MatchAnswersDeclaredResponse", "RespondWith/MetaHubChallenge"},
	"query-filter-ignored":       {"Filter/QueryParameter", "FanOut/NoneMatchAccepted"},
	"drop-under-concurrency":     {"FanOut/ConcurrentRequests"},
	"duplicate-delivery":         {"FanOut/PartialMatches", "FanOut/EveryMatchExactlyOnce", "FanOut/IdenticalRequestsEachFire", "FanOut/ConcurrentRequests"},
	"reserialize-body":           {"Verify/ReserializedJSON", "FanOut/DeliveryEnvelope"},
	"no-tolerance":               {"Verify/StaleTimestamp", "Verify/FutureTimestamp"},
	"first-key-only":             {"Verify/RotatedSecrets"},
	"repeated-header-unverified": {"Verify/DuplicatedHeader"},
	"no-content-limit":           {"Robustness/OversizeBody", "Robustness/OversizeChunkedBody"},
	"any-method":                 {"Robustness/UnsupportedMethod"},
	"unknown-endpoint-ok":        {"Robustness/UnknownEndpoint"},
	"parse-json-first":           {"Robustness/MalformedJSONWithJSONContentType", "Robustness/EmptyBodyWithJSONContentType", "Verify/EmptyBody"},
	"utf8-decode-body":           {"Robustness/InvalidUTF8Body"},
	"leak-expected-signature":    {"Robustness/RejectionLeaksNoSecret"},
	"json-content-type-only":     {"Filter/BodyWithoutContentType", "Filter/BodyContentTypeCase"},
	"url-without-query":          {"Verify/QueryString"},
	"sha1-fallback":              {"Policy/AlgorithmDowngrade"},
	"dedup-by-body":              {"FanOut/IdenticalRequestsEachFire", "Delivery/DifferentEventsEachDelivered"},
	"no-dedup": {"Delivery/DuplicateDeliveredOnce", "Delivery/RetryDeliveredOnce", "Delivery/DifferentEventsEachDelivered",
		"Delivery/ReorderedDeliveriesEachDelivered", "Delivery/ForgedDuplicateDoesNotSuppress"},
	"dedup-before-verify":  {"Delivery/ForgedDuplicateDoesNotSuppress"},
	"dedup-by-signature":   {"Delivery/RetryDeliveredOnce"},
	"dedup-id-cursor":      {"Delivery/ReorderedDeliveriesEachDelivered"},
	"shared-trigger-table": {"FanOut/EndpointIsolation"},
	// Caught only by the sweep at the end of the run: the deliveries come
	// 1 s after the answer, long after each case's settle time.
	"late-delivery-of-rejected": {"Verify/WrongSecret", "Verify/BodyChangedByOneByte", "Verify/MissingSignatureHeader",
		"FanOut/RejectedRequestWakesNothing", "Robustness/RejectionLeaksNoSecret"},
}

// caughtByTriggerDev names, for each fault of the reference's
// triggerdev-v2 profile, cases that must fail against it under the
// triggerdev-v2 expectations: each fault is a way of not being Trigger.dev
// v2, and the profile of expectation must notice it.
var caughtByTriggerDev = map[string][]string{
	"verify-at-door":             {"RespondWith/WithoutSkipTriggeringStillVerifies", "RespondWith/ZoomHandshakeIsNoSigningOracle", "RespondWith/RespondWithBeforeVerify"},
	"json-answer":                {"Robustness/KeepAliveSequence", "Robustness/LargeBody", "Robustness/OversizeBody"},
	"verify-raw-bytes":           {"Robustness/InvalidUTF8Body"},
	"request-filter-triggers":    {"Filter/QueryParameter", "Filter/NonJSONBody", "Filter/BodyWithoutContentType", "Filter/AllPartsAnded"},
	"json-content-type-any-case": {"Filter/BodyContentTypeCase"},
	"no-event-dedupe":            {"FanOut/IdenticalRequestsEachFire"},
	"bad-json-wakes-unfiltered":  {"Robustness/MalformedJSONWithJSONContentType", "Robustness/EmptyBodyWithJSONContentType"},
	"get-runs-verify":            {"Filter/Method", "Filter/EmptyFilter", "RespondWith/MetaHubChallenge"},
	"body-limit":                 {"Robustness/OversizeBody", "Robustness/OversizeChunkedBody"},
}

// TestFaultsAreCaught runs, for each profile of the reference ingress
// (strict, triggerdev-v2), the groups of the suite that should catch
// each of that profile's faults against the reference built with it,
// under that profile's expectations, and checks that the expected cases
// fail and that Check's error names them.
func TestFaultsAreCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite about 25 times; skipped with -short")
	}
	ids := map[string]bool{}
	for _, c := range conformance.Cases() {
		ids[c.ID()] = true
	}
	profiles := []struct {
		sim      sim.Profile
		expect   string // the profile of expectation
		caughtBy map[string][]string
	}{
		{sim.Strict, conformance.ProfileStrict, caughtBy},
		{sim.TriggerDevV2, conformance.ProfileTriggerDevV2, caughtByTriggerDev},
	}
	for _, p := range profiles {
		for _, f := range fault.Of(p.sim) {
			require.NotEmptyf(t, p.caughtBy[f.Name], "%s: no case named to catch the fault %s", p.expect, f.Name)
		}
		for name := range p.caughtBy {
			_, err := fault.Lookup(p.sim, name)
			require.NoErrorf(t, err, "%s: a case list for a fault the profile does not have", p.expect)
		}
	}
	start := time.Now()
	t.Cleanup(func() { t.Logf("every mutation run: %s", time.Since(start).Round(10*time.Millisecond)) })
	for _, p := range profiles {
		t.Run(p.expect, func(t *testing.T) {
			for _, f := range fault.Of(p.sim) {
				t.Run(f.Name, func(t *testing.T) {
					t.Parallel()
					cfg, err := fault.With(sim.Config{Profile: p.sim}, f)
					require.NoError(t, err)
					want := p.caughtBy[f.Name]
					wantCaught(t, ids, conformance.ReferenceWith(cfg), want, groupsOf(want), conformance.Profile(p.expect))
				})
			}
		})
	}
}

// wantCaught checks target against the cases that pattern selects and
// requires that every case of want fails.
func wantCaught(t *testing.T, ids map[string]bool, target conformance.Target, want []string, pattern string, opts ...conformance.Option) {
	t.Helper()
	for _, id := range want {
		require.Truef(t, ids[id], "%s is not a case of the suite", id)
	}
	start := time.Now()
	// A shorter delivery wait: a delivery the fault loses is awaited once
	// per check, and every run here expects failures. Policy(true): a
	// fault against hooklab's own policy (sha1-fallback) is caught by a
	// Policy case; Delivery(true): a fault of dedup by a Delivery case;
	// pattern still picks the groups.
	rep, err := conformance.Check(t.Context(), target, append([]conformance.Option{conformance.Select(pattern),
		conformance.Parallel(4), conformance.DeliveryWait(2 * time.Second), conformance.Policy(true), conformance.Delivery(true)}, opts...)...)
	require.NotNil(t, rep, "Check(%s) returned no report", pattern)
	// Policy cases included: a fault against the policy fails one.
	passed, failed, skipped := rep.Count(conformance.StatusPass), rep.Count(conformance.StatusFail), rep.Count(conformance.StatusSkip)
	var failedIDs []string
	for _, c := range rep.Cases {
		if c.Status == conformance.StatusFail {
			failedIDs = append(failedIDs, c.Case.ID())
		}
	}
	t.Logf("Check(%s): %d passed, %d failed, %d skipped in %s; failed: %s", pattern, passed, failed, skipped,
		time.Since(start).Round(10*time.Millisecond), strings.Join(failedIDs, " "))

	require.Positive(t, failed, "Check(%s): no case failed, want at least %v", pattern, want)
	for _, id := range want {
		assert.Containsf(t, failedIDs, id, "Check(%s): %s passed, want it to fail", pattern, id)
	}

	require.Error(t, err, "Check(%s) = nil error, want a *CaseError per failed case", pattern)
	var ce *conformance.CaseError
	require.Truef(t, errors.As(err, &ce), "errors.As(Check error, *CaseError) = false; error:\n%v", err)
	assert.Containsf(t, failedIDs, ce.Case.ID(), "errors.As(Check error) names %s, which did not fail", ce.Case.ID())
	named := map[string]bool{}
	for _, e := range caseErrors(err) {
		named[e.Case.ID()] = true
	}
	for _, id := range want {
		assert.Truef(t, named[id], "Check(%s) error names no *CaseError for %s", pattern, id)
	}
}

// caseErrors returns every *CaseError in err's tree.
func caseErrors(err error) []*conformance.CaseError {
	if ce, ok := err.(*conformance.CaseError); ok {
		return []*conformance.CaseError{ce}
	}
	var out []*conformance.CaseError
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, caseErrors(e)...)
		}
	case interface{ Unwrap() error }:
		if e := u.Unwrap(); e != nil {
			out = append(out, caseErrors(e)...)
		}
	}
	return out
}

// groupsOf returns a Select pattern for the groups of the case ids.
func groupsOf(ids []string) string {
	set := map[string]bool{}
	for _, id := range ids {
		g, _, _ := strings.Cut(id, "/")
		set[g] = true
	}
	var gs []string
	for g := range set {
		gs = append(gs, regexp.QuoteMeta(g))
	}
	sort.Strings(gs)
	return "^(" + strings.Join(gs, "|") + ")/"
}

func TestReferencePassesEveryCase(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite; skipped with -short")
	}
	rep, err := conformance.Check(t.Context(), conformance.Reference(), conformance.Parallel(4), conformance.Policy(true), conformance.Delivery(true))
	var text strings.Builder
	if rep != nil {
		rep.WriteText(&text, false)
	}
	require.NoError(t, err, "Check(Reference()) report:\n%s", text.String())
	passed, failed, _ := rep.Counts()
	assert.Zero(t, failed, "Check(Reference()): failed cases, want none:\n%s", text.String())
	_, policyFailed, _ := rep.PolicyCounts()
	assert.Zero(t, policyFailed, "Check(Reference(), Policy(true)): failed policy cases, want none:\n%s", text.String())
	assert.Equal(t, len(conformance.Cases()), len(rep.Cases), "Check(Reference(), Policy(true), Delivery(true)): cases in the report, want every case")
	assert.Positive(t, passed, "Check(Reference()): no case passed")
}

// TestDeliveryEnvelopeChecks shows that FanOut/DeliveryEnvelope fails,
// naming the field, for each way a delivery envelope can be wrong: the
// envelopes of the reference ingress are rewritten on their way to the
// suite's sink.
func TestDeliveryEnvelopeChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a case once per row; skipped with -short")
	}
	tests := []struct {
		name string
		edit func(d *sim.Delivery)
		want string // in a problem of the case
	}{
		{"OtherEndpointID", func(d *sim.Delivery) { d.Endpoint = "another-endpoint" }, `endpoint = "another-endpoint"`},
		{"UnknownTriggerID", func(d *sim.Delivery) { d.Trigger += "-renamed" }, "-renamed = 1, want 0"},
		{"MethodChanged", func(d *sim.Delivery) { d.Request.Method = http.MethodPost }, `method = "POST", want "PUT"`},
		{"BodyReencoded", func(d *sim.Delivery) {
			var buf bytes.Buffer
			json.Compact(&buf, d.Request.Body)
			d.Request.Body = buf.Bytes()
		}, "body = "},
		{"QueryDropped", func(d *sim.Delivery) { d.Request.URL, _, _ = strings.Cut(d.Request.URL, "?") }, "url = "},
		{"RelativeURL", func(d *sim.Delivery) {
			u, _ := url.Parse(d.Request.URL)
			d.Request.URL = u.RequestURI()
		}, "want an absolute http(s) URL"},
		{"HeaderDropped", func(d *sim.Delivery) { delete(d.Request.Header, "X-Github-Event") }, "header X-Github-Event missing"},
		{"RepeatedHeaderFlattened", func(d *sim.Delivery) {
			d.Request.Header["X-Hooklab-Repeated"] = d.Request.Header["X-Hooklab-Repeated"][:1]
		}, `header X-Hooklab-Repeated = "one", want "one, two"`},
		{"SignatureChanged", func(d *sim.Delivery) { d.Request.Header["X-Hub-Signature-256"] = []string{"sha256=00"} }, "header X-Hub-Signature-256 differs"},
		{"NotVerified", func(d *sim.Delivery) { d.Verification = sim.Verification{} }, "verification = {verified: false"},
		{"DeliveredBeforeReceived", func(d *sim.Delivery) {
			d.ReceivedAt, d.DeliveredAt = d.DeliveredAt.Add(time.Second), d.ReceivedAt
		}, "want at or after receivedAt"},
		{"NoReceivedAt", func(d *sim.Delivery) { d.ReceivedAt = time.Time{} }, "want both set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, err := conformance.Check(t.Context(), envelopeRewriter(tt.edit), conformance.Select("^FanOut/DeliveryEnvelope$"))
			require.Error(t, err, "Check(envelopes rewritten: %s) = nil error, want FanOut/DeliveryEnvelope to fail", tt.name)
			require.Len(t, rep.Cases, 1)
			c := rep.Cases[0]
			require.Equal(t, conformance.StatusFail, c.Status, "FanOut/DeliveryEnvelope status")
			assert.Contains(t, strings.Join(c.Problems, "\n"), tt.want, "FanOut/DeliveryEnvelope problems")
		})
	}
}

// envelopeRewriter is the reference ingress with every delivery envelope
// passed through edit on its way to the trigger's Deliver URL.
func envelopeRewriter(edit func(*sim.Delivery)) conformance.Target {
	return conformance.TargetFunc(func(ctx context.Context, spec sim.EndpointSpec) (conformance.Endpoint, error) {
		dest := make([]string, len(spec.Triggers))
		relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
			if err != nil || i < 0 || i >= len(dest) {
				http.NotFound(w, r)
				return
			}
			var d sim.Delivery
			if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			edit(&d)
			b, err := json.Marshal(d)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			resp, err := http.Post(dest[i], "application/json", bytes.NewReader(b))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
		}))
		spec.Triggers = append([]sim.TriggerSpec(nil), spec.Triggers...)
		for i := range spec.Triggers {
			dest[i] = spec.Triggers[i].Deliver
			spec.Triggers[i].Deliver = relay.URL + "/" + strconv.Itoa(i)
		}
		ep, err := conformance.Reference().Provision(ctx, spec)
		if err != nil {
			relay.Close()
			return ep, err
		}
		closeEndpoint := ep.Close
		ep.Close = func() error {
			err := closeEndpoint()
			relay.Close()
			return err
		}
		return ep, nil
	})
}

var (
	groups     = []string{conformance.GroupVerify, conformance.GroupRespondWith, conformance.GroupFilter, conformance.GroupFanOut, conformance.GroupRobustness, conformance.GroupDelivery, conformance.GroupPolicy}
	caseName   = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	caseSource = regexp.MustCompile(`^conformance/([A-Za-z0-9_]+\.go):([1-9][0-9]*)$`)
)

// TestCaseTable checks that every case is well-formed (rule 7): a known
// group, a CamelCase name, a unique id, a rule and a reference, and a
// source line that declares it.
func TestCaseTable(t *testing.T) {
	cases := conformance.Cases()
	require.NotEmpty(t, cases, "Cases() = none")
	files := map[string][]string{}
	lines := func(name string) []string {
		if ls, ok := files[name]; ok {
			return ls
		}
		f, err := os.Open(name) // tests run in the package directory
		require.NoError(t, err, "opening a case's source file")
		defer f.Close()
		var ls []string
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			ls = append(ls, sc.Text())
		}
		require.NoError(t, sc.Err(), "reading %s", name)
		files[name] = ls
		return ls
	}
	seen := map[string]string{}
	for _, c := range cases {
		id := c.ID()
		assert.Containsf(t, groups, c.Group, "%s: Group = %q, want one of %v", id, c.Group, groups)
		assert.Regexpf(t, caseName, c.Name, "%s: Name = %q, want a CamelCase identifier", id, c.Name)
		if prev, ok := seen[id]; ok {
			t.Errorf("%s: declared at %s and at %s, want unique ids", id, prev, c.Source)
		}
		seen[id] = c.Source
		assert.NotEmptyf(t, strings.TrimSpace(c.Rule), "%s: Rule is empty, want the rule as a sentence", id)
		assert.NotEmptyf(t, strings.TrimSpace(c.Reference), "%s: Reference is empty, want where the rule comes from", id)
		m := caseSource.FindStringSubmatch(c.Source)
		if !assert.NotNilf(t, m, "%s: Source = %q, want conformance/<file>.go:<line>", id, c.Source) {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		ls := lines(m[1])
		if !assert.LessOrEqualf(t, n, len(ls), "%s: Source = %s, past the end of %s (%d lines)", id, c.Source, m[1], len(ls)) {
			continue
		}
		assert.Containsf(t, ls[n-1], strconv.Quote(c.Name), "%s: Source = %s, whose line does not name the case:\n\t%s", id, c.Source, strings.TrimSpace(ls[n-1]))
	}
}

// TestCaseCount checks the suite's size: at least 80 cases once every
// group is written.
func TestCaseCount(t *testing.T) {
	count := map[string]int{}
	for _, c := range conformance.Cases() {
		count[c.Group]++
	}
	assert.GreaterOrEqualf(t, len(conformance.Cases()), 80, "len(Cases()) = %d, want at least 80; by group: %v", len(conformance.Cases()), count)
}
