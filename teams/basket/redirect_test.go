package basket

import (
	"strings"
	"testing"
)

func TestSafeReturn(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"/product/sneaker-01", "/product/sneaker-01"},
		{"/", "/"},
		{"/search?q=red+shoes#top", "/search?q=red+shoes#top"},
		{"/a:b", "/a:b"},
		{"", "/basket"},
		{"//evil.example", "/basket"},
		{"//evil.example/path", "/basket"},
		{"///evil.example", "/basket"},
		{`/\evil.example`, "/basket"},
		{`/x\y`, "/basket"},
		{"https://evil.example", "/basket"},
		{"http:/evil.example", "/basket"},
		{"javascript:alert(1)", "/basket"},
		{"evil.example", "/basket"},
		{"/\t/evil.example", "/basket"},
		{"/ok\r\nSet-Cookie: x=1", "/basket"},
		{"/ok\n", "/basket"},
		{"/\x00", "/basket"},
		{"/%zz", "/basket"},
		{"/" + strings.Repeat("a", maxReturnLen), "/basket"},
		{"/" + strings.Repeat("a", maxReturnLen-1), "/" + strings.Repeat("a", maxReturnLen-1)},
	}
	for _, tt := range tests {
		if got := safeReturn(tt.in); got != tt.want {
			t.Errorf("safeReturn(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
