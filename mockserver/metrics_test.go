package mockserver_test

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

// metricsGet sends GET path to srv with an optional Bearer token and
// returns the status.
func metricsGet(t *testing.T, srv *mockservertest.Server, path, token string) int {
	t.Helper()
	status, _ := metricsDo(t, srv, http.MethodGet, path, "", token, "")
	return status
}

func metricsDo(t *testing.T, srv *mockservertest.Server, method, path, contentType, token, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// metricsToken gets a simple-flow token for the seed client.
func metricsToken(t *testing.T, srv *mockservertest.Server) string {
	t.Helper()
	status, body := metricsDo(t, srv, http.MethodPost, "/token", "application/json", "", `{"clientId":"testClient","secret":"superSecret"}`)
	if status != http.StatusOK {
		t.Fatalf("token: %d %s", status, body)
	}
	m := regexp.MustCompile(`"accessToken":"([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("token: no accessToken in %s", body)
	}
	return m[1]
}

// scrape reads srv's /metrics as Prometheus text.
func scrape(t *testing.T, srv *mockservertest.Server) map[string]*dto.MetricFamily {
	t.Helper()
	status, body := metricsDo(t, srv, http.MethodGet, mockserver.MetricsPath, "", "", "")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("GET /metrics: not Prometheus text: %v\n%s", err, body)
	}
	return families
}

// sample finds the metric of family name with exactly labels.
func sample(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	mf := families[name]
	if mf == nil {
		t.Fatalf("no series %s in the scrape", name)
	}
next:
	for _, m := range mf.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, lp := range m.GetLabel() {
			if labels[lp.GetName()] != lp.GetValue() {
				continue next
			}
		}
		return m
	}
	t.Fatalf("no series %s%v in the scrape", name, labels)
	return nil
}

// documentedSeries are the metric names docs/metrics.md lists in its
// table of series.
func documentedSeries(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		if m := regexp.MustCompile("^\\| `(tollgate_[a-z_]+)").FindStringSubmatch(line); m != nil {
			names = append(names, m[1])
		}
	}
	if len(names) < 5 {
		t.Fatalf("docs/metrics.md lists %d series (%v): its table should list every tollgate_ series", len(names), names)
	}
	return names
}

// TestMetricsAfterTraffic sends known traffic, scrapes /metrics, and finds
// every series docs/metrics.md documents, with the counts the traffic
// makes.
func TestMetricsAfterTraffic(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	token := metricsToken(t, srv)
	for range 3 {
		if s := metricsGet(t, srv, "/api/collections", token); s != http.StatusOK {
			t.Fatalf("valid token: %d", s)
		}
	}
	if s := metricsGet(t, srv, "/api/collections", ""); s != http.StatusUnauthorized {
		t.Fatalf("no token: %d", s)
	}
	if s := metricsGet(t, srv, "/api/collections", "not-a-token"); s != http.StatusUnauthorized {
		t.Fatalf("unknown token: %d", s)
	}
	if s, body := metricsDo(t, srv, http.MethodPost, "/token", "application/json", "", `{"clientId":"testClient","secret":"wrong"}`); s != http.StatusBadRequest && s != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d %s", s, body)
	}
	if s, _ := metricsDo(t, srv, http.MethodDelete, "/api/collections", "", "", ""); s != http.StatusMethodNotAllowed {
		t.Fatalf("undocumented method: %d", s)
	}
	if s := metricsGet(t, srv, "/no/such/path", ""); s != http.StatusNotFound {
		t.Fatalf("unknown path: %d", s)
	}
	srv.AddFault(t, mockserver.Fault{Endpoint: "listCollections", Status: http.StatusServiceUnavailable, Times: 1})
	if s := metricsGet(t, srv, "/api/collections", token); s != http.StatusServiceUnavailable {
		t.Fatalf("fault: %d", s)
	}
	live := metricsToken(t, srv) // a second live token, then the first expires
	srv.AdvanceClock(31 * time.Minute)
	if s := metricsGet(t, srv, "/api/collections", token); s != http.StatusUnauthorized {
		t.Fatalf("expired token: %d", s)
	}
	_ = live

	families := scrape(t, srv)
	for _, name := range documentedSeries(t) {
		if families[name] == nil {
			t.Errorf("docs/metrics.md documents %s, which the scrape lacks", name)
		}
	}
	counts := []struct {
		route, status, verdict string
		want                   float64
	}{
		{"GET /api/collections", "200", "ok", 3},
		{"GET /api/collections", "401", "missing", 1},
		{"GET /api/collections", "401", "unknown", 1},
		{"GET /api/collections", "401", "expired", 1},
		{"GET /api/collections", "503", "fault", 1},
		{"GET /api/collections", "401", "revoked", 0}, // known answers exist from the start
		{"/token", "200", "ok", 2},
		{"unmatched", "404", "not_found", 1},
		{"/api/collections", "405", "method_not_allowed", 1},
	}
	for _, c := range counts {
		m := sample(t, families, "tollgate_requests_total", map[string]string{"route": c.route, "status": c.status, "verdict": c.verdict})
		if got := m.GetCounter().GetValue(); got != c.want {
			t.Errorf("tollgate_requests_total{route=%q,status=%q,verdict=%q} = %v, want %v", c.route, c.status, c.verdict, got, c.want)
		}
	}
	for _, m := range families["tollgate_requests_total"].GetMetric() {
		if r := labelOf(m, "route"); (r == "unmatched" || r == "/api/collections") && labelOf(m, "status") == "200" {
			t.Errorf("a series %s 200 %s for a route that serves nothing", r, labelOf(m, "verdict"))
		}
	}
	wrong := 0.0
	for _, st := range []string{"400", "401"} {
		for _, m := range families["tollgate_requests_total"].GetMetric() {
			if labelOf(m, "route") == "/token" && labelOf(m, "status") == st && labelOf(m, "verdict") == "invalid_client" {
				wrong += m.GetCounter().GetValue()
			}
		}
	}
	if wrong != 1 {
		t.Errorf("the wrong secret counted %v times as /token invalid_client, want 1", wrong)
	}
	if h := sample(t, families, "tollgate_validation_duration_seconds", map[string]string{"flow": "simple"}).GetHistogram(); h.GetSampleCount() != 7 || h.GetSampleSum() <= 0 {
		t.Errorf("validation histogram of simple: %d samples, sum %v; want 7 samples (every protected answer), sum > 0", h.GetSampleCount(), h.GetSampleSum())
	}
	if h := sample(t, families, "tollgate_issuance_duration_seconds", map[string]string{"flow": "simple"}).GetHistogram(); h.GetSampleCount() != 3 {
		t.Errorf("issuance histogram of simple: %d samples, want 3 (two tokens, one refusal)", h.GetSampleCount())
	}
	if g := sample(t, families, "tollgate_live_tokens", map[string]string{}).GetGauge().GetValue(); g != 2 {
		t.Errorf("tollgate_live_tokens = %v, want 2 (the expired token is held until swept)", g)
	}
	if f := sample(t, families, "tollgate_faults_fired_total", map[string]string{"endpoint": "listCollections", "flow": "simple", "effect": "status"}); f.GetCounter().GetValue() != 1 {
		t.Errorf("tollgate_faults_fired_total = %v, want 1", f.GetCounter().GetValue())
	}
	if families["go_goroutines"] == nil {
		t.Error("the scrape lacks go_goroutines (the Go runtime collector)")
	}
}

// TestMetricsGraphQLMethodNotAllowed: the GraphQL endpoint's 405s (a
// method other than GET and POST, a mutation over GET) count with the
// verdict method_not_allowed, as docs/metrics.md says of every 405.
func TestMetricsGraphQLMethodNotAllowed(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	token := metricsToken(t, srv)
	if s, body := metricsDo(t, srv, http.MethodPut, "/graphql", "application/json", token, `{"query":"{ __typename }"}`); s != http.StatusMethodNotAllowed {
		t.Fatalf("PUT /graphql: %d %s", s, body)
	}
	mutation := "/graphql?query=" + url.QueryEscape(`mutation { renameCollection(id: "c-1001", name: "x") { id } }`)
	if s, body := metricsDo(t, srv, http.MethodGet, mutation, "", token, ""); s != http.StatusMethodNotAllowed {
		t.Fatalf("a mutation over GET: %d %s", s, body)
	}
	m := sample(t, scrape(t, srv), "tollgate_requests_total", map[string]string{"route": "/graphql", "status": "405", "verdict": "method_not_allowed"})
	if got := m.GetCounter().GetValue(); got != 2 {
		t.Errorf("tollgate_requests_total{route=\"/graphql\",status=\"405\",verdict=\"method_not_allowed\"} = %v, want 2", got)
	}
}

func labelOf(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

// TestMetricsAccess checks who may scrape: loopback connections to a
// loopback name by default, anyone with public, the control token
// holder from anywhere, and nobody with off.
func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   mockserver.Options
		host   string // Host header; "" leaves the listener's
		token  string
		remote bool // served through ServeHTTP with no loopback listener
		want   int
	}{
		{name: "auto over loopback", want: http.StatusOK},
		{name: "auto to another name", host: "attacker.example", want: http.StatusForbidden},
		{name: "auto not over loopback", remote: true, want: http.StatusForbidden},
		{name: "public not over loopback", opts: mockserver.Options{Metrics: mockserver.MetricsPublic}, remote: true, want: http.StatusOK},
		{name: "control token, with it", opts: mockserver.Options{ControlToken: "s3cret"}, remote: true, token: "s3cret", want: http.StatusOK},
		{name: "control token, without it", opts: mockserver.Options{ControlToken: "s3cret"}, want: http.StatusUnauthorized},
		{name: "off", opts: mockserver.Options{Metrics: mockserver.MetricsOff}, want: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mockservertest.NewServer(t, mockservertest.WithOptions(tt.opts))
			var status int
			if tt.remote {
				req := httptest.NewRequest(http.MethodGet, "http://mock.example"+mockserver.MetricsPath, nil)
				if tt.token != "" {
					req.Header.Set("Authorization", "Bearer "+tt.token)
				}
				rec := httptest.NewRecorder()
				srv.Mock.ServeHTTP(rec, req)
				status = rec.Code
			} else {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+mockserver.MetricsPath, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tt.host != "" {
					req.Host = tt.host
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				status = resp.StatusCode
			}
			if status != tt.want {
				t.Errorf("GET /metrics: %d, want %d", status, tt.want)
			}
		})
	}
}

// TestMetricsPathReserved: a flow document cannot shadow /metrics, and
// the start-up error says what to do; with the metrics off the path is
// the document's.
func TestMetricsPathReserved(t *testing.T) {
	t.Parallel()
	flow := simpleMovedTo(t, "/metrics")
	_, err := mockserver.New([]*spec.Flow{flow}, mockserver.Options{})
	if err == nil {
		t.Fatal("New served a flow path at /metrics beside the metrics")
	}
	for _, want := range []string{"simple.listCollections", `"GET /metrics"`, "Prometheus metrics", "metrics: off"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	srv, err := mockserver.New([]*spec.Flow{flow}, mockserver.Options{Metrics: mockserver.MetricsOff})
	if err != nil {
		t.Fatalf("with metrics off: %v", err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /metrics with metrics off: %d, want the flow's 401", rec.Code)
	}
}

// TestMetricsModeUnknown: a bad mode is refused naming the good ones.
func TestMetricsModeUnknown(t *testing.T) {
	t.Parallel()
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		t.Fatal(err)
	}
	_, err = mockserver.New(flows, mockserver.Options{Metrics: "on"})
	if err == nil || !strings.Contains(err.Error(), `metrics: unknown mode "on" (use auto, public or off)`) {
		t.Fatalf("New with metrics: on: %v", err)
	}
}

// TestDebugEndpoints: off by default; with Debug, the profiles and expvar
// answer loopback connections to a loopback name only; a flow path under
// /debug/ is then refused at start-up.
func TestDebugEndpoints(t *testing.T) {
	t.Parallel()
	off := mockservertest.NewServer(t)
	if s := metricsGet(t, off, "/debug/vars", ""); s != http.StatusNotFound {
		t.Errorf("GET /debug/vars without Debug: %d, want 404", s)
	}
	on := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Debug: true}))
	for _, path := range []string{"/debug/vars", "/debug/pprof/", "/debug/pprof/cmdline"} {
		if s, body := metricsDo(t, on, http.MethodGet, path, "", "", ""); s != http.StatusOK || body == "" {
			t.Errorf("GET %s with Debug: %d, %d bytes; want 200 and a body", path, s, len(body))
		}
	}
	if s, body := metricsDo(t, on, http.MethodGet, "/debug/vars", "", "", ""); !strings.Contains(body, `"memstats"`) {
		t.Errorf("GET /debug/vars: %d, no memstats in %.200s", s, body)
	}
	req := httptest.NewRequest(http.MethodGet, "http://mock.example/debug/vars", nil)
	rec := httptest.NewRecorder()
	on.Mock.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("GET /debug/vars not over loopback: %d, want 403", rec.Code)
	}

	flow := simpleMovedTo(t, "/debug/collections")
	if _, err := mockserver.New([]*spec.Flow{flow}, mockserver.Options{Debug: true}); err == nil || !strings.Contains(err.Error(), "/debug/") || !strings.Contains(err.Error(), "leave debug off") {
		t.Errorf("New with a flow path under /debug/ and Debug: %v", err)
	}
	if _, err := mockserver.New([]*spec.Flow{flow}, mockserver.Options{}); err != nil {
		t.Errorf("New with a flow path under /debug/, Debug off: %v", err)
	}
}

// simpleMovedTo is the built-in simple flow with its /api/collections
// route moved to path (its GraphQL schema read beside it, as embedded).
func simpleMovedTo(t *testing.T, path string) *spec.Flow {
	t.Helper()
	src, err := fs.ReadFile(openapi.FS(), "simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	moved := strings.ReplaceAll(string(src), "/api/collections", path)
	if moved == string(src) {
		t.Fatal(`simple.yaml no longer has "/api/collections"`)
	}
	schema, err := fs.ReadFile(openapi.FS(), "simple.graphql")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"simple.yaml": {Data: []byte(moved)}, "simple.graphql": {Data: schema}}
	flow, err := spec.Read(context.Background(), fsys, "simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return flow
}
