package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hooklab/hooklab/internal/stage"
)

// DefaultSinkMaxBody is the largest delivery envelope a Sink accepts.
const DefaultSinkMaxBody = 16 << 20

// Timeouts of a Sink's server: reading a whole envelope, writing the
// answer, and keeping an idle keep-alive connection.
const (
	sinkReadTimeout  = 30 * time.Second
	sinkWriteTimeout = 30 * time.Second
	sinkIdleTimeout  = 2 * time.Minute
)

// A Sink is an HTTP server that receives Delivery envelopes, as triggers
// POST them, and records them. Point a TriggerSpec's Deliver at URL. A
// Sink follows the httptest lifecycle: NewSink starts it on a loopback
// port, Close stops it.
//
// A Sink is also an http.Handler, to mount in a server of one's own; every
// method is safe for concurrent use.
type Sink struct {
	// Recorder holds what arrived.
	Recorder
	// URL is the base URL, "http://127.0.0.1:port", with no trailing
	// slash. Deliveries are accepted at any path.
	URL string

	srv *http.Server
	ln  net.Listener
}

// NewSink starts a Sink listening on addr; "" means a free loopback port
// (127.0.0.1:0).
func NewSink(addr string) (*Sink, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: sink: %w", err)
	}
	s := &Sink{ln: ln, URL: "http://" + ln.Addr().String()}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       sinkReadTimeout,
		WriteTimeout:      sinkWriteTimeout,
		IdleTimeout:       sinkIdleTimeout,
	}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server and waits for requests in progress. Recorded
// deliveries stay readable.
func (s *Sink) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// ServeHTTP records one envelope: 204 when it is a Delivery in JSON, 400
// with the reason when not, 405 for a method other than POST. A retry (an
// envelope whose id was recorded before) is answered 204 too, and counted
// by Retries rather than recorded again. An envelope without an "id"
// takes the DeliveryIDHeader's value, if any.
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "a sink takes POST", "")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, DefaultSinkMaxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading the envelope: "+err.Error(), "")
		return
	}
	if len(body) > DefaultSinkMaxBody {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("envelope over %d bytes", DefaultSinkMaxBody), "")
		return
	}
	var d Delivery
	if err := json.Unmarshal(body, &d); err != nil {
		writeError(w, http.StatusBadRequest, "not a delivery envelope: "+err.Error(), "")
		return
	}
	if d.Endpoint == "" || d.Trigger == "" {
		writeError(w, http.StatusBadRequest, `not a delivery envelope: "endpoint" and "trigger" are required`, "")
		return
	}
	if d.ID == "" {
		d.ID = r.Header.Get(DeliveryIDHeader)
	}
	s.Record(d)
	w.WriteHeader(http.StatusNoContent)
}

// writeError writes a JSON error body {"error": msg, "reason": reason},
// as every stage does.
var writeError = stage.WriteError
