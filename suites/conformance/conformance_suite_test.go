package conformance_test

import (
	"context"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/conformance"
	"github.com/tollgate/tollgate/suites/framework"
)

// TestConformance runs every check. With TOLLGATE_TARGET (and the other
// TOLLGATE_* variables of `tollgate check`) it probes that server for
// TOLLGATE_FLOW; without, it starts the mock in-process, with the real
// clock, and checks both built-in flows: the expiry checks move the mock's
// clock through its control API.
func TestConformance(t *testing.T) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	ctx := context.Background()
	var cfg framework.Config
	if err := cfg.ApplyEnv(os.LookupEnv); err != nil {
		t.Fatal(err)
	}
	var frameworks []*framework.Framework
	var mock *mockservertest.Server
	if cfg.Target != "" {
		flows, err := spec.ReadAll(ctx, openapi.FS())
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
		mock, frameworks = mockFrameworks(t)
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
	for _, f := range frameworks {
		if err := f.RestoreClock(ctx); err != nil {
			t.Error(err)
		}
	}
	if mock != nil {
		// The expiry checks moved the mock's clock (its control API) and
		// put it back: it runs, and tells the time.
		if off := time.Until(mock.Mock.Clock().Now()).Abs(); off > 2*time.Second {
			t.Errorf("after the checks the mock's clock is %v off ours: it was not put back", off)
		}
		for _, f := range frameworks {
			if f.Expiry() != framework.ExpiryByControl {
				t.Errorf("flow %s: expiry %q, want the mock's clock moved", f.Flow.Name, f.Expiry())
			}
		}
	}
	if everything {
		for _, r := range regs { // the tree is built during RunSpecs
			checkCatalogCovered(t, r)
		}
	}
}

// mockFrameworks serves the built-in flows from the mock with its default
// clients and returns it and a framework per flow. The expiry checks move
// its clock through its control API.
func mockFrameworks(t *testing.T) (*mockservertest.Server, []*framework.Framework) {
	t.Helper()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	var out []*framework.Framework
	for _, f := range srv.Mock.Flows() {
		cfg := framework.Config{Config: srv.TargetConfig(t, f.Name)}
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
	return srv, out
}

func findFlow(ctx context.Context, flows []*spec.Flow, name string) (*spec.Flow, error) {
	for _, f := range flows {
		if f.Name == name {
			return f, nil
		}
	}
	return spec.ReadFile(ctx, name)
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
