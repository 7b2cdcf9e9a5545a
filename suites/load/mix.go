package load

import (
	"fmt"
	"strconv"
	"strings"
)

// Mix is the weight of each kind of request in a validate run, e.g.
// valid=90,invalid=5,missing=3,expired=2. The zero value is all valid.
type Mix [numKinds]int

// ParseMix reads "valid=90,invalid=5,missing=3,expired=2". Kinds left out
// get no requests.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for _, part := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		k, known := ParseKind(strings.TrimSpace(name))
		if !ok || !known || k == KindIssue {
			return m, fmt.Errorf("load: mix %q: write kind=weight pairs of valid, invalid, missing and expired, e.g. valid=90,invalid=5,missing=3,expired=2", s)
		}
		w, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || w < 0 {
			return m, fmt.Errorf("load: mix %q: weight of %s must be a whole number ≥ 0", s, name)
		}
		m[k] += w
	}
	if m.total() == 0 {
		return m, fmt.Errorf("load: mix %q has no weight: give at least one kind a weight above 0", s)
	}
	return m, nil
}

func (m Mix) total() int {
	n := 0
	for _, w := range m {
		n += w
	}
	return n
}

// String writes the mix as ParseMix reads it.
func (m Mix) String() string {
	var parts []string
	for k, w := range m {
		if w > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", Kind(k), w))
		}
	}
	return strings.Join(parts, ",")
}

// schedule spreads the kinds over one cycle of total() requests, each kind
// as evenly as it can be (smooth weighted round robin), so that any window
// of requests has close to the asked shares.
func (m Mix) schedule() []Kind {
	if m.total() == 0 {
		m[KindValid] = 1
	}
	total := m.total()
	out := make([]Kind, 0, total)
	var current Mix
	for range total {
		best := -1
		for k, w := range m {
			current[k] += w
			if w > 0 && (best < 0 || current[k] > current[best]) {
				best = k
			}
		}
		current[best] -= total
		out = append(out, Kind(best))
	}
	return out
}
