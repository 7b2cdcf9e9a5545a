package mockserver

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration written as Go writes durations ("300ms",
// "2h"), in the control API's JSON as in the config file's YAML.
type Duration time.Duration

// String returns the duration as time.Duration writes it.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string, e.g. "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string such as "300ms" or "2h".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"300ms\" or \"2h\"")
	}
	return d.parse(s)
}

// UnmarshalYAML reads a duration string such as "300ms" or "2h".
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return fmt.Errorf("a duration is a string such as \"300ms\" or \"2h\"")
	}
	return d.parse(s)
}

func (d *Duration) parse(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it like \"300ms\", \"90s\" or \"2h\"", s)
	}
	*d = Duration(v)
	return nil
}
