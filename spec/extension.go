package spec

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tollgate/tollgate/spec/yamlnode"
	"go.yaml.in/yaml/v3"
)

// ExtensionKey is the name of the vendor extension that carries what OpenAPI
// cannot say about a flow. It sits at the top level of the document.
const ExtensionKey = "x-tollgate"

// extension is the x-tollgate object as written in the document. Field names
// are the YAML keys; docs/flow-documents.md documents each.
type extension struct {
	Flow          string      `yaml:"flow"`
	Profile       string      `yaml:"profile"`
	Realm         string      `yaml:"realm"`
	ErrorDialect  string      `yaml:"errorDialect"`
	Token         tokenExt    `yaml:"token"`
	TokenEndpoint endpointExt `yaml:"tokenEndpoint"`
	// RevocationEndpoint (RFC 7009) and IntrospectionEndpoint (RFC 7662)
	// are optional; nil when the document does not declare them.
	RevocationEndpoint    *clientEndpointExt `yaml:"revocationEndpoint"`
	IntrospectionEndpoint *clientEndpointExt `yaml:"introspectionEndpoint"`
	// JWKSURI and MetadataURL say where the JWK Set and the authorization
	// server metadata are, when not where discovery would find them.
	JWKSURI     string `yaml:"jwksUri"`
	MetadataURL string `yaml:"metadataUrl"`
	// Optional names the capabilities (Capabilities) that a server
	// implementing the flow's source document may lack.
	Optional []string `yaml:"optional"`
	// GraphQL declares the flow's protected GraphQL endpoint; nil when
	// the flow has none (graphql.go).
	GraphQL *graphqlExt `yaml:"graphql"`
}

// clientEndpointExt declares an operation a client calls with its own
// credentials about a token: revocation or introspection.
type clientEndpointExt struct {
	OperationID string           `yaml:"operationId"`
	ClientAuth  []string         `yaml:"clientAuth"`
	Request     clientRequestExt `yaml:"request"`
}

type clientRequestExt struct {
	ClientID      string `yaml:"clientId"`
	ClientSecret  string `yaml:"clientSecret"`
	Token         string `yaml:"token"`
	TokenTypeHint string `yaml:"tokenTypeHint"`
}

type tokenExt struct {
	Format    string `yaml:"format"`
	Type      string `yaml:"type"`
	Lifetime  int    `yaml:"lifetime"`
	Algorithm string `yaml:"algorithm"`
	Claims    string `yaml:"claims"`
}

type endpointExt struct {
	OperationID string      `yaml:"operationId"`
	ClientAuth  []string    `yaml:"clientAuth"`
	GrantType   string      `yaml:"grantType"`
	Request     requestExt  `yaml:"request"`
	Response    responseExt `yaml:"response"`
}

type requestExt struct {
	ClientID     string `yaml:"clientId"`
	ClientSecret string `yaml:"clientSecret"`
	GrantType    string `yaml:"grantType"`
	Scope        string `yaml:"scope"`
}

type responseExt struct {
	AccessToken string `yaml:"accessToken"`
	TokenType   string `yaml:"tokenType"`
	ExpiresIn   string `yaml:"expiresIn"`
	Scope       string `yaml:"scope"`
	CreatedAt   string `yaml:"createdAt"`
}

// extensionSource is the decoded extension plus the YAML node it came from,
// so that later checks can name the line of the offending key.
type extensionSource struct {
	ext  extension
	node *yaml.Node // the x-tollgate mapping; nil when the document has none
}

// decodeExtension finds the x-tollgate object in the raw document and decodes
// it strictly: unknown keys and wrong types fail with their line.
func decodeExtension(name string, data []byte) (extensionSource, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return extensionSource{}, &ReadError{Document: name, Err: fmt.Errorf("not YAML or JSON: %w", err)}
	}
	node := yamlnode.Value(&root, ExtensionKey)
	if node == nil {
		return extensionSource{}, &ReadError{Document: name, Path: ExtensionKey,
			Err: errors.New("missing: add an x-tollgate object at the top level (see docs/flow-documents.md)")}
	}
	if node.Kind != yaml.MappingNode {
		return extensionSource{}, &ReadError{Document: name, Line: node.Line, Path: ExtensionKey, Err: errors.New("must be an object")}
	}
	if err := rejectUnknownKeys(name, node, ExtensionKey, extensionKeys()); err != nil {
		return extensionSource{}, err
	}
	var ext extension
	if err := node.Decode(&ext); err != nil {
		return extensionSource{}, &ReadError{Document: name, Path: ExtensionKey, Err: cleanYAMLError(err)}
	}
	return extensionSource{ext: ext, node: node}, nil
}

// extensionKeys lists the keys each object of the extension accepts, by dotted path.
func extensionKeys() map[string][]string {
	return map[string][]string{
		ExtensionKey:                                    {"flow", "profile", "realm", "errorDialect", "token", "tokenEndpoint", "revocationEndpoint", "introspectionEndpoint", "jwksUri", "metadataUrl", "optional", "graphql"},
		ExtensionKey + ".token":                         {"format", "type", "lifetime", "algorithm", "claims"},
		ExtensionKey + ".tokenEndpoint":                 {"operationId", "clientAuth", "grantType", "request", "response"},
		ExtensionKey + ".tokenEndpoint.request":         {"clientId", "clientSecret", "grantType", "scope"},
		ExtensionKey + ".tokenEndpoint.response":        {"accessToken", "tokenType", "expiresIn", "scope", "createdAt"},
		ExtensionKey + ".revocationEndpoint":            {"operationId", "clientAuth", "request"},
		ExtensionKey + ".revocationEndpoint.request":    {"clientId", "clientSecret", "token", "tokenTypeHint"},
		ExtensionKey + ".introspectionEndpoint":         {"operationId", "clientAuth", "request"},
		ExtensionKey + ".introspectionEndpoint.request": {"clientId", "clientSecret", "token", "tokenTypeHint"},
		ExtensionKey + ".graphql":                       {"path", "schema", "signalling", "errorCodes", "forbiddenCodes", "introspection", "scopeDirective", "limits"},
		ExtensionKey + ".graphql.limits":                {"maxQueryBytes", "maxDepth", "maxAliases", "maxBatch"},
	}
}

func rejectUnknownKeys(name string, node *yaml.Node, path string, known map[string][]string) error {
	allowed, ok := known[path]
	if !ok || node.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		if !slices.Contains(allowed, key.Value) {
			return &ReadError{Document: name, Line: key.Line, Path: path + "." + key.Value,
				Err: fmt.Errorf("unknown key (known keys here: %s)", strings.Join(allowed, ", "))}
		}
		if err := rejectUnknownKeys(name, value, path+"."+key.Value, known); err != nil {
			return err
		}
	}
	return nil
}

// lineOf returns the line of the value at a dotted path below the extension
// node (e.g. "token.format"), or of the deepest existing ancestor.
func (s extensionSource) lineOf(path string) int {
	node := s.node
	if node == nil {
		return 0
	}
	line := node.Line
	for _, key := range strings.Split(path, ".") {
		next := yamlnode.Value(node, key)
		if next == nil {
			return line
		}
		node, line = next, next.Line
	}
	return line
}

func cleanYAMLError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  ")
	return errors.New(strings.ReplaceAll(msg, "\n  ", "; "))
}
