//go:build !linux

package h1

import (
	"errors"
	"net"
	"time"
)

// A rawSender is Linux's writev-and-wait path (send_linux.go); elsewhere
// every request is written the ordinary way.
type rawSender struct{}

// newRawSender returns nil: no raw path here.
func newRawSender(net.Conn) *rawSender { return nil }

// send is never called: Conn sends through a rawSender only when
// newRawSender returned one.
func (*rawSender) send(_, _ []byte, _ time.Time) (int64, error) {
	return 0, errors.New("h1: no raw send on this system")
}
