package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
)

func TestReadServeConfigExample(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "tollgate.example.yaml")
	got, err := readServeConfig(file)
	if err != nil {
		t.Fatalf("readServeConfig(%s): %v", file, err)
	}
	want := serveConfig{
		Addr:            "127.0.0.1:4455",
		EnabledFlows:    []string{"simple", "oauth2"},
		LogFormat:       "text",
		ShutdownTimeout: 5 * time.Second,
		Options: mockserver.Options{
			MaxBodyBytes:     65536,
			MaxTokens:        1_000_000,
			SweepInterval:    30 * time.Second,
			CORSOrigins:      []string{"http://localhost:3000", "http://localhost:5173"},
			Control:          mockserver.ControlAuto,
			CapturedRequests: 1000,
			Flows: map[string]mockserver.FlowOptions{
				"simple": {TokenFormat: "uuid", TokenLifetime: 30 * time.Minute},
				"oauth2": {TokenLifetime: 2 * time.Hour, Algorithm: "RS512"},
			},
			Clients: []mockserver.Client{
				{ID: "testClient", Secret: "superSecret"},
				{ID: "metricsClient", Secret: "metricsSecret", Scopes: []string{"metrics-api"}, Flows: []string{"oauth2"}},
				{ID: "shortLivedClient", Secret: "shortLivedSecret", TokenLifetime: 5 * time.Second},
			},
		},
	}
	if len(got.Documents) != 0 {
		t.Errorf("Documents = %q, want none", got.Documents)
	}
	got.Documents = nil          // `documents: []` decodes to an empty, non-nil slice
	got.file, got.root = "", nil // where it came from, not what it says
	if !reflect.DeepEqual(got, want) {
		t.Errorf("readServeConfig(%s) =\n%+v\nwant\n%+v", file, got, want)
	}

	// The example is coherent: its options fit the flows it enables.
	flows, err := loadFlows(context.Background(), got.Documents, got.EnabledFlows)
	if err != nil {
		t.Fatalf("loadFlows: %v", err)
	}
	if _, err := mockserver.New(flows, got.Options); err != nil {
		t.Errorf("mockserver.New with the example's options: %v", err)
	}
}

func TestReadServeConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		line    int      // the line the message must name
		want    []string // in the message
	}{
		{
			name:    "unknown top-level key",
			content: "adress: 127.0.0.1:0\n", //nolint:misspell // deliberate typo: the test checks the unknown-key error
			line:    1,
			want:    []string{"unknown key adress", "remove it or fix its spelling", "docs/config.md"}, //nolint:misspell // deliberate typo: the test checks the unknown-key error
		},
		{
			name:    "unknown key under clients",
			content: "addr: 127.0.0.1:0\nclients:\n  - id: a\n    secret: b\n    scope: [metrics-api]\n",
			line:    5,
			want:    []string{"unknown key scope", "remove it or fix its spelling"},
		},
		{
			name:    "unknown key under flows",
			content: "flows:\n  simple:\n    format: opaque\n",
			line:    3,
			want:    []string{"unknown key format"},
		},
		{
			name:    "wrong type int",
			content: "# comment\nmax_body_bytes: lots\n",
			line:    2,
			want:    []string{"`lots`", "int64", "see docs/config.md for the keys and their types"},
		},
		{
			name:    "wrong type bool",
			content: "accept_any_client: maybe\n",
			line:    1,
			want:    []string{"`maybe`", "bool"},
		},
		{
			name:    "wrong type list",
			content: "clients: {id: a, secret: b}\n",
			line:    1,
			want:    []string{"!!map", "[]mockserver.Client"},
		},
		{
			name:    "not a mapping",
			content: "- addr\n",
			line:    1,
			want:    []string{"!!seq"},
		},
		{
			name:    "flow lifetime without unit",
			content: "flows:\n  simple:\n    token_lifetime: 1800\n",
			line:    3,
			want:    []string{"`1800`", "time.Duration", "write durations with a unit, e.g. 90s or 30m"},
		},
		{
			name:    "client lifetime without unit",
			content: "clients:\n  - id: a\n    secret: b\n    token_lifetime: 5\n",
			line:    4,
			want:    []string{"`5`", "write durations with a unit"},
		},
		{
			name:    "duplicate key",
			content: "addr: 127.0.0.1:1\naddr: 127.0.0.1:2\n",
			line:    2,
			want:    []string{`"addr" already defined at line 1`},
		},
		{
			name:    "clock not a time",
			content: "clock:\n  now: tomorrow\n",
			line:    2,
			want:    []string{`"tomorrow" is not an RFC 3339 time`, "2030-01-01T00:00:00Z"},
		},
		{
			name:    "unknown fault key",
			content: "faults:\n  - endpoint: token\n    fired: 3\n",
			line:    3,
			want:    []string{"unknown key fired"},
		},
		{
			name:    "fault latency without unit",
			content: "faults:\n  - endpoint: token\n    latency: 100\n",
			line:    3,
			want:    []string{"300ms"},
		},
		{
			name:    "syntax error",
			content: "addr: [\n",
			want:    []string{"did not find expected node content"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := writeFile(t, "tollgate.yaml", tt.content)
			_, err := readServeConfig(file)
			if err == nil {
				t.Fatalf("readServeConfig accepted:\n%s", tt.content)
			}
			var ue usageError
			if !errors.As(err, &ue) {
				t.Errorf("error %v is a %T, want a usageError (exit code 2)", err, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "config "+file+":") {
				t.Errorf("error %q does not start with %q", msg, "config "+file+":")
			}
			if tt.line > 0 && !strings.Contains(msg, file+":"+strconv.Itoa(tt.line)+": ") {
				t.Errorf("error %q does not name line %d", msg, tt.line)
			}
			if strings.Contains(msg, "yaml: ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q should be one line without the yaml package's prefixes", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestReadServeConfigMissingFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "absent.yaml")
	_, err := readServeConfig(file)
	var ue usageError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v, want a usageError (exit code 2)", err)
	}
	for _, w := range []string{file, "no such file", "give an existing file to --config"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

func TestReadServeConfigEmpty(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
	}{
		{name: "empty file", content: ""},
		{name: "comments only", content: "# nothing set\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := readServeConfig(writeFile(t, "tollgate.yaml", tt.content))
			if err != nil {
				t.Fatalf("readServeConfig: %v", err)
			}
			got.file, got.root = "", nil // where it came from, not what it says
			if !reflect.DeepEqual(got, serveConfig{}) {
				t.Errorf("readServeConfig = %+v, want the zero config (the defaults)", got)
			}
		})
	}
}

func TestReadServeConfigDocumentsRelativeToFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	userpass, err := os.ReadFile(filepath.Join("..", "..", "testdata", "flows", "userpass.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "flows"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "flows", "userpass.yaml"), userpass, 0o600); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(t.TempDir(), "elsewhere.yaml")
	cfgFile := filepath.Join(dir, "tollgate.yaml")
	content := "documents:\n  - flows/userpass.yaml\n  - " + abs + "\n"
	if err := os.WriteFile(cfgFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg, err := readServeConfig(cfgFile)
	if err != nil {
		t.Fatalf("readServeConfig: %v", err)
	}
	want := []string{filepath.Join(dir, "flows", "userpass.yaml"), abs}
	if !reflect.DeepEqual(cfg.Documents, want) {
		t.Errorf("Documents = %q, want %q (relative to the config file, absolute kept)", cfg.Documents, want)
	}

	// The resolved path loads from any working directory.
	flows, err := loadFlows(context.Background(), cfg.Documents[:1], []string{"userpass"})
	if err != nil {
		t.Fatalf("loadFlows: %v", err)
	}
	if len(flows) != 1 || flows[0].Name != "userpass" {
		t.Errorf("loadFlows served %d flows, want userpass only", len(flows))
	}
}

// TestOptionErrorsNameTheLine: options that decode but do not validate are
// reported at the line of the key they concern.
func TestOptionErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, want string
	}{
		{"second client without secret", "clients:\n  - id: a\n    secret: b\n  - id: c\n    secret: \"\"\n", ":4: mockserver: clients[1]"},
		{"unknown format", "flows:\n  simple:\n    token_format: jwe\n", ":3: mockserver: flows.simple.token_format"},
		{"unknown flow", "flows:\n  nope: {}\n", ":2: mockserver: flows.nope"},
		{"body limit", "addr: 127.0.0.1:0\nmax_body_bytes: 5\n", ":2: mockserver: max_body_bytes"},
		{"empty client scopes", "clients:\n  - id: a\n    secret: b\n    scopes: []\n", ":2: mockserver: clients[0]"},
		{"control mode", "addr: 127.0.0.1:0\ncontrol: sometimes\n", ":2: mockserver: control: unknown mode"},
		{"captured requests", "\ncaptured_requests: -1\n", ":2: mockserver: captured_requests"},
		{"credentials for any origin", "addr: 127.0.0.1:0\ncors_allow_credentials: true\n", ":2: mockserver: cors_allow_credentials: not with any origin"},
		{"one fault", "faults:\n  - endpoint: token\n    status: 99\n", ":2: mockserver: faults: status: 99"},
		{"second fault", "faults:\n  - endpoint: token\n    status: 503\n  - endpoint: nowhere\n    status: 503\n", ":4: mockserver: faults: faults[1]: endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "tollgate.yaml")
			if err := os.WriteFile(file, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runBounded(t, "serve", "--config", file, "--addr", "127.0.0.1:0")
			if code != 2 || !strings.Contains(stderr, file+tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, stderr, file+tt.want)
			}
		})
	}
}
