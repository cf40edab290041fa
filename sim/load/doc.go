// Package load is hooklab's load generator: freshly signed webhooks at a
// steady rate, with honest latency and, when the target's triggers deliver
// to a sink, the time from each send to each trigger's delivery.
//
// Its parts follow vegeta's lib: a Pacer is the schedule (Constant,
// Linear, Steps, Sine), an Attacker sends what a Source builds and streams
// Results, Metrics accumulate them in constant memory (HDR histograms and
// a bounded latency-over-time series), and a Report is written as text,
// JSON or a plot. Run ties them together.
//
//	f, _ := fixtures.Lookup("github/pull_request")
//	rep, err := load.Run(ctx, load.Plan{
//		Source:   load.FixtureSource(f, "http://127.0.0.1:8080/hooks/github", signer.Keys(secret), 1),
//		Pacer:    load.Constant{Rate: 500},
//		Duration: time.Minute,
//	})
//	rep.WriteText(os.Stdout)
//
// Open and closed loop. With a Pacer the attack is open loop: request n
// is sent when the schedule says, whatever happened to earlier ones, as
// real webhook senders do. When the target slows down, requests pile up
// in flight (up to MaxInFlight; past it a slot is dropped and counted)
// instead of the schedule slowing down with it. Latency is measured from
// the intended send time, so a stall shows in the percentiles: this is
// the correction for coordinated omission (Gil Tene, "How NOT to Measure
// Latency"). The latency from the actual send is reported beside it; a
// large gap between the two means the sender could not keep the schedule.
// With a nil Pacer the attack is closed loop: Workers each send their
// next request when the previous one is answered, which measures maximum
// throughput, not latency under a given load.
//
// Every request is built at the moment it is sent: a fixture rendered with
// its own seed (or a fixed body), signed with a fresh timestamp and id,
// with a unique sim.RequestIDHeader that Deliveries uses to match each
// delivery envelope to its request.
//
// WithChaos makes the attacker misbehave as webhook providers do
// (sim.Chaos): some deliveries sent twice byte for byte, deliveries out of
// order within a window, failed attempts retried on a provider's
// documented schedule (sim.RetryPolicyFor). Reports count what was
// injected (ChaosMetrics), and Deliveries counts a trigger that delivers
// one request id twice as a double delivery (DeliveryMetrics.Duplicated),
// which a receiver that deduplicates never causes.
package load
