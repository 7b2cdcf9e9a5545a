package spec

// ValidFlowName reports whether s can name a flow (x-tollgate.flow, a
// built-in flow's name): lower-case letters, digits, '-' and '_', the
// first a letter or digit.
func ValidFlowName(s string) bool { return validName(s) }

// ValidTokenType reports whether s can be a flow's token type
// (x-tollgate.token.type): an RFC 9110 token, as token_type values are
// (RFC 6749 §7.1).
func ValidTokenType(s string) bool { return validToken(s) }
