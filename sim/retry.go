package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hooklab/hooklab/signer"
)

// A RetryPolicy is a provider's automatic redelivery of a failed webhook,
// as its documentation describes it: when it retries, how long it waits,
// how many times, and what changes on a retry. RetryPolicyFor returns the
// policy of a preset; a RetryPolicy is a plain value the caller may copy
// and change (its slices are its own).
type RetryPolicy struct {
	// Preset is the signer preset the policy belongs to ("stripe").
	Preset string `json:"preset"`
	// Delays are the waits between attempts: Delays[i] is the wait after
	// attempt i+1 failed, before attempt i+2. Empty: the provider does not
	// retry (one attempt).
	Delays []time.Duration `json:"delays"`
	// Timeout is how long the provider waits for an answer before it counts
	// the attempt failed (and, for Slack, retries at once); 0 when not
	// documented.
	Timeout time.Duration `json:"timeout,omitempty"`
	// FailsOn lists what counts as a failed attempt: "non-2xx" (any status
	// outside 200–299, redirects included), "timeout" (no answer within
	// Timeout), "connection" (refused, reset, TLS).
	FailsOn []string `json:"fails_on,omitempty"`
	// SameID reports that a retry carries the same event or message id
	// (IDHeader, or the event id in the body) as the first attempt, so a
	// receiver can deduplicate on it.
	SameID bool `json:"same_id"`
	// FreshSignature reports that a retry is signed anew with the time of
	// the attempt (a fresh timestamp), so a timestamped scheme's tolerance
	// does not reject it. Schemes without a timestamp sign the same bytes
	// and so carry the same signature.
	FreshSignature bool `json:"fresh_signature"`
	// IDHeader is the preset's message id header, which Prepare keeps
	// ("svix-id"); empty when the id is only in the body (Stripe's evt_…).
	IDHeader string `json:"id_header,omitempty"`
	// Headers are set on retries only, after signing; a Value may hold
	// {retry} (1 on the first retry, attempt-1) and {reason} (a Reason…
	// constant): Slack's X-Slack-Retry-Num and X-Slack-Retry-Reason.
	Headers []signer.Field `json:"headers,omitempty"`
	// Approximate reports that the provider publishes the bound of its
	// schedule but not its intervals, so Delays are hooklab's reading of
	// it (Note says which).
	Approximate bool `json:"approximate,omitempty"`
	// Note says what the documentation states and what hooklab assumed.
	Note string `json:"note"`
	// Source is the URL of the provider's documentation of the schedule.
	Source string `json:"source"`
}

// Reasons a delivery attempt failed, as Slack names them in
// X-Slack-Retry-Reason (https://api.slack.com/apis/events-api#retries).
const (
	ReasonHTTPError        = "http_error"        // a status outside 200–299
	ReasonTimeout          = "http_timeout"      // no answer in time
	ReasonConnectionFailed = "connection_failed" // refused, reset, unreachable
	ReasonUnknown          = "unknown_error"     // any other transport error
)

// MaxAttempts is the number of attempts the provider makes in all, the
// first one included.
func (p RetryPolicy) MaxAttempts() int { return len(p.Delays) + 1 }

// Total is the time from the first attempt to the last when every attempt
// fails, response times excluded.
func (p RetryPolicy) Total() time.Duration {
	var t time.Duration
	for _, d := range p.Delays {
		t += d
	}
	return t
}

// Delay returns the wait before attempt n (n ≥ 2) multiplied by scale:
// 1 is the provider's real schedule, 0.001 compresses three days into
// about four and a half minutes. It is 0 for the first attempt, for an
// attempt past MaxAttempts and for a scale ≤ 0.
func (p RetryPolicy) Delay(n int, scale float64) time.Duration {
	if n < 2 || n > p.MaxAttempts() || scale <= 0 {
		return 0
	}
	return time.Duration(float64(p.Delays[n-2]) * scale)
}

// Failed reports whether an attempt that got res and err counts as
// failed: a transport error, or a status outside 200–299 (redirects are
// failures: webhook senders do not follow them). It returns the reason
// (a Reason… constant), or "" for a success.
func Failed(res *Result, err error) (reason string, failed bool) {
	switch {
	case err != nil:
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return ReasonTimeout, true
		case errors.Is(err, context.DeadlineExceeded):
			return ReasonTimeout, true
		}
		var oe *net.OpError
		if errors.As(err, &oe) {
			return ReasonConnectionFailed, true
		}
		return ReasonUnknown, true
	case res == nil:
		return ReasonUnknown, true
	case !res.OK():
		return ReasonHTTPError, true
	}
	return "", false
}

// Prepare returns attempt n (2 ≤ n ≤ MaxAttempts) of the delivery first, as
// the provider sends it after a failure for reason: when FreshSignature
// and sg is not nil, signed anew by sg at time at, keeping the message id
// (IDHeader's value) of first; then with the retry Headers set. Every other
// header is kept, sim.RequestIDHeader included, so a sink sees the retry
// as another delivery of the same request. first is not modified.
func (p RetryPolicy) Prepare(first signer.Payload, n int, reason string, sg *signer.Signer, at time.Time) (signer.Payload, error) {
	if n < 2 || n > p.MaxAttempts() {
		return signer.Payload{}, fmt.Errorf("sim: %s retries: attempt %d of %d", p.Preset, n, p.MaxAttempts())
	}
	out := signer.Payload{Method: first.Method, URL: first.URL, Header: first.Header.Clone(), Body: first.Body}
	if p.FreshSignature && sg != nil {
		var opts []signer.Option
		if p.IDHeader != "" {
			if id := first.Header.Get(p.IDHeader); id != "" {
				opts = append(opts, signer.ID(id))
			}
		}
		var err error
		if out, err = sg.Sign(out, append(opts, signer.At(at))...); err != nil {
			return signer.Payload{}, fmt.Errorf("sim: %s retry %d: %w", p.Preset, n-1, err)
		}
	}
	if out.Header == nil && len(p.Headers) > 0 {
		out.Header = make(map[string][]string)
	}
	r := strings.NewReplacer("{retry}", strconv.Itoa(n-1), "{reason}", reason)
	for _, h := range p.Headers {
		out.Header.Set(h.Name, r.Replace(h.Value))
	}
	return out, nil
}

// RetryPolicyFor returns the documented retry policy of preset (a signer
// preset name, as signer.Preset reads it). ok is false when hooklab knows
// no documented schedule for it: the policy returned then has no Delays
// (one attempt) and a Note saying so. GitHub is ok with no Delays: it
// documents that it does not retry.
func RetryPolicyFor(preset string) (p RetryPolicy, ok bool) {
	name := preset
	if s, err := signer.Preset(preset); err == nil {
		name = s.Name
	}
	mk, ok := retryPolicies[name]
	if !ok {
		return RetryPolicy{Preset: name, Note: "no documented automatic retry schedule known to hooklab"}, false
	}
	p = mk()
	p.Preset = name
	if s, err := signer.Preset(name); err == nil {
		p.IDHeader = s.IDHeader
	}
	return p, true
}

// RetryPolicies returns every documented policy, sorted by preset.
func RetryPolicies() []RetryPolicy {
	out := make([]RetryPolicy, 0, len(retryPolicies))
	for name := range retryPolicies {
		p, _ := RetryPolicyFor(name)
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Preset < out[j].Preset })
	return out
}

// doubling returns n delays starting at first, each twice the one before.
func doubling(first time.Duration, n int) []time.Duration {
	ds := make([]time.Duration, n)
	for i := range ds {
		ds[i] = first << i
	}
	return ds
}

var failsOnAll = []string{"non-2xx", "timeout", "connection"}

// svixPolicy is Svix's schedule, which Clerk and Resend deliver through.
func svixPolicy(source string) func() RetryPolicy {
	return func() RetryPolicy {
		return RetryPolicy{
			Delays:  []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour},
			Timeout: 15 * time.Second, FailsOn: failsOnAll, SameID: true, FreshSignature: true,
			Note: "an attempt immediately, then after 5s, 5m, 30m, 2h, 5h, 10h and 10h, each counted from the failure " +
				"of the one before; any status outside 2xx (3xx included) fails; 15s to answer; " +
				"the same svix-id on every attempt, a new timestamp and signature (Standard Webhooks spec)",
			Source: source,
		}
	}
}

// standardWebhooksPolicy is the Standard Webhooks spec's example schedule.
func standardWebhooksPolicy() RetryPolicy {
	return RetryPolicy{
		Delays: []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
			10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour},
		Timeout: 15 * time.Second, FailsOn: failsOnAll, SameID: true, FreshSignature: true,
		Note: "the spec's example schedule (immediately, 5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h, 24h); " +
			"non-2xx, timeouts and resets fail; 15–30s recommended timeout (15s here); " +
			"webhook-id stays the same on retries, webhook-timestamp is the attempt's",
		Source: "https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#deliverability-and-reliability",
	}
}

// retryPolicies maps a preset name to its documented policy.
var retryPolicies = map[string]func() RetryPolicy{
	"standard-webhooks":         standardWebhooksPolicy,
	"standard-webhooks-ed25519": standardWebhooksPolicy,
	"svix":                      svixPolicy("https://docs.svix.com/retries"),
	"clerk":                     svixPolicy("https://docs.svix.com/retries"),
	"resend":                    svixPolicy("https://resend.com/docs/webhooks/retries-and-replays"),
	"stripe": func() RetryPolicy {
		return RetryPolicy{
			// 1m doubling: 12 retries, the last at 68h15m, within 3 days.
			Delays: doubling(time.Minute, 12), Timeout: 30 * time.Second,
			FailsOn: failsOnAll, SameID: true, FreshSignature: true, Approximate: true,
			Note: "live mode retries with exponential backoff for up to 3 days (a sandbox 3 times over a few hours); " +
				"the intervals are not published: hooklab doubles from 1 minute (12 retries, the last 68h15m after the first attempt); " +
				"the same event (evt_ id in the body), a new timestamp and signature on every attempt",
			Source: "https://docs.stripe.com/webhooks#automatic-retries",
		}
	},
	"shopify": func() RetryPolicy {
		return RetryPolicy{
			// 1m doubling: 8 retries, the last at 4h15m.
			Delays: doubling(time.Minute, 8), Timeout: 5 * time.Second,
			FailsOn: failsOnAll, SameID: true, Approximate: true,
			Note: "8 retries over 4 hours with exponential backoff, intervals not published: hooklab doubles from 1 minute " +
				"(the last retry 4h15m after the first attempt); 1s to connect, 5s to answer; retries carry the original payload " +
				"and X-Shopify-Triggered-At; the HMAC covers the body only, so the signature is the same",
			Source: "https://shopify.dev/changelog/updates-to-webhook-retry-mechanism",
		}
	},
	"slack": func() RetryPolicy {
		return RetryPolicy{
			Delays: []time.Duration{0, time.Minute, 5 * time.Minute}, Timeout: 3 * time.Second,
			FailsOn: failsOnAll, SameID: true, FreshSignature: true,
			Headers: []signer.Field{{Name: "X-Slack-Retry-Num", Value: "{retry}"}, {Name: "X-Slack-Retry-Reason", Value: "{reason}"}},
			Note: "3 retries: nearly immediately, after 1 minute, after 5 minutes; 3s to answer; " +
				"X-Slack-Retry-Num (1–3) and X-Slack-Retry-Reason (http_timeout, connection_failed, http_error, …) on retries; " +
				"the same event_id; a fresh X-Slack-Request-Timestamp and signature is assumed (not stated; " +
				"a retry 5 minutes later would otherwise fail Slack's own 5-minute check)",
			Source: "https://api.slack.com/apis/events-api#retries",
		}
	},
	"github": func() RetryPolicy {
		return RetryPolicy{
			Timeout: 10 * time.Second, FailsOn: failsOnAll,
			Note:   "GitHub does not redeliver failed deliveries automatically (redeliver by hand or the REST API); 10s to answer",
			Source: "https://docs.github.com/en/webhooks/using-webhooks/handling-failed-webhook-deliveries",
		}
	},
}

func init() {
	retryPolicies["github-sha1"] = retryPolicies["github"]
}
