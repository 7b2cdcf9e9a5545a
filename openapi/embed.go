// Package openapi holds the flow documents: one OpenAPI 3 document per token
// flow, embedded into the binary so that `tollgate serve` and `tollgate check`
// need no files on disk. The documents are data; package spec compiles them.
//
// See docs/flow-documents.md for the x-tollgate extension they carry.
package openapi

import (
	"embed"
	"io/fs"
)

//go:embed *.yaml *.graphql
var documents embed.FS

// FS returns the embedded flow documents, one "<flow>.yaml" file per flow,
// and the GraphQL schemas (SDL) they name, "<flow>.graphql".
func FS() fs.FS { return documents }
