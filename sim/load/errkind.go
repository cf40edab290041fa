package load

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/hooklab/hooklab/sim/load/internal/h1"
)

// Error kinds, as reported in Result.ErrorKind and the report's errors.
const (
	ErrRefused = "refused" // connection refused
	ErrReset   = "reset"   // connection reset or broken pipe
	ErrTimeout = "timeout" // the request timed out
	ErrTLS     = "tls"     // TLS handshake or certificate
	ErrDNS     = "dns"     // name resolution
	ErrEOF     = "eof"     // the server closed the connection mid-answer
	ErrBuild   = "build"   // the request could not be built or signed
	ErrAborted = "aborted" // cut off in flight by Attacker.Abort
	ErrOther   = "other"
)

// ErrorKind classifies a request error.
func ErrorKind(err error) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var unk x509.UnknownAuthorityError
	var host x509.HostnameError
	var netErr net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, h1.ErrInvalidRequest):
		return ErrBuild
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return ErrReset
	case errors.Is(err, context.Canceled):
		return ErrAborted
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return ErrTimeout
	case errors.As(err, &netErr) && netErr.Timeout():
		return ErrTimeout
	case errors.As(err, &dnsErr):
		return ErrDNS
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &unk), errors.As(err, &host):
		return ErrTLS
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrEOF
	}
	return ErrOther
}
