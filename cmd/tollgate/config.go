package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/spec/yamlnode"
)

// serveConfig is the `tollgate serve` config file. docs/config.md documents
// every key; tollgate.example.yaml is a complete example. Flags override it.
type serveConfig struct {
	// Addr is HOST:PORT to listen on; port 0 picks a free port.
	Addr string `yaml:"addr"`
	// EnabledFlows limits the flows served, by name. Empty means all.
	EnabledFlows []string `yaml:"enabled_flows"`
	// Documents are extra flow documents (paths relative to the config
	// file). A document whose flow has a built-in's name replaces it.
	Documents []string `yaml:"documents"`
	// LogFormat is text (default) or json.
	LogFormat string `yaml:"log_format"`
	// ShutdownTimeout is how long requests in flight may run once a stop
	// is signalled. Zero means 5s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`

	// TLS serves HTTPS and HTTP/2 (docs/tls.md).
	TLS tlsSettings `yaml:"tls"`

	mockserver.Options `yaml:",inline"`

	file string     // the config file, "" when none
	root *yaml.Node // its parsed form, to find the line of a key
}

const defaultAddr = "127.0.0.1:4455"

// readServeConfig reads a config file strictly: unknown keys and wrong types
// fail with the file, the line and what to fix.
func readServeConfig(file string) (serveConfig, error) {
	var cfg serveConfig
	f, err := os.Open(file)
	if err != nil {
		return cfg, usagef("config: %w (give an existing file to --config)", err)
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(f)
	if err != nil {
		return cfg, usagef("config %s: %w", file, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err == nil {
		cfg.root = &root
	}
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, usageError{describeYAMLError("config", "docs/config.md", file, withValueLine(cfg.root, err))}
	}
	cfg.file = file
	// Paths in the file are relative to the file, not to the working directory.
	dir := filepath.Dir(file)
	for i, d := range cfg.Documents {
		if !filepath.IsAbs(d) {
			cfg.Documents[i] = filepath.Join(dir, d)
		}
	}
	for _, path := range []*string{&cfg.SigningKeyFile, &cfg.TLS.Cert, &cfg.TLS.Key, &cfg.TLS.CAOut} {
		if *path != "" && !filepath.IsAbs(*path) {
			*path = filepath.Join(dir, *path)
		}
	}
	return cfg, nil
}

// locate prefixes an options error with the config file and the line of the
// key it names (mockserver errors start with the key path: "clients[1]",
// "flows.simple.token_format", "max_body_bytes").
func (c serveConfig) locate(err error) error {
	if c.file == "" {
		return err
	}
	m := optionErrorKey.FindStringSubmatch(err.Error())
	line := 0
	switch {
	case m == nil:
	case m[1] != "":
		line = itemLine(c.root, "clients", m[1])
	case m[5] != "":
		line = itemLine(c.root, "faults", m[6]) // one fault alone is named without its index
	case m[2] != "":
		line = lineOf(yamlnode.Value(c.root, "flows"), m[2], m[3])
	default:
		line = lineOf(c.root, m[4])
	}
	if line == 0 {
		return fmt.Errorf("config %s: %w", c.file, err)
	}
	return fmt.Errorf("config %s:%d: %w", c.file, line, err)
}

// optionErrorKey finds the key a mockserver options error starts with.
var optionErrorKey = regexp.MustCompile(`^mockserver: (?:clients\[(\d+)\]|flows\.([\w-]+)(?:\.(\w+))?|(max_body_bytes|max_tokens|sweep_interval|cors_origins|cors_allow_credentials|issuer|signing_key_file|control|metrics|captured_requests)\b|(faults)(?:: faults\[(\d+)\])?)`)

// itemLine returns the line of item index (a number; "" for the first) of
// the list under key.
func itemLine(root *yaml.Node, key, index string) int {
	i, _ := strconv.Atoi(index)
	if list := yamlnode.Value(root, key); list != nil && i < len(list.Content) {
		return list.Content[i].Line
	}
	return 0
}

// lineOf returns the line of the deepest existing key along path.
func lineOf(n *yaml.Node, path ...string) int {
	line := 0
	for _, key := range path {
		if key == "" {
			break
		}
		next := yamlnode.Value(n, key)
		if next == nil {
			break
		}
		n, line = next, next.Line
	}
	return line
}

// withValueLine gives a value's own error (a duration or a time that
// does not parse: yaml.v3 passes those on without a line) the line of the
// value it quotes.
func withValueLine(root *yaml.Node, err error) error {
	var te *yaml.TypeError
	if root == nil || errors.As(err, &te) || strings.Contains(err.Error(), "line ") {
		return err
	}
	m := regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`).FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	value, uerr := strconv.Unquote(`"` + m[1] + `"`)
	if uerr != nil {
		return err
	}
	line := scalarLine(root, value)
	if line == 0 {
		return err
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "parsing time ") {
		msg = fmt.Sprintf("%q is not an RFC 3339 time: write it like 2030-01-01T00:00:00Z", value)
	}
	return fmt.Errorf("line %d: %s", line, msg)
}

// scalarLine returns the line of the first scalar value written as value; 0
// when there is none.
func scalarLine(n *yaml.Node, value string) int {
	if n.Kind == yaml.ScalarNode && n.Value == value {
		return n.Line
	}
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 {
			continue // a key, not a value
		}
		if line := scalarLine(c, value); line > 0 {
			return line
		}
	}
	return 0
}

// describeYAMLError turns a yaml.v3 error into "FILE:LINE: problem; fix".
func describeYAMLError(kind, doc, file string, err error) error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	line := ""
	if m := regexp.MustCompile(`^(?:yaml: )?line (\d+): `).FindStringSubmatch(msg); m != nil {
		line = ":" + m[1]
		msg = msg[len(m[0]):]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	hint := "see " + doc + " for the keys and their types"
	if strings.Contains(msg, "time.Duration") {
		hint = "write durations with a unit, e.g. 90s or 30m"
	}
	if strings.Contains(msg, "not found in type") {
		field := strings.Fields(msg)
		if len(field) > 1 {
			msg = "unknown key " + field[1]
		}
		hint = "remove it or fix its spelling; " + doc + " lists the keys"
	}
	return fmt.Errorf("%s %s%s: %s; %s", kind, file, line, msg, hint)
}
