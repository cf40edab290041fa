package sim_test

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/hooklab/hooklab/sim"
)

// ExampleNewLogHandler logs a request whose path was sent as
// "/hooks/x%0a12:00:00.000%20POST%20/hooks/admin": the newline stays an
// escape inside one quoted field, so the line cannot be forged. (A record
// with a zero time, as here, is logged without one.)
func ExampleNewLogHandler() {
	h := sim.NewLogHandler(os.Stdout)
	for _, path := range []string{"/hooks/orders", "/hooks/x\n12:00:00.000 POST /hooks/admin"} {
		r := slog.NewRecord(time.Time{}, slog.LevelInfo, "POST "+path, 0)
		r.AddAttrs(slog.Int("status", 404), slog.String("note", "no such endpoint"))
		h.Handle(context.Background(), r)
	}
	// Output:
	// POST /hooks/orders status=404 note="no such endpoint"
	// "POST /hooks/x\n12:00:00.000 POST /hooks/admin" status=404 note="no such endpoint"
}
