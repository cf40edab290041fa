package sim

import "context"

// Drain waits until every delivery caused by a request the Ingress
// answered before the call has been made or given up, or ctx is done
// (its error): those of its deliverer (see Flush) and any its stages hold
// elsewhere. The strict profile hands a request's deliveries on before it
// answers, so once a request's answer is read, Drain covers all of them.
// Unlike Flush it may be called after Close, whose dropped deliveries it
// does not wait for.
func (in *Ingress) Drain(ctx context.Context) error {
	if err := in.deliv.Flush(ctx); err != nil {
		return err
	}
	if in.stages.Drain != nil {
		return in.stages.Drain(ctx)
	}
	return nil
}
