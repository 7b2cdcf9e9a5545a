package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// DuplicateMembers returns the names of the top-level members of a JSON
// object that occur more than once, in the order their repeats appear
// (encoding/json would silently keep the last value; RFC 6749 §3.2 forbids
// repeated request parameters, RFC 8259 §4 says names SHOULD be unique).
// On a body that is not a JSON object, or one that breaks off, it returns
// the repeats found so far and an error.
func DuplicateMembers(body []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("spec: duplicate members: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("spec: duplicate members: not a JSON object")
	}
	seen := map[string]bool{}
	var dups []string
	for dec.More() {
		keyTok, err := dec.Token()
		if err != nil {
			return dups, fmt.Errorf("spec: duplicate members: %w", err)
		}
		key, _ := keyTok.(string) // object keys are always strings
		if seen[key] {
			dups = append(dups, key)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return dups, fmt.Errorf("spec: duplicate members: %w", err)
		}
	}
	return dups, nil
}
