package spec

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Read reads the document called name from fsys and compiles it.
func Read(ctx context.Context, fsys fs.FS, name string) (*Flow, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("spec: read %s: %w", name, err)
	}
	return compile(ctx, name, data, func(file string) ([]byte, error) {
		return fs.ReadFile(fsys, path.Join(path.Dir(name), file))
	})
}

// ReadFile reads a document from disk and compiles it. Files the document
// names (a GraphQL SDL) are read relative to its directory.
func ReadFile(ctx context.Context, file string) (*Flow, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("spec: read flow document: %w", err)
	}
	return Compile(ctx, file, data)
}

// ReadAll compiles every *.yaml, *.yml and *.json document at the top of fsys,
// sorted by name. Two documents may not declare the same flow name.
func ReadAll(ctx context.Context, fsys fs.FS) ([]*Flow, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("spec: list flow documents: %w", err)
	}
	var flows []*Flow
	seen := map[string]string{}
	for _, e := range entries {
		switch path.Ext(e.Name()) {
		case ".yaml", ".yml", ".json":
		default:
			continue
		}
		if e.IsDir() {
			continue
		}
		f, err := Read(ctx, fsys, e.Name())
		if err != nil {
			return nil, err
		}
		if other, dup := seen[f.Name]; dup {
			return nil, fmt.Errorf("spec: %s and %s both declare flow %q: rename one (x-tollgate.flow)", other, e.Name(), f.Name)
		}
		seen[f.Name] = e.Name()
		flows = append(flows, f)
	}
	if len(flows) == 0 {
		return nil, errors.New("spec: no flow documents (*.yaml, *.yml, *.json) found")
	}
	sort.Slice(flows, func(i, j int) bool { return flows[i].Name < flows[j].Name })
	return flows, nil
}

// Compile loads, validates and compiles one document given as bytes; name is
// used in errors and as the default flow name (its base name without
// extension). Files the document names (a GraphQL SDL) are read from disk,
// relative to the directory of name; use Read for documents in an fs.FS.
func Compile(ctx context.Context, name string, data []byte) (*Flow, error) {
	return compile(ctx, name, data, func(file string) ([]byte, error) {
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(name), file)
		}
		return os.ReadFile(file)
	})
}

// compile is Compile with readFile for the files the document names.
func compile(ctx context.Context, name string, data []byte, readFile func(string) ([]byte, error)) (*Flow, error) {
	src, err := decodeExtension(name, data)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	loader.Context = ctx
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, &ReadError{Document: name, Err: fmt.Errorf("not a loadable OpenAPI document: %w", err)}
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, &ReadError{Document: name, Err: fmt.Errorf("invalid OpenAPI document: %w", err)}
	}
	c := compiler{name: name, doc: doc, src: src, readFile: readFile}
	return c.compile()
}

// defaultFlowName derives a flow name from a document name: "openapi/simple.yaml" -> "simple".
func defaultFlowName(name string) string {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	return strings.TrimSuffix(base, path.Ext(base))
}
