package config

import (
	"slices"
	"strings"
)

// Cookies says which of the shopper's cookies a service gets. In YAML it
// is true (all), false (none, the default) or a list of cookie names:
//
//	cookies: [basket_id]
type Cookies struct {
	// All forwards every cookie.
	All bool
	// Names lists the cookies forwarded when All is false.
	Names []string

	bad bool // the YAML value was neither a bool nor a list of strings
}

// UnmarshalYAML reads true, false or a list of names.
func (c *Cookies) UnmarshalYAML(unmarshal func(any) error) error {
	var all bool
	if err := unmarshal(&all); err == nil {
		*c = Cookies{All: all}
		return nil
	}
	var names []string
	if err := unmarshal(&names); err == nil {
		*c = Cookies{Names: names}
		return nil
	}
	*c = Cookies{bad: true} // reported with its position by validate
	return nil
}

// Any reports whether the service gets any cookie at all.
func (c Cookies) Any() bool { return c.All || len(c.Names) > 0 }

// Filter returns the Cookie header lines with only the cookies the service
// may have: all of them, none (nil), or the named ones, joined into one
// line. The lines are never modified.
func (c Cookies) Filter(lines []string) []string {
	switch {
	case c.All:
		return lines
	case len(c.Names) == 0 || len(lines) == 0:
		return nil
	}
	var b strings.Builder
	for _, line := range lines {
		for pair := range strings.SplitSeq(line, ";") {
			pair = strings.TrimSpace(pair)
			name, _, _ := strings.Cut(pair, "=")
			if !slices.Contains(c.Names, strings.TrimSpace(name)) {
				continue
			}
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(pair)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return []string{b.String()}
}

// validCookieName accepts an RFC 6265 cookie name: an HTTP token.
func validCookieName(name string) bool {
	if name == "" || len(name) > 256 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}
