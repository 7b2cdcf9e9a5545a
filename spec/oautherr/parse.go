package oautherr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Sentinel errors wrapped by the violations in a [*ParseError].
var (
	ErrNotObject       = errors.New("oautherr: body is not a JSON object")
	ErrMissingCode     = errors.New("oautherr: missing or empty \"error\" member")
	ErrNotString       = errors.New("oautherr: member is not a string")
	ErrInvalidChar     = errors.New("oautherr: character outside the RFC 6749 §5.2 set")
	ErrDuplicateMember = errors.New("oautherr: duplicate member")
)

// ParseError lists the ways an error response body departs from
// RFC 6749 §5.2. Each violation wraps one of the Err* sentinels, so
// errors.Is(err, ErrInvalidChar) and the like work on a *ParseError.
type ParseError struct {
	Violations []error
}

// Error lists the violations on one line.
func (e *ParseError) Error() string {
	if len(e.Violations) == 1 {
		return e.Violations[0].Error()
	}
	msgs := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		msgs[i] = strings.TrimPrefix(v.Error(), "oautherr: ")
	}
	return fmt.Sprintf("oautherr: %d violations: %s", len(msgs), strings.Join(msgs, "; "))
}

// Unwrap returns the violations.
func (e *ParseError) Unwrap() []error { return e.Violations }

// Parse parses an error response body (RFC 6749 §5.2, RFC 6750 §3.1).
//
// It is lenient where the RFCs are: members other than error,
// error_description and error_uri are ignored, whatever their type. It
// reports as a [*ParseError] everything a conformance suite should flag:
// a body that is not a JSON object, a missing or empty "error", one of the
// three members that is not a string (null included) or appears more than
// once, and characters outside the RFC 6749 §5.2 sets.
//
// The returned *Error is non-nil whenever "error" is a string, even if
// there are violations; its Status is zero. Member names are matched
// exactly (JSON is case-sensitive); for a duplicated member the last value
// wins, as with encoding/json.
func Parse(body []byte) (*Error, error) {
	members := [...]string{"error", "error_description", "error_uri"}
	var probe json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, &ParseError{Violations: []error{fmt.Errorf("%w: %w", ErrNotObject, err)}}
	}
	if probe[0] != '{' { // Unmarshal trims surrounding whitespace
		return nil, &ParseError{Violations: []error{fmt.Errorf("%w: found %s", ErrNotObject, kind(probe))}}
	}
	var raw [len(members)]json.RawMessage
	var violations []error
	dec := json.NewDecoder(bytes.NewReader(probe))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, &ParseError{Violations: []error{fmt.Errorf("%w: %w", ErrNotObject, err)}}
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, &ParseError{Violations: []error{fmt.Errorf("%w: %w", ErrNotObject, err)}}
		}
		key, _ := tok.(string) // object keys are always strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, &ParseError{Violations: []error{fmt.Errorf("%w: %w", ErrNotObject, err)}}
		}
		for i, m := range members {
			if key == m {
				if raw[i] != nil {
					violations = append(violations, fmt.Errorf("%w: %q", ErrDuplicateMember, m))
				}
				raw[i] = v
			}
		}
	}

	var vals [len(members)]string
	var isString [len(members)]bool
	for i, m := range members {
		if raw[i] == nil {
			continue
		}
		if raw[i][0] != '"' {
			violations = append(violations, fmt.Errorf("%w: %q is %s", ErrNotString, m, kind(raw[i])))
			continue
		}
		if err := json.Unmarshal(raw[i], &vals[i]); err != nil {
			violations = append(violations, fmt.Errorf("%w: %q: %w", ErrNotString, m, err))
			continue
		}
		isString[i] = true
		if j := firstInvalid(vals[i], m == "error_uri"); j >= 0 {
			r, _ := utf8.DecodeRuneInString(vals[i][j:])
			violations = append(violations, fmt.Errorf("%w: %q has %U at byte %d of its value", ErrInvalidChar, m, r, j))
		}
	}
	if raw[0] == nil {
		violations = append(violations, fmt.Errorf("%w: no \"error\" member", ErrMissingCode))
	} else if isString[0] && vals[0] == "" {
		violations = append(violations, fmt.Errorf("%w: \"error\" is empty", ErrMissingCode))
	}

	var e *Error
	if isString[0] {
		e = &Error{Code: vals[0], Description: vals[1], URI: vals[2]}
	}
	if len(violations) > 0 {
		return e, &ParseError{Violations: violations}
	}
	return e, nil
}

// kind names the JSON type of a valid JSON value.
func kind(v json.RawMessage) string {
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
