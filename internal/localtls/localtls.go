// Package localtls makes what `tollgate serve --tls` serves HTTPS with: a
// throwaway certificate authority, held in memory, and a server
// certificate it signs for the loopback names and any others asked for;
// or a certificate and key read from files.
//
// Use [New] to mint both and hand [Authority.CertificatePEM] to the clients
// (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, curl --cacert); the CA's private key
// never leaves the Authority. Use [LoadKeyPair] for files of one's own.
// [ServerConfig] turns either into a *tls.Config that net/http serves
// HTTP/2 and HTTP/1.1 with.
package localtls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultValidity is how long a minted CA and server certificate stay
// valid: a mock's run, with room to spare. Each start mints new ones.
const DefaultValidity = 7 * 24 * time.Hour

// backdate is how far before now the certificates become valid, so that a
// client whose clock is a little behind accepts them.
const backdate = 5 * time.Minute

// LoopbackNames are the names every minted server certificate holds.
func LoopbackNames() []string { return []string{"localhost", "127.0.0.1", "::1"} }

// Options configures New. The zero value mints for LoopbackNames, valid
// DefaultValidity from now.
type Options struct {
	// Names are DNS names or IP addresses the server certificate holds
	// beside LoopbackNames, e.g. auth.example.test. A DNS name may start
	// with "*." for one level of subdomains.
	Names []string
	// Validity is how long the certificates are valid; zero means
	// DefaultValidity.
	Validity time.Duration
	// Now is the issue time; zero means time.Now().
	Now time.Time
}

// Authority is a minted CA and the server certificate it signed.
type Authority struct {
	caPEM  []byte
	ca     *x509.Certificate
	server tls.Certificate
	names  []string
}

// New mints an ECDSA P-256 CA and a server certificate it signs for
// LoopbackNames and opts.Names. It fails, saying which, on a name that is
// neither a DNS name nor an IP address.
func New(opts Options) (*Authority, error) {
	names, err := serverNames(opts.Names)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	validity := opts.Validity
	if validity == 0 {
		validity = DefaultValidity
	}
	if validity < 0 {
		return nil, fmt.Errorf("localtls: validity %v: give a positive duration", validity)
	}
	notBefore, notAfter := now.Add(-backdate), now.Add(validity)

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("localtls: CA key: %w", err)
	}
	caTemplate := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"Tollgate"}, CommonName: "Tollgate local CA " + now.UTC().Format(time.RFC3339)},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // it signs the server certificate only
	}
	caDER, ca, err := create(caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("localtls: CA certificate: %w", err)
	}

	serverKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("localtls: server key: %w", err)
	}
	serverTemplate := &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{"Tollgate"}, CommonName: names[0]},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			serverTemplate.IPAddresses = append(serverTemplate.IPAddresses, ip)
		} else {
			serverTemplate.DNSNames = append(serverTemplate.DNSNames, n)
		}
	}
	serverDER, _, err := create(serverTemplate, ca, &serverKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("localtls: server certificate: %w", err)
	}
	return &Authority{
		caPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		ca:     ca,
		server: tls.Certificate{Certificate: [][]byte{serverDER, caDER}, PrivateKey: serverKey},
		names:  names,
	}, nil
}

// create signs template with the parent's key and parses the result.
func create(template, parent *x509.Certificate, pub any, signer *ecdsa.PrivateKey) ([]byte, *x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	template.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, template, parent, pub, signer)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return der, cert, err
}

// CertificatePEM is the CA certificate, PEM-encoded: what clients trust.
func (a *Authority) CertificatePEM() []byte { return slices.Clone(a.caPEM) }

// CA is the CA certificate.
func (a *Authority) CA() *x509.Certificate { return a.ca }

// ServerCertificate is the server certificate, with its chain and key.
func (a *Authority) ServerCertificate() tls.Certificate { return a.server }

// Names are the names the server certificate holds, loopback first.
func (a *Authority) Names() []string { return slices.Clone(a.names) }

// NotAfter is when the certificates expire.
func (a *Authority) NotAfter() time.Time { return a.ca.NotAfter }

// serverNames is LoopbackNames then extra, each once, each checked.
func serverNames(extra []string) ([]string, error) {
	names := LoopbackNames()
	for _, n := range extra {
		n = strings.ToLower(strings.TrimSpace(n))
		if ip := net.ParseIP(n); ip != nil {
			n = ip.String()
		} else if err := checkDNSName(n); err != nil {
			return nil, err
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names, nil
}

// checkDNSName accepts a DNS name a certificate can hold: dot-separated
// labels of letters, digits and '-' (not at either end), at most 63
// characters each, 253 in all, the first label "*" for a wildcard.
func checkDNSName(name string) error {
	fail := func(why string) error {
		return fmt.Errorf("localtls: name %q is neither an IP address nor a DNS name: %s (e.g. auth.example.test)", name, why)
	}
	if name == "" {
		return fail("it is empty")
	}
	if len(name) > 253 {
		return fail("it is longer than 253 characters")
	}
	for i, label := range strings.Split(name, ".") {
		switch {
		case label == "*" && i == 0 && strings.Count(name, ".") >= 1:
			continue
		case label == "":
			return fail("it has an empty label")
		case len(label) > 63:
			return fail("a label is longer than 63 characters")
		case label[0] == '-' || label[len(label)-1] == '-':
			return fail("a label starts or ends with '-'")
		}
		if i := strings.IndexFunc(label, notLDH); i >= 0 {
			r, _ := utf8.DecodeRuneInString(label[i:])
			return fail(fmt.Sprintf("it has %q", r))
		}
	}
	return nil
}

// notLDH reports whether r is outside the letters (lower case, as names
// are compared), digits and hyphen of a DNS label.
func notLDH(r rune) bool {
	lower, digit := r >= 'a' && r <= 'z', r >= '0' && r <= '9'
	return !lower && !digit && r != '-'
}

// LoadKeyPair reads a PEM certificate (its chain may follow) and the PEM
// private key that goes with it, failing with a message that names the
// file at fault when either is unreadable or they do not match.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	if certFile == "" || keyFile == "" {
		return tls.Certificate{}, errors.New("localtls: give both a certificate and its key")
	}
	leaf, err := readCertificate(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	switch {
	case err == nil:
		return pair, nil
	case strings.Contains(err.Error(), "does not match"):
		return tls.Certificate{}, fmt.Errorf("localtls: the key in %s does not match the certificate in %s (%s): give the key that certificate was issued for", keyFile, certFile, leaf.Subject)
	}
	return tls.Certificate{}, fmt.Errorf("localtls: key %s: %w", keyFile, err)
}

// readCertificate reads the first certificate of a PEM file.
func readCertificate(file string) (*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("localtls: certificate: %w", err)
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		switch {
		case block == nil:
			return nil, fmt.Errorf("localtls: certificate %s: no PEM CERTIFICATE block in it", file)
		case block.Type != "CERTIFICATE":
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("localtls: certificate %s: %w", file, err)
		}
		return cert, nil
	}
}

// ServerConfig is a *tls.Config serving cert: TLS 1.2 at least, and no
// NextProtos, so that net/http's ServeTLS offers h2 and http/1.1.
func ServerConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}
