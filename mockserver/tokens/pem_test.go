package tokens

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

func pemBlock(typ string, der []byte, headers map[string]string) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der, Headers: headers})
}

// must returns v, failing the test if err is not nil.
func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestLoadPrivateKeyPEM(t *testing.T) {
	t.Parallel()
	rsaKey := must[*rsa.PrivateKey](t)(rsa.GenerateKey(rand.Reader, 2048))
	ecKey := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519 := must[*ecdh.PrivateKey](t)(ecdh.X25519().GenerateKey(rand.Reader))
	der := must[[]byte](t)

	pkcs8 := func(k any) []byte { return pemBlock("PRIVATE KEY", der(x509.MarshalPKCS8PrivateKey(k)), nil) }
	sec1 := pemBlock("EC PRIVATE KEY", der(x509.MarshalECPrivateKey(ecKey)), nil)
	ecParams := pemBlock("EC PARAMETERS", der(x509.MarshalPKIXPublicKey(ecKey.Public()))[:10], nil)
	pubPEM := pemBlock("PUBLIC KEY", der(x509.MarshalPKIXPublicKey(rsaKey.Public())), nil)

	tests := []struct {
		name    string
		data    []byte
		wantPub crypto.PublicKey
		wantAlg string // algorithm to check the key signs with; "" skips
		wantErr string
	}{
		{name: "PKCS8 RSA", data: pkcs8(rsaKey), wantPub: rsaKey.Public(), wantAlg: "RS256"},
		{name: "PKCS1 RSA", data: pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), nil), wantPub: rsaKey.Public(), wantAlg: "PS256"},
		{name: "SEC1 EC", data: sec1, wantPub: ecKey.Public(), wantAlg: "ES256"},
		{name: "SEC1 EC after EC PARAMETERS", data: append(append([]byte(nil), ecParams...), sec1...), wantPub: ecKey.Public(), wantAlg: "ES256"},
		{name: "PKCS8 EC", data: pkcs8(ecKey), wantPub: ecKey.Public()},
		{name: "PKCS8 Ed25519", data: pkcs8(edKey), wantPub: edKey.Public(), wantAlg: "EdDSA"},
		{name: "leading text", data: append([]byte("comment line\n"), pkcs8(edKey)...), wantPub: edKey.Public()},
		{name: "garbage", data: []byte("definitely not a key"), wantErr: "input is not PEM"},
		{name: "empty", data: nil, wantErr: "input is empty"},
		{name: "DER", data: der(x509.MarshalPKCS8PrivateKey(ecKey)), wantErr: "not PEM"},
		{name: "public key only", data: pubPEM, wantErr: `only PEM blocks of type "PUBLIC KEY"`},
		{name: "corrupt PKCS8", data: pemBlock("PRIVATE KEY", []byte("junk"), nil), wantErr: "PKCS#8"},
		{name: "corrupt PKCS1", data: pemBlock("RSA PRIVATE KEY", []byte("junk"), nil), wantErr: "PKCS#1"},
		{name: "corrupt SEC1", data: pemBlock("EC PRIVATE KEY", []byte("junk"), nil), wantErr: "SEC1"},
		{name: "encrypted PKCS8", data: pemBlock("ENCRYPTED PRIVATE KEY", []byte("junk"), nil), wantErr: "encrypted"},
		{name: "legacy encrypted PEM", data: pemBlock("RSA PRIVATE KEY", []byte("junk"), map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}), wantErr: "encrypted"},
		{name: "X25519 cannot sign", data: pkcs8(x25519), wantErr: "cannot sign"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := LoadPrivateKeyPEM(tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "tokens: load private key: ") {
					t.Fatalf("LoadPrivateKeyPEM error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadPrivateKeyPEM: %v", err)
			}
			eq, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool })
			if !ok || !eq.Equal(tt.wantPub) {
				t.Fatalf("loaded key's public key %T does not match", k.Public())
			}
			if tt.wantAlg != "" {
				s := newTestSigner(t, SignerOptions{Algorithm: tt.wantAlg, Key: k})
				raw, err := s.Sign(testClaims())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Verify(raw, testNow); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
