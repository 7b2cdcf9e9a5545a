package conformance_test

import (
	"context"
	"net/http/httptest"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/conformance"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// TestConformance runs every check. With TOLLGATE_TARGET (and the other
// TOLLGATE_* variables of `tollgate check`) it probes that server for
// TOLLGATE_FLOW; without, it starts the mock in-process, with the real
// clock so tokens really expire, and checks both built-in flows.
func TestConformance(t *testing.T) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	ctx := context.Background()
	var cfg framework.Config
	if err := cfg.ApplyEnv(os.LookupEnv); err != nil {
		t.Fatal(err)
	}
	var frameworks []*framework.Framework
	if cfg.Target != "" {
		flows, err := spec.LoadAll(ctx, openapi.FS())
		if err != nil {
			t.Fatal(err)
		}
		flow, err := findFlow(ctx, flows, cfg.Flow)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("fix the TOLLGATE_* configuration: %v", err)
		}
		frameworks = append(frameworks, framework.New(cfg, flow))
	} else {
		frameworks = mockFrameworks(t)
	}
	for _, f := range frameworks {
		if err := f.Preflight(ctx); err != nil {
			t.Fatalf("preflight: %v", err)
		}
	}
	regs := conformance.Define(frameworks...)
	suiteConfig, reporterConfig := ginkgo.GinkgoConfiguration()
	everything := suiteConfig.LabelFilter == "" && suiteConfig.FocusStrings == nil
	// Load specs run only when asked for: -ginkgo.label-filter=load.
	suiteConfig.LabelFilter = conformance.WithoutLoad(suiteConfig.LabelFilter)
	ginkgo.RunSpecs(t, "Tollgate conformance", suiteConfig, reporterConfig)
	if everything {
		for _, r := range regs { // the tree is built during RunSpecs
			checkCatalogCovered(t, r)
		}
	}
}

// mockFrameworks serves the built-in flows from the mock with its default
// clients and returns a framework per flow.
func mockFrameworks(t *testing.T) []*framework.Framework {
	t.Helper()
	flows, err := spec.LoadAll(context.Background(), openapi.FS())
	if err != nil {
		t.Fatal(err)
	}
	mock, err := mockserver.New(flows, mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mock)
	t.Cleanup(srv.Close)
	var out []*framework.Framework
	for _, f := range flows {
		cfg := framework.Config{Config: probe.Config{
			Target:        srv.URL,
			Flow:          f.Name,
			Client:        framework.Credentials{ID: mockserver.SeedClientID, Secret: mockserver.SeedClientSecret},
			ExpiryClient:  framework.Credentials{ID: mockserver.ShortLivedClientID, Secret: mockserver.ShortLivedClientSecret},
			MaxExpiryWait: mockserver.ShortLivedLifetime + 10*time.Second,
		}}
		if len(f.Scopes) > 1 {
			cfg.ScopedClient = framework.Credentials{ID: mockserver.ScopedClientID, Secret: mockserver.ScopedClientSecret}
		}
		if f.Token.AcceptsClientAuth(spec.ClientAuthBasic) {
			// Its id and secret need RFC 6749 Appendix B encoding (TOK-017).
			cfg.Client2 = framework.Credentials{ID: mockserver.EncodedClientID, Secret: mockserver.EncodedClientSecret}
		} else {
			// A second client for REV-005 (another client cannot revoke my token).
			cfg.Client2 = framework.Credentials{ID: mockserver.ShortLivedClientID, Secret: mockserver.ShortLivedClientSecret}
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		out = append(out, framework.New(cfg, f))
	}
	// BEAR-022: each flow's protected operations must refuse a live token
	// the same server issued for the other flow (another audience).
	ctx := context.Background()
	tokens := make([]string, len(out))
	for i, f := range out {
		tr, _, err := f.Token(ctx, f.Config.Client)
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = tr.AccessToken
	}
	for i, f := range out {
		f.Config.ForeignToken = tokens[(i+1)%len(out)]
	}
	return out
}

func findFlow(ctx context.Context, flows []*spec.Flow, name string) (*spec.Flow, error) {
	for _, f := range flows {
		if f.Name == name {
			return f, nil
		}
	}
	return spec.LoadFile(ctx, name)
}

// checkCatalogCovered: every catalog check has a spec, and (CheckIt panics
// otherwise) every spec a catalog check.
func checkCatalogCovered(t *testing.T, r *framework.Registrar) {
	t.Helper()
	defined := r.Defined()
	sort.Strings(defined)
	have := map[string]bool{}
	for _, id := range defined {
		have[id] = true
	}
	for _, c := range framework.Catalog() {
		if !have[c.ID] {
			t.Errorf("catalog check %s has no spec", c.ID)
		}
	}
}
