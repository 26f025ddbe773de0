package redisurl

import "testing"

func TestRedacted(t *testing.T) {
	cases := []struct{ in, want string }{
		{"redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"},
		{"redis://:pw@valkey:6379/0", "redis://:xxxxx@valkey:6379/0"},
		{"rediss://inlay:pw@valkey:6380", "rediss://inlay:xxxxx@valkey:6380"},
		{"redis://pw@valkey", "redis://xxxxx@valkey"},
		{"redis://:pw@[::1", "(unparsable URL)"},
	}
	for _, tc := range cases {
		if got := Redacted(tc.in); got != tc.want {
			t.Errorf("Redacted(%q) got %q, want %q", tc.in, got, tc.want)
		}
	}
}
