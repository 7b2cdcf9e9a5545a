package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tollgate/tollgate/internal/localtls"
	"github.com/tollgate/tollgate/mockserver"
)

// tlsSettings is how `tollgate serve` serves HTTPS: the tls section of the
// config file, then the --tls flags over it. docs/tls.md documents it.
type tlsSettings struct {
	// Enabled serves HTTPS (and HTTP/2) instead of plain HTTP.
	Enabled bool `yaml:"enabled"`
	// Names are DNS names or IP addresses the generated certificate holds
	// beside localhost, 127.0.0.1 and ::1.
	Names []string `yaml:"names"`
	// CAOut is where the generated CA certificate is written; empty means
	// under the user cache directory, named after the port.
	CAOut string `yaml:"ca_out"`
	// Cert and Key are a certificate (chain) and its key to serve instead
	// of generated ones; both or neither.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// tlsFlags are the --tls flags as parsed.
type tlsFlags struct {
	enabled bool
	names   []string
	caOut   string
	cert    string
	key     string
}

func addTLSFlags(f *pflag.FlagSet, fl *tlsFlags) {
	f.BoolVar(&fl.enabled, "tls", false, "serve HTTPS and HTTP/2 with a certificate from a CA generated for this run (docs/tls.md)")
	f.StringArrayVar(&fl.names, "tls-name", nil, "a DNS name or IP the generated certificate also holds, e.g. auth.example.test (repeatable; localhost, 127.0.0.1 and ::1 always)")
	f.StringVar(&fl.caOut, "tls-ca-out", "", "write the generated CA certificate here (default: under the user cache directory; the path is printed)")
	f.StringVar(&fl.cert, "tls-cert", "", "serve this PEM certificate (chain) instead of a generated one; needs --tls-key")
	f.StringVar(&fl.key, "tls-key", "", "the PEM private key of --tls-cert")
}

// resolveTLS applies the --tls flags over the config file's tls section
// and checks that the result makes sense.
func resolveTLS(flags *pflag.FlagSet, fl tlsFlags, cfg *serveConfig) error {
	t := &cfg.TLS
	if flags.Changed("tls") {
		t.Enabled = fl.enabled
	}
	if flags.Changed("tls-name") {
		t.Names = fl.names
	}
	if flags.Changed("tls-ca-out") {
		t.CAOut = fl.caOut
	}
	if flags.Changed("tls-cert") || flags.Changed("tls-key") {
		t.Cert, t.Key = fl.cert, fl.key
	}
	files := t.Cert != "" || t.Key != ""
	switch {
	case files && (t.Cert == "" || t.Key == ""):
		return usagef("TLS: give both --tls-cert and --tls-key (tls.cert and tls.key), the certificate and its private key")
	case files && flags.Changed("tls") && !fl.enabled:
		return usagef("TLS: --tls=false with --tls-cert and --tls-key: drop one or the other")
	case files:
		t.Enabled = true // a certificate given is a certificate to serve
		if len(t.Names) > 0 || t.CAOut != "" {
			return usagef("TLS: --tls-name and --tls-ca-out are for the generated certificate; with --tls-cert the names are the certificate's own, and no CA is generated")
		}
	case !t.Enabled && (len(t.Names) > 0 || t.CAOut != ""):
		return usagef("TLS: --tls-name and --tls-ca-out need --tls (or tls.enabled: true)")
	}
	return nil
}

// servingTLS is what serve needs once TLS is set up: the server's
// configuration, and the CA file clients should trust ("" when the
// certificate came from files).
type servingTLS struct {
	config *tls.Config
	caFile string
	names  []string // the generated certificate's names
	notes  string   // how long the generated certificates are valid
}

// setUpTLS makes the certificate to serve for a server listening on addr:
// the files given, or a new CA's, whose certificate it writes where clients
// can find it.
func setUpTLS(t tlsSettings, addr net.Addr) (*servingTLS, error) {
	if t.Cert != "" {
		pair, err := localtls.LoadKeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, usageError{err}
		}
		return &servingTLS{config: localtls.ServerConfig(pair)}, nil
	}
	names := t.Names
	if tcp, ok := addr.(*net.TCPAddr); ok && !tcp.IP.IsUnspecified() && !tcp.IP.IsLoopback() {
		names = append(slices.Clone(names), tcp.IP.String()) // the address the examples use
	}
	ca, err := localtls.New(localtls.Options{Names: names})
	if err != nil {
		return nil, usageError{err}
	}
	caFile := t.CAOut
	if caFile == "" {
		if caFile, err = defaultCAFile(addr); err != nil {
			return nil, err
		}
	}
	if err := writeCAFile(caFile, ca.CertificatePEM()); err != nil {
		return nil, err
	}
	return &servingTLS{config: localtls.ServerConfig(ca.ServerCertificate()), caFile: caFile, names: ca.Names(),
		notes: "valid until " + ca.NotAfter().UTC().Format("2006-01-02 15:04 MST")}, nil
}

// defaultCAFile is where the CA of a server listening on addr goes when
// no file is named: one file per port under the user cache directory, so
// that two mocks do not overwrite each other's.
func defaultCAFile(addr net.Addr) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", usagef("TLS: no user cache directory to write the CA certificate to (%w): give --tls-ca-out FILE", err)
	}
	port := "0"
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
	}
	return filepath.Join(dir, "tollgate", "ca-"+port+".pem"), nil
}

// writeCAFile writes the CA certificate, public by nature, readable by all
// (0644), creating its directory when needed. The CA's key is never written.
func writeCAFile(file string, pemBytes []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return usagef("TLS: cannot write the CA certificate: %w (give --tls-ca-out FILE)", err)
	}
	err := os.WriteFile(file, pemBytes, 0o644)
	if err == nil {
		err = os.Chmod(file, 0o644) // whatever the umask, or the mode of a file there before
	}
	if err != nil {
		return usagef("TLS: cannot write the CA certificate: %w (give --tls-ca-out FILE)", err)
	}
	return nil
}

// curlCommand is how the banner's examples start: curl trusting the CA
// when there is one to trust.
func (st *servingTLS) curlCommand() string {
	if st == nil || st.caFile == "" {
		return "curl -s"
	}
	return "curl -s --cacert " + shellQuote(st.caFile)
}

// printTLS tells clients how to trust the server: the CA file and the
// variables Node, OpenSSL-based tools, Go and Python read it from, and how
// to reach the server under each extra name of its certificate.
func printTLS(w io.Writer, st *servingTLS, base string) {
	if st.caFile == "" {
		fmt.Fprintf(w, "\nTLS: the certificate of --tls-cert; HTTP/2 and HTTP/1.1\n")
		return
	}
	ca := shellQuote(st.caFile)
	fmt.Fprintf(w, "\nTLS: HTTP/2 and HTTP/1.1, a certificate for %s from a CA made for this run (%s)\n", strings.Join(st.names, ", "), st.notes)
	fmt.Fprintf(w, "  CA certificate: %s\n", st.caFile)
	fmt.Fprintf(w, "  export NODE_EXTRA_CA_CERTS=%s   # Node.js (fetch, @commercelayer/js-auth, openid-client)\n", ca)
	fmt.Fprintf(w, "  export SSL_CERT_FILE=%s   # OpenSSL, Go (tollgate check/ctl) and Python read only this CA then\n", ca)
	fmt.Fprintf(w, "  curl -s --cacert %s %s%s\n", ca, base, mockserver.MetadataPath)
	host, port := hostPort(base)
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // curl --resolve writes an IPv6 address in brackets
	}
	for _, name := range st.names {
		if slices.Contains(localtls.LoopbackNames(), name) || net.ParseIP(name) != nil || strings.HasPrefix(name, "*.") {
			continue
		}
		fmt.Fprintf(w, "  curl -s --cacert %s --resolve %s:%s:%s https://%s:%s%s   # %s must lead here: /etc/hosts, or --resolve for curl\n",
			ca, name, port, host, name, port, mockserver.MetadataPath, name)
	}
}

// hostPort splits a base URL's host (brackets dropped) and port.
func hostPort(base string) (host, port string) {
	hp := base[strings.Index(base, "://")+3:]
	host, port, _ = net.SplitHostPort(hp)
	return host, port
}

// shellQuote quotes a path for a POSIX shell when it needs it.
func shellQuote(s string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@%", r)
	}
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool { return !safe(r) }) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
