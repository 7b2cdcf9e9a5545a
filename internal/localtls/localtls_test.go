package localtls_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/internal/localtls"
)

// trusting is an HTTP/2-capable client that trusts only a's CA.
func trusting(t *testing.T, caPEM []byte) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("CA PEM does not parse: %s", caPEM)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// TestServeHTTP2 serves with a minted certificate as `tollgate serve` does
// and reaches it under each name the certificate holds, over HTTP/2, with
// a client that trusts the CA alone.
func TestServeHTTP2(t *testing.T) {
	t.Parallel()
	a, err := localtls.New(localtls.Options{Names: []string{"auth.example.test", "Auth.Example.Test", "10.1.2.3"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Names(), []string{"localhost", "127.0.0.1", "::1", "auth.example.test", "10.1.2.3"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	srv.TLS = localtls.ServerConfig(a.ServerCertificate())
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	client := trusting(t, a.CertificatePEM())
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := client.Transport.(*http.Transport)
	// Every name leads to the test server's loopback address.
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	for _, host := range []string{"localhost", "127.0.0.1", "[::1]", "auth.example.test"} {
		resp, err := client.Get("https://" + host + ":" + port + "/")
		if err != nil {
			t.Errorf("GET https://%s: %v", host, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if string(body) != "HTTP/2.0" || resp.TLS == nil || resp.TLS.NegotiatedProtocol != "h2" {
			t.Errorf("https://%s answered over %s (ALPN %q), want HTTP/2.0 and h2", host, body, resp.TLS.NegotiatedProtocol)
		}
	}
	if _, err := client.Get("https://other.example.test:" + port + "/"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a name the certificate does not hold: err = %v, want a certificate error", err)
	}
}

func TestCertificates(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	a, err := localtls.New(localtls.Options{Names: []string{"*.example.test"}, Validity: 24 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ca := a.CA()
	if !ca.IsCA || !ca.MaxPathLenZero || ca.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("CA: IsCA %v, MaxPathLenZero %v, key %v; want a CA that signs leaves only, ECDSA", ca.IsCA, ca.MaxPathLenZero, ca.PublicKeyAlgorithm)
	}
	if k, ok := ca.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("CA key %T, want ECDSA P-256", ca.PublicKey)
	}
	if !a.NotAfter().Equal(now.Add(24*time.Hour)) || !ca.NotBefore.Before(now) {
		t.Errorf("validity %v..%v, want from before %v to %v", ca.NotBefore, ca.NotAfter, now, now.Add(24*time.Hour))
	}
	leaf, err := x509.ParseCertificate(a.ServerCertificate().Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := leaf.DNSNames, []string{"localhost", "*.example.test"}; !slices.Equal(got, want) {
		t.Errorf("DNS SANs %q, want %q", got, want)
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	if want := []string{"127.0.0.1", "::1"}; !slices.Equal(ips, want) {
		t.Errorf("IP SANs %q, want %q", ips, want)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "auth.example.test"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: now}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: pool, CurrentTime: now.Add(25 * time.Hour)}); err == nil {
		t.Error("the certificate verifies after its validity")
	}
	if block, _ := pem.Decode(a.CertificatePEM()); block == nil || block.Type != "CERTIFICATE" || strings.Contains(string(a.CertificatePEM()), "PRIVATE KEY") {
		t.Errorf("CertificatePEM = %s, want one CERTIFICATE block and no key", a.CertificatePEM())
	}
}

func TestNewRejectsBadNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "auth..test", "-auth.test", "auth_test.example", "https://auth.test", "auth.test:443", "a.*.test", strings.Repeat("a", 64) + ".test"} {
		if _, err := localtls.New(localtls.Options{Names: []string{name}}); err == nil || !strings.Contains(err.Error(), "localtls: name") {
			t.Errorf("New(name %q) error = %v, want one naming the name", name, err)
		}
	}
	if _, err := localtls.New(localtls.Options{Validity: -time.Hour}); err == nil {
		t.Error("New accepted a negative validity")
	}
}

// writePair writes a self-signed certificate for host and its key as PEM
// files in dir.
func writePair(t *testing.T, dir, host string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, host+".pem"), filepath.Join(dir, host+"-key.pem")
	for file, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

func TestLoadKeyPair(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := writePair(t, dir, "a.test")
	otherCert, otherKey := writePair(t, dir, "b.test")
	if pair, err := localtls.LoadKeyPair(cert, key); err != nil || len(pair.Certificate) != 1 {
		t.Errorf("LoadKeyPair(matching) = %d certificates, %v", len(pair.Certificate), err)
	}
	tests := []struct {
		name      string
		cert, key string
		wantInErr []string
	}{
		{"key of another certificate", cert, otherKey, []string{"does not match", otherKey, cert, "CN=a.test"}},
		{"files swapped", key, cert, []string{"certificate " + key, "no PEM CERTIFICATE"}},
		{"missing certificate file", filepath.Join(dir, "none.pem"), key, []string{"none.pem"}},
		{"missing key file", otherCert, filepath.Join(dir, "none-key.pem"), []string{"key", "none-key.pem"}},
		{"certificate only", cert, "", []string{"both"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := localtls.LoadKeyPair(tt.cert, tt.key)
			if err == nil {
				t.Fatal("LoadKeyPair succeeded")
			}
			for _, w := range tt.wantInErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
