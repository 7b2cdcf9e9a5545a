package tokens

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// LoadPrivateKeyPEM parses the first private key in PEM data: a PKCS#8
// "PRIVATE KEY" (RSA, ECDSA or Ed25519), a PKCS#1 "RSA PRIVATE KEY" or a SEC1
// "EC PRIVATE KEY". Other PEM blocks before the key (such as the
// "EC PARAMETERS" block openssl writes) are skipped. Encrypted keys, public
// keys, certificates and non-PEM input are rejected with an error that says
// what was found instead.
func LoadPrivateKeyPEM(data []byte) (crypto.Signer, error) {
	var skipped []string
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, fmt.Errorf("tokens: load private key: %q block is encrypted; decrypt it first (e.g. openssl pkey -in key.pem -out plain.pem)", block.Type)
		}
		switch block.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("tokens: load private key: PKCS#8: %w", err)
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("tokens: load private key: PKCS#8 key of type %T cannot sign; use an RSA, ECDSA or Ed25519 key", k)
			}
			return s, nil
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("tokens: load private key: PKCS#1 RSA: %w", err)
			}
			return k, nil
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("tokens: load private key: SEC1 EC: %w", err)
			}
			return k, nil
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("tokens: load private key: the PKCS#8 key is encrypted; decrypt it first (e.g. openssl pkey -in key.pem -out plain.pem)")
		default:
			skipped = append(skipped, block.Type)
		}
	}
	switch {
	case len(skipped) > 0:
		return nil, fmt.Errorf(`tokens: load private key: no private key found, only PEM blocks of type %s; want "PRIVATE KEY" (PKCS#8), "RSA PRIVATE KEY" (PKCS#1) or "EC PRIVATE KEY" (SEC1)`, strings.Join(quoteAll(skipped), ", "))
	case len(bytes.TrimSpace(data)) == 0:
		return nil, errors.New("tokens: load private key: input is empty")
	default:
		return nil, errors.New(`tokens: load private key: input is not PEM; want a "-----BEGIN PRIVATE KEY-----" (PKCS#8), "RSA PRIVATE KEY" or "EC PRIVATE KEY" block (DER input is not accepted)`)
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
