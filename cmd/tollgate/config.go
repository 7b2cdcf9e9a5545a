package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate/tollgate/mockserver"
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

	mockserver.Options `yaml:",inline"`
}

const defaultAddr = "127.0.0.1:4455"

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// loadServeConfig reads a config file strictly: unknown keys and wrong types
// fail with the file, the line and what to fix.
func loadServeConfig(file string) (serveConfig, error) {
	var cfg serveConfig
	f, err := os.Open(file)
	if err != nil {
		return cfg, usagef("config: %w (give an existing file to --config)", err)
	}
	defer func() { _ = f.Close() }()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, usageError{describeYAMLError(file, err)}
	}
	dir := filepath.Dir(file)
	for i, d := range cfg.Documents {
		if !filepath.IsAbs(d) {
			cfg.Documents[i] = filepath.Join(dir, d)
		}
	}
	return cfg, nil
}

// describeYAMLError turns a yaml.v3 error into "FILE:LINE: problem; fix".
func describeYAMLError(file string, err error) error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	line := ""
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line = ":" + m[1]
		msg = msg[len(m[0]):]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	hint := "see docs/config.md for the keys and their types"
	if strings.Contains(msg, "time.Duration") {
		hint = "write durations with a unit, e.g. 90s or 30m"
	}
	if strings.Contains(msg, "not found in type") {
		field := strings.Fields(msg)
		if len(field) > 1 {
			msg = "unknown key " + field[1]
		}
		hint = "remove it or fix its spelling; docs/config.md lists the keys"
	}
	return fmt.Errorf("config %s%s: %s; %s", file, line, msg, hint)
}
