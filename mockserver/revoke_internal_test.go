package mockserver

import (
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
)

// TestDenyListConsultedAfterCache: a JWT whose verification is cached is
// still refused once its jti is on the deny-list, even if the cache entry
// survives (a revocation racing a first verification can leave one behind).
func TestDenyListConsultedAfterCache(t *testing.T) {
	t.Parallel()
	s := builtinServer(t, Options{})
	raw := allocIssue(t, s, "oauth2")
	var fr *flowRuntime
	for _, f := range s.flows {
		if f.flow.Name == "oauth2" {
			fr = f
		}
	}
	v := s.validator(fr)
	now := time.Now()
	if _, ok := v.Validate(raw, now); !ok {
		t.Fatal("fresh JWT refused")
	}
	_, jti, cached := fr.cache.Lookup(raw, now)
	if !cached || jti == "" {
		t.Fatalf("JWT not cached with its jti (cached %v, jti %q)", cached, jti)
	}
	fr.revoked.Put(revocationKey(jti, raw), tokens.NewGrant("oauth2", SeedClientID, ""), now.Add(time.Hour), now)
	if _, ok := v.Validate(raw, now); ok {
		t.Error("a revoked JWT still in the verification cache passes")
	}
	if _, ok := fr.verifyJWT(raw, now, s.issuers); ok {
		t.Error("a revoked JWT passes verification")
	}
}
