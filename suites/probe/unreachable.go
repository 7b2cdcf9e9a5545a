package probe

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
)

// UnreachableError is the one-line error for a target whose first request
// got no answer: what went wrong (the innermost cause) and the fix that
// cause calls for. A certificate the machine does not trust, one for other
// names, or a plain HTTP server behind an https:// target each have their
// own fix; anything else asks to start the target or correct --target.
func UnreachableError(target string, err error) error {
	var unknownCA x509.UnknownAuthorityError
	var wrongName x509.HostnameError
	var invalid x509.CertificateInvalidError
	fix := "start it or fix --target"
	switch {
	case errors.As(err, &unknownCA):
		fix = "trust the CA that signed its certificate: SSL_CERT_FILE=FILE with the CA's PEM certificate (tollgate serve --tls prints that file; docs/tls.md)"
	case errors.As(err, &wrongName):
		fix = "use a name its certificate holds in --target (tollgate serve --tls: add --tls-name)"
	case errors.As(err, &invalid):
		fix = "give it a valid certificate, or check this machine's clock"
	case errors.Is(err, http.ErrSchemeMismatch):
		fix = "it speaks plain HTTP: write --target with http://"
	}
	return fmt.Errorf("target %s is unreachable (%w): %s", target, rootCause(err), fix)
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
