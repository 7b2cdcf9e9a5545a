package probe

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// UnreachableError is the one-line error for a target whose first request
// got no answer: what went wrong (the innermost cause) and the fix that
// cause calls for (TransportFix; for a timeout, to look at the target or
// raise --timeout), else to start the target or correct --target.
func UnreachableError(target string, err error) error {
	fix := TransportFix(err)
	var netErr net.Error
	switch {
	case fix != "":
	case errors.As(err, &netErr) && netErr.Timeout():
		fix = "it sent no answer within --timeout: check that it is the server you mean and that it is not stuck, or raise --timeout"
	default:
		fix = "start it or fix --target"
	}
	return fmt.Errorf("target %s is unreachable (%w): %s", target, rootCause(err), fix)
}

// TransportFix is the fix for a request that failed on the way: a
// certificate the machine does not trust, one for other names or out of
// its validity, or a plain HTTP server behind an https:// URL. "" for any
// other cause (nothing listening, a timeout), whose fix depends on the
// command.
func TransportFix(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var wrongName x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknownCA):
		return "trust the CA that signed its certificate: SSL_CERT_FILE=FILE with the CA's PEM certificate (tollgate serve --tls prints that file; docs/tls.md)"
	case errors.As(err, &wrongName):
		return "use a name its certificate holds in --target (tollgate serve --tls: add --tls-name)"
	case errors.As(err, &invalid):
		return "give it a valid certificate, or check this machine's clock"
	case errors.Is(err, http.ErrSchemeMismatch):
		return "it speaks plain HTTP: write --target with http://"
	}
	return ""
}

// rootCause returns the innermost error err wraps ("connection refused"
// rather than the whole chain of the request).
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
