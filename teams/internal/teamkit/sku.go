package teamkit

// MaxSKULen is the longest valid SKU.
const MaxSKULen = 32

// ValidSKU reports whether s is a well-formed SKU: 1 to 32 characters, each
// a lowercase ASCII letter, a digit or a hyphen (^[a-z0-9-]{1,32}$).
func ValidSKU(s string) bool {
	if len(s) == 0 || len(s) > MaxSKULen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
