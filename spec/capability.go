package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Capabilities a flow document may declare beyond token issuance and Bearer
// enforcement, by the names x-tollgate.optional and `tollgate check
// --require` use.
const (
	CapabilityRevocation    = "revocation"    // RFC 7009, x-tollgate.revocationEndpoint
	CapabilityIntrospection = "introspection" // RFC 7662, x-tollgate.introspectionEndpoint
	CapabilityGraphQL       = "graphql"       // a protected GraphQL endpoint, x-tollgate.graphql
)

// Capabilities returns the names of the capabilities a document can mark
// optional and a user can require.
func Capabilities() []string {
	return []string{CapabilityRevocation, CapabilityIntrospection, CapabilityGraphQL}
}

// CheckCapability fails, naming the known ones, when name is not a capability.
func CheckCapability(name string) error {
	if slices.Contains(Capabilities(), name) {
		return nil
	}
	return fmt.Errorf("unknown capability %q (known: %s)", name, strings.Join(Capabilities(), ", "))
}

// IsOptional reports whether the document marks capability as optional: a
// server that implements the flow's source document may lack it.
func (f *Flow) IsOptional(capability string) bool { return slices.Contains(f.Optional, capability) }

// Declares reports whether the document declares capability's endpoint.
func (f *Flow) Declares(capability string) bool {
	switch capability {
	case CapabilityRevocation:
		return f.Revocation != nil
	case CapabilityIntrospection:
		return f.Introspection != nil
	case CapabilityGraphQL:
		return f.GraphQL != nil
	}
	return false
}

// WithoutOptional returns a copy of f that declares none of the endpoints it
// marks optional: what a server implementing only the source document
// serves. f itself is unchanged; the copy shares its read-only parts.
func (f *Flow) WithoutOptional() *Flow {
	if len(f.Optional) == 0 {
		return f
	}
	c := *f
	if c.IsOptional(CapabilityRevocation) {
		c.Revocation = nil
	}
	if c.IsOptional(CapabilityIntrospection) {
		c.Introspection = nil
	}
	if c.IsOptional(CapabilityGraphQL) {
		c.GraphQL = nil
	}
	c.Optional = nil
	return &c
}

// compileOptional checks x-tollgate.optional: known capabilities, each
// declared by the document, none twice.
func (c *compiler) compileOptional(f *Flow) error {
	for i, name := range c.src.ext.Optional {
		if err := CheckCapability(name); err != nil {
			return c.extErr("optional", "%w", err)
		}
		if slices.Contains(c.src.ext.Optional[:i], name) {
			return c.extErr("optional", "lists %s twice", name)
		}
		if !f.Declares(name) {
			key := name + "Endpoint"
			if name == CapabilityGraphQL {
				key = name
			}
			return c.extErr("optional", "%s is optional, but the document declares no %s: declare it, or remove it from this list", name, key)
		}
	}
	f.Optional = append([]string(nil), c.src.ext.Optional...)
	slices.Sort(f.Optional)
	return nil
}
