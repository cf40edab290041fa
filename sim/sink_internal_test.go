package sim

import "testing"

// TestSinkServerTimeouts checks that a Sink's server bounds reading an
// envelope, writing the answer and idle keep-alive connections, so slow or
// idle clients cannot hold its connections for ever.
func TestSinkServerTimeouts(t *testing.T) {
	s, err := NewSink("")
	if err != nil {
		t.Fatalf("NewSink: %v", err)
	}
	defer s.Close()
	for name, d := range map[string]int64{
		"ReadHeaderTimeout": int64(s.srv.ReadHeaderTimeout),
		"ReadTimeout":       int64(s.srv.ReadTimeout),
		"WriteTimeout":      int64(s.srv.WriteTimeout),
		"IdleTimeout":       int64(s.srv.IdleTimeout),
	} {
		if d <= 0 {
			t.Errorf("NewSink(\"\").%s = %d, want > 0", name, d)
		}
	}
}
