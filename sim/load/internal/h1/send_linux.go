//go:build linux

package h1

import (
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// A rawSender writes requests on a plain TCP connection with one writev
// of head and body (no copy of the body into a buffer) and then waits
// until the answer is readable, so that the first read finds it: the
// read that would find nothing yet, and fail with EAGAIN before the wait,
// is skipped.
//
// Both happen inside one syscall.RawConn.Read: it clears the
// connection's readiness before calling step, which writes the request
// and returns false to wait. Readiness cleared before the request is
// written cannot be the answer's, and any that comes after it ends the
// wait: an answer that arrives at once, or in pieces, a close, a reset.
// The wait ends too at the read deadline or on an abort (which moves it
// to the past); the read after it then fails with that error.
//
// One case waits longer than a plain read would: bytes the server sent
// before the request was written (an answer ahead of its request) whose
// readiness the runtime had already recorded, when the server then sends
// nothing more and keeps the connection open. The wait lasts until the
// deadline (Options.Timeout; the attacker always sets one) or an abort,
// never unbounded when either is set. The idle probe (Conn.alive) finds
// such bytes on a connection idle for a second or more.
type rawSender struct {
	rc syscall.RawConn
	nc net.Conn
	// fn is step, bound once.
	fn func(fd uintptr) bool
	// The request in flight and how far step got.
	bufs  [2][]byte
	iov   [2]syscall.Iovec
	total int64
	sent  int64
	calls int
	err   error
}

// newRawSender returns nc's rawSender, or nil when nc is not a
// *net.TCPConn (TLS).
func newRawSender(nc net.Conn) *rawSender {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &rawSender{rc: rc, nc: nc}
	s.fn = s.step
	return s
}

// send writes head and body and waits for the answer to become
// readable. It returns the bytes written. When the socket's send buffer
// fills (EAGAIN), the rest is written the ordinary way within deadline
// and the answer is read without the wait.
func (s *rawSender) send(head, body []byte, deadline time.Time) (int64, error) {
	s.bufs = [2][]byte{head, body}
	s.total = int64(len(head) + len(body))
	s.sent, s.calls, s.err = 0, 0, nil
	werr := s.rc.Read(s.fn)
	sent, calls, err := s.sent, s.calls, s.err
	s.bufs, s.iov = [2][]byte{}, [2]syscall.Iovec{} // the caller's bytes are not kept
	switch {
	case err != nil:
		return sent, err
	case calls == 0:
		// The wait never began: the connection is closed, or its
		// deadline has passed. Nothing was written.
		return 0, werr
	case sent == s.total:
		// Written; the wait ended with the answer readable, or with an
		// error (deadline, abort) that the read reports.
		return sent, nil
	}
	if err := s.nc.SetWriteDeadline(deadline); err != nil {
		return sent, err
	}
	hs := min(sent, int64(len(head)))
	rest := net.Buffers{head[hs:], body[sent-hs:]}
	n, err := rest.WriteTo(s.nc)
	return sent + n, err
}

// step is RawConn.Read's function: on its first call it writes what is
// left of the request and returns false (wait for readability) once all
// of it is written, true on EAGAIN or an error; on later calls the
// connection is readable and it returns true.
func (s *rawSender) step(fd uintptr) bool {
	s.calls++
	if s.calls > 1 {
		return true
	}
	for s.sent < s.total {
		n, off := 0, s.sent
		for _, b := range s.bufs {
			if off >= int64(len(b)) {
				off -= int64(len(b))
				continue
			}
			b = b[off:]
			off = 0
			s.iov[n].Base = &b[0]
			s.iov[n].SetLen(len(b))
			n++
		}
		r, _, errno := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&s.iov[0])), uintptr(n))
		switch errno {
		case 0:
			s.sent += int64(r)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return true
		default:
			s.err = &net.OpError{Op: "write", Net: "tcp", Source: s.nc.LocalAddr(), Addr: s.nc.RemoteAddr(), Err: os.NewSyscallError("writev", errno)}
			return true
		}
	}
	return false
}
