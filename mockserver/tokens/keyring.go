package tokens

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// KeyRing holds the signing keys of one issuer over time, so that the key
// can be rotated without failing the tokens already issued: the current key
// signs, and each key it replaced keeps verifying, and stays in the JWK Set
// (RFC 7517 section 5) that clients pick keys from by kid, until every token
// it signed has expired. It is safe for concurrent use; Current and Verify
// take no lock.
//
// Retirement depends only on the now passed to Verify and JWKS, so a test
// clock may move either way. A replaced key is kept, retired or not, until
// Reset: one Signer per Rotate.
type KeyRing struct {
	state atomic.Pointer[ringState]
	jwks  atomic.Pointer[ringJWKS]
	mu    sync.Mutex // serialises Rotate and Reset
}

// ringState is one immutable generation of a KeyRing; Rotate and Reset
// replace it whole.
type ringState struct {
	current *Signer
	older   []ringKey // the keys current replaced, newest first
}

// ringKey is a replaced key and when it stops verifying and being published.
type ringKey struct {
	signer   *Signer
	retireAt time.Time
}

// ringJWKS is an encoded JWK Set of one ringState, valid for nows in
// [from, until); a zero until means no later retirement.
type ringJWKS struct {
	state       *ringState
	from, until time.Time
	body        []byte
}

// NewKeyRing returns a ring whose only key is first. It panics when first
// is nil.
func NewKeyRing(first *Signer) *KeyRing {
	r := &KeyRing{}
	r.Reset(first)
	return r
}

// Current returns the Signer that new tokens are signed with.
func (r *KeyRing) Current() *Signer { return r.state.Load().current }

// Rotate makes next the current key. The key it replaces keeps verifying,
// and stays in the JWK Set, until retireAt: pass the time the last token it
// signed expires (its issue time plus the longest token lifetime). A zero or
// past retireAt retires it at once. Keys replaced earlier keep their own
// retireAt.
//
// Rotate fails, changing nothing, when next is nil, differs from the current
// key in algorithm or type, or has a kid already in the ring (give every key
// its own SignerOptions.KeyID, or leave it empty for the thumbprint).
func (r *KeyRing) Rotate(next *Signer, retireAt time.Time) error {
	if next == nil {
		return errors.New("tokens: rotate: next signer is nil")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.state.Load()
	cur := old.current
	if next.alg != cur.alg || !strings.EqualFold(next.typ, cur.typ) {
		return fmt.Errorf("tokens: rotate: next key signs %s tokens of type %q, the ring's keys %s of type %q; a ring has one algorithm and type",
			next.alg, next.typ, cur.alg, cur.typ)
	}
	if old.signer(next.kid) != nil {
		return fmt.Errorf("tokens: rotate: kid %q is already in the ring; give the next key its own KeyID", next.kid)
	}
	older := make([]ringKey, 0, len(old.older)+1)
	older = append(older, ringKey{signer: cur, retireAt: retireAt})
	older = append(older, old.older...)
	r.state.Store(&ringState{current: next, older: older})
	return nil
}

// Reset makes first the ring's only key, dropping every other, as a return
// to the configured state. It panics when first is nil.
func (r *KeyRing) Reset(first *Signer) {
	if first == nil {
		panic("tokens: key ring: nil signer")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state.Store(&ringState{current: first})
}

// Verify checks raw with the ring's key that its kid header names, or with
// the current key when it names none, by the rules of Signer.Verify. A kid
// of no key in the ring, or of a key retired at now (now is not before its
// retireAt), is an error wrapping ErrKeyID. Beyond Signer.Verify, Verify
// allocates only to read the header's kid.
func (r *KeyRing) Verify(raw string, now time.Time) (Claims, error) {
	st := r.state.Load()
	kid, ok := headerKeyID(raw)
	if !ok || kid == "" {
		// A header that does not parse is the current key's to report.
		return st.current.Verify(raw, now)
	}
	if kid == st.current.kid {
		return st.current.Verify(raw, now)
	}
	for _, k := range st.older {
		if k.signer.kid != kid {
			continue
		}
		if !now.Before(k.retireAt) {
			return Claims{}, fmt.Errorf("tokens: verify: %w: kid %q was retired at %s (now %s)",
				ErrKeyID, kid, k.retireAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
		return k.signer.Verify(raw, now)
	}
	return Claims{}, fmt.Errorf("tokens: verify: %w: kid %q is not a key of this issuer", ErrKeyID, kid)
}

// JWKS returns the JSON of the JWK Set of every key not retired at now,
// the current key first and then the others newest first, each as
// Signer.JWKS writes it. The set is encoded once per change of the ring or
// of the keys retired, and each call returns a fresh copy the caller may
// keep or modify.
func (r *KeyRing) JWKS(now time.Time) []byte {
	st := r.state.Load()
	c := r.jwks.Load()
	if c == nil || c.state != st || now.Before(c.from) || (!c.until.IsZero() && !now.Before(c.until)) {
		c = st.encodeJWKS(now)
		r.jwks.Store(c)
	}
	return bytes.Clone(c.body)
}

// signer returns the Signer of st with kid, retired or not; nil if none.
func (st *ringState) signer(kid string) *Signer {
	if st.current.kid == kid {
		return st.current
	}
	for _, k := range st.older {
		if k.signer.kid == kid {
			return k.signer
		}
	}
	return nil
}

// encodeJWKS encodes the JWK Set of st at now and the span of nows it holds
// for: from the latest retirement not after now to the earliest after it.
func (st *ringState) encodeJWKS(now time.Time) *ringJWKS {
	c := &ringJWKS{state: st}
	var b bytes.Buffer
	b.WriteString(`{"keys":[`)
	b.Write(st.current.jwk())
	for _, k := range st.older {
		if now.Before(k.retireAt) {
			if c.until.IsZero() || k.retireAt.Before(c.until) {
				c.until = k.retireAt
			}
			b.WriteByte(',')
			b.Write(k.signer.jwk())
		} else if k.retireAt.After(c.from) {
			c.from = k.retireAt
		}
	}
	b.WriteString(`]}`)
	c.body = b.Bytes()
	return c
}

// jwk returns the JSON of s's public JWK: the one member of the set
// {"keys":[JWK]} that NewSigner encoded.
func (s *Signer) jwk() []byte {
	b := bytes.TrimPrefix(s.jwks, []byte(`{"keys":[`))
	return bytes.TrimSuffix(b, []byte(`]}`))
}

// headerKeyID returns the kid of a compact JWS's protected header, "" when
// it has none; ok is false when the header does not decode. It only picks
// the key: the chosen Signer's Verify parses the header again (with go-jose)
// and rejects a kid that is not its own, so where encoding/json reads a
// header differently from go-jose (member names in another case, which
// go-jose's case-sensitive decoder ignores) the token is still verified
// with a key of the ring or rejected, never trusted on a retired key. The
// standard decoder allocates a third of what go-jose's would.
func headerKeyID(raw string) (kid string, ok bool) {
	seg, _, found := strings.Cut(raw, ".")
	if !found {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return "", false
	}
	var h struct {
		KeyID string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return "", false
	}
	return h.KeyID, true
}
