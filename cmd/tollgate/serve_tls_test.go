package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// h2Client is an HTTP/2-capable client that trusts only the CA in caPEM
// and reaches every host name at addr, as /etc/hosts or curl --resolve
// would make it.
func h2Client(t *testing.T, caPEM []byte, addr string) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("no certificate in the CA file: %s", caPEM)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

// get sends a GET (or a form POST when form is not empty) and returns the
// response with its body read.
func get(t *testing.T, c *http.Client, url, form string) (*http.Response, []byte) {
	t.Helper()
	method, body := http.MethodGet, io.Reader(nil)
	if form != "" {
		method, body = http.MethodPost, strings.NewReader(form)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("testClient", "superSecret")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

var caLine = regexp.MustCompile(`(?m)^  CA certificate: (.+)$`)

// TestServeTLS runs `tollgate serve --tls` as a user would and talks to it
// as the printed lines say: trusting the CA file it wrote, over HTTP/2,
// under each name of its certificate; the issuer follows the scheme and
// the name.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	caOut := filepath.Join(t.TempDir(), "ca.pem")
	p := startServe(t, "--addr", "127.0.0.1:0", "--quiet", "--tls", "--tls-name", "auth.example.test", "--tls-ca-out", caOut)
	if !strings.HasPrefix(p.base, "https://") {
		t.Fatalf("listening on %s, want https://", p.base)
	}
	_, port, _ := net.SplitHostPort(p.addr)
	out := waitFor(t, p.stdout, startTimeout, "banner", func(s string) bool { return strings.Contains(s, "\nclients: ") })
	m := caLine.FindStringSubmatch(out)
	if m == nil || m[1] != caOut {
		t.Fatalf("banner names CA file %v, want %s:\n%s", m, caOut, out)
	}
	for _, want := range []string{
		"export NODE_EXTRA_CA_CERTS=" + caOut,
		"export SSL_CERT_FILE=" + caOut,
		"curl -s --cacert " + caOut + " " + p.base + "/.well-known/oauth-authorization-server",
		"curl -s --cacert " + caOut + " --resolve auth.example.test:" + port + ":127.0.0.1 https://auth.example.test:" + port + "/",
		"TOKEN=$(curl -s --cacert " + caOut + " -X POST " + p.base + "/token ",
		"curl -s --cacert " + caOut + " " + p.base + "/api/collections -H \"Authorization: Bearer $TOKEN\"",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	info, err := os.Stat(caOut)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(caOut)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 || strings.Contains(string(caPEM), "PRIVATE KEY") {
		t.Errorf("CA file mode %v, key in it: %v; want 0644 and the certificate alone", info.Mode().Perm(), strings.Contains(string(caPEM), "PRIVATE KEY"))
	}

	client := h2Client(t, caPEM, p.addr)
	for _, host := range []string{"localhost", "127.0.0.1", "[::1]", "auth.example.test"} {
		base := "https://" + host + ":" + port
		resp, body := get(t, client, base+"/.well-known/oauth-authorization-server", "")
		if resp.ProtoMajor != 2 || resp.TLS.NegotiatedProtocol != "h2" {
			t.Errorf("%s: %s (ALPN %q), want HTTP/2 over h2", host, resp.Proto, resp.TLS.NegotiatedProtocol)
		}
		var md struct {
			Issuer        string `json:"issuer"`
			TokenEndpoint string `json:"token_endpoint"`
		}
		_ = json.Unmarshal(body, &md)
		if md.Issuer != base || md.TokenEndpoint != base+"/oauth/token" {
			t.Errorf("%s: metadata issuer %q, token_endpoint %q, want %s and its /oauth/token", host, md.Issuer, md.TokenEndpoint, base)
		}
	}
	leaf := func() *x509.Certificate {
		resp, _ := get(t, client, p.base+"/.well-known/jwks.json", "")
		return resp.TLS.PeerCertificates[0]
	}()
	var sans []string
	sans = append(sans, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		sans = append(sans, ip.String())
	}
	for _, want := range []string{"localhost", "127.0.0.1", "::1", "auth.example.test"} {
		if !slices.Contains(sans, want) {
			t.Errorf("certificate names %q lack %s", sans, want)
		}
	}

	// js-auth's jwtVerify trusts an iss that begins with https://auth.
	_, body := get(t, client, "https://auth.example.test:"+port+"/oauth/token", "grant_type=client_credentials")
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || strings.Count(tr.AccessToken, ".") != 2 {
		t.Fatalf("token response %s: %v", body, err)
	}
	claims, err := base64.RawURLEncoding.DecodeString(strings.Split(tr.AccessToken, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Iss string }
	_ = json.Unmarshal(claims, &c)
	if want := "https://auth.example.test:" + port; c.Iss != want {
		t.Errorf("iss %q, want %q", c.Iss, want)
	}

	// Plain HTTP to the TLS port is no way in.
	if resp, body := get(t, testClient, "http://"+p.addr+"/.well-known/jwks.json", ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain HTTP to the TLS port: %d %s, want net/http's 400", resp.StatusCode, body)
	}
}

// TestServeTLSDefaultCAFile: without --tls-ca-out the CA goes under the
// user cache directory, one file per port, and the banner says where.
func TestServeTLSDefaultCAFile(t *testing.T) { // not parallel: it sets XDG_CACHE_HOME
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	p := startServe(t, "--addr", "127.0.0.1:0", "--quiet", "--tls")
	_, port, _ := net.SplitHostPort(p.addr)
	want := filepath.Join(cache, "tollgate", "ca-"+port+".pem")
	out := waitFor(t, p.stdout, startTimeout, "CA line", func(s string) bool { return caLine.MatchString(s) })
	if m := caLine.FindStringSubmatch(out); m[1] != want {
		t.Errorf("CA file %q, want %q", m[1], want)
	}
	caPEM, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, h2Client(t, caPEM, p.addr), p.base+"/.well-known/jwks.json", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("JWKS over TLS: %d", resp.StatusCode)
	}
}

// writeCertPair writes a self-signed certificate for localhost and its key
// as PEM files, and returns their paths.
func writeCertPair(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: name}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestServeTLSGivenCertificate: --tls-cert and --tls-key serve the files
// given, and imply --tls.
func TestServeTLSGivenCertificate(t *testing.T) {
	t.Parallel()
	cert, key := writeCertPair(t, t.TempDir(), "mine")
	p := startServe(t, "--addr", "127.0.0.1:0", "--quiet", "--tls-cert", cert, "--tls-key", key)
	certPEM, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := get(t, h2Client(t, certPEM, p.addr), p.base+"/.well-known/jwks.json", "")
	if resp.ProtoMajor != 2 || resp.TLS.PeerCertificates[0].Subject.CommonName != "mine" {
		t.Errorf("served %s with certificate %q, want HTTP/2 with the given one", resp.Proto, resp.TLS.PeerCertificates[0].Subject)
	}
	out := waitFor(t, p.stdout, startTimeout, "banner", func(s string) bool { return strings.Contains(s, "\nclients: ") })
	if caLine.MatchString(out) || !strings.Contains(out, "TLS: the certificate of --tls-cert") {
		t.Errorf("banner with a given certificate:\n%s", out)
	}
}

// TestServeTLSUsageErrors: every TLS misconfiguration is one clear line
// and exit 2, before anything is served.
func TestServeTLSUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := writeCertPair(t, dir, "one")
	_, otherKey := writeCertPair(t, dir, "two")
	fileOnly := writeFile(t, "tls-half.yaml", "addr: 127.0.0.1:0\ntls:\n  cert: one.pem\n")
	anyPort := []string{"serve", "--addr", "127.0.0.1:0"}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"certificate without key", []string{"--tls-cert", cert}, []string{"both --tls-cert and --tls-key"}},
		{"key without certificate", []string{"--tls-key", key}, []string{"both --tls-cert and --tls-key"}},
		{"config certificate without key", []string{"--config", fileOnly}, []string{"tls.cert and tls.key"}},
		{"key of another certificate", []string{"--tls-cert", cert, "--tls-key", otherKey}, []string{"does not match", otherKey, cert}},
		{"missing certificate file", []string{"--tls-cert", filepath.Join(dir, "none.pem"), "--tls-key", key}, []string{"none.pem"}},
		{"names with a given certificate", []string{"--tls-cert", cert, "--tls-key", key, "--tls-name", "a.test"}, []string{"--tls-name", "certificate's own"}},
		{"names without --tls", []string{"--tls-name", "a.test"}, []string{"need --tls"}},
		{"CA file without --tls", []string{"--tls-ca-out", filepath.Join(dir, "ca.pem")}, []string{"need --tls"}},
		{"bad name", []string{"--tls", "--tls-name", "https://auth.example.test"}, []string{`name "https://auth.example.test"`, "auth.example.test"}},
		{"CA file unwritable", []string{"--tls", "--tls-ca-out", filepath.Join(cert, "ca.pem")}, []string{"cannot write the CA certificate", "--tls-ca-out"}},
		{"--tls=false with files", []string{"--tls=false", "--tls-cert", cert, "--tls-key", key}, []string{"--tls=false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runBounded(t, append(slices.Clone(anyPort), tt.args...)...)
			if code != 2 || stdout != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", code, stdout)
			}
			if strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line", stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
}

// TestServeTLSConfigFile: the tls section of the config file turns TLS on,
// with its names and a CA path relative to the file.
func TestServeTLSConfigFile(t *testing.T) {
	t.Parallel()
	config := writeFile(t, "tollgate.yaml", "addr: 127.0.0.1:0\ntls:\n  enabled: true\n  names: [auth.example.test]\n  ca_out: ca/tollgate-ca.pem\n")
	p := startServe(t, "--config", config, "--quiet")
	caFile := filepath.Join(filepath.Dir(config), "ca", "tollgate-ca.pem")
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatalf("CA file relative to the config file: %v", err)
	}
	_, port, _ := net.SplitHostPort(p.addr)
	resp, _ := get(t, h2Client(t, caPEM, p.addr), "https://auth.example.test:"+port+"/.well-known/jwks.json", "")
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Errorf("JWKS at auth.example.test: %d over %s, want 200 over HTTP/2", resp.StatusCode, resp.Proto)
	}
}
