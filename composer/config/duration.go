package config

import (
	"math"
	"time"
)

// Duration is a time.Duration written in YAML as a Go duration string such
// as "300ms" or "2s".
type Duration time.Duration

// badDuration marks a value that did not parse. The decoder cannot say where
// a custom type's error stands, so validation reports it with its position.
const badDuration = Duration(math.MinInt64)

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		*d = badDuration
		return nil
	}
	*d = Duration(v)
	return nil
}

// String formats the duration like time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// check describes what is wrong with d, or returns "".
func (d Duration) check() string {
	switch {
	case d == badDuration:
		return "bad duration: write it like 300ms or 2s"
	case d < 0:
		return "must be positive"
	case time.Duration(d) > 10*time.Minute:
		return "must be at most 10m"
	}
	return ""
}
