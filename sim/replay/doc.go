// Package replay sends recorded webhook requests to a target again, as
// hooklab replay does: requests recorded by hooklab listen --record
// (package sim/record), raw HTTP files, or the results of hooklab load
// --out (package sim/load, with their requests kept).
//
// A replay reads its requests (Read), puts them in an Order (as
// recorded, reversed, or shuffled from a seed), and sends them one after
// the other at a Rate. On the way it can
//
//   - re-sign each request as the provider would (a Resigner): the
//     scheme's signature, timestamp and id headers are replaced by a fresh
//     signature at the replay's clock and a fresh id, after the original
//     signature was checked against the old secret when one is given;
//     timestamped schemes (Stripe, Slack, Standard Webhooks) reject a
//     captured request minutes later, so replaying the bytes as they are
//     only tests the receiver's staleness check;
//   - send a share of the requests twice, byte for byte (same signature,
//     same id), as providers do when an acknowledgement is lost;
//   - retry a request that was not answered 2xx on the provider's
//     documented schedule (sim.RetryPolicy), compressed by a time scale.
//
// Every request gives a Result; a Report adds them up and writes text or
// JSON.
//
// Typical use:
//
//	recs, _ := replay.Read("captures")
//	rs, _ := replay.NewResigner(signer.Stripe(), signer.Keys("whsec_new"), nil)
//	r := replay.New(replay.Options{To: "http://127.0.0.1:8080/hooks/stripe", Resign: rs})
//	var rep replay.Report
//	for res := range r.Replay(ctx, recs) {
//		rep.Add(res)
//	}
//	rep.WriteText(os.Stdout)
//
// Why re-signing matters: https://docs.stripe.com/webhooks#replay-prevention
// (a five-minute tolerance); retry schedules: sim.RetryPolicyFor.
package replay
