package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"

	"github.com/tollgate/tollgate/mockserver"
)

// controlTokenEnv holds the control token for `tollgate serve` and
// `tollgate ctl` alike.
const controlTokenEnv = "TOLLGATE_CONTROL_TOKEN"

// printControl says where the control API is and who may use it. The
// token is never printed: only a fingerprint to tell tokens apart.
func printControl(w io.Writer, base string, addr net.Addr, opts mockserver.Options) {
	if opts.Control == mockserver.ControlOff {
		fmt.Fprintf(w, "\ncontrol API: off (--control off)\n")
		return
	}
	fmt.Fprintf(w, "\ncontrol API: %s%s (OpenAPI document: %s%sopenapi.yaml; docs/control.md, tollgate ctl)\n",
		base, mockserver.ControlPrefix, base, mockserver.ControlPrefix)
	switch {
	case opts.ControlToken != "":
		fmt.Fprintf(w, "  needs Authorization: Bearer <control token> (%s), from any address\n", tokenFingerprint(opts.ControlToken))
	case listensOnLoopback(addr):
		fmt.Fprintf(w, "  no token needed: it answers loopback connections\n")
	default:
		fmt.Fprintf(w, "  answers loopback connections only: set --control-token or %s to use it from elsewhere\n", controlTokenEnv)
	}
}

// tokenFingerprint names a secret without showing any of it.
func tokenFingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return fmt.Sprintf("sha256:%s, %d chars", hex.EncodeToString(sum[:4]), len(token))
}

// listensOnLoopback reports whether only loopback connections reach addr
// (a wildcard address is reached from elsewhere too).
func listensOnLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
