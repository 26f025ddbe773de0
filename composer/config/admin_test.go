package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const minimal = "services:\n  shell:\n    url: http://127.0.0.1:9101\n"

// I4: the admin token comes from $INLAY_ADMIN_TOKEN, else
// admin_token_file, else admin_token; a short one is refused, and no
// error quotes it.
func TestReadAdminToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("token", "  from-the-file-0123456789\n")
	write("short", "short\n")
	write("empty", "\n")
	cases := []struct {
		name, yaml, env string
		want, err       string
	}{
		{name: "none", yaml: "admin: 127.0.0.1:9090\n"},
		{name: "admin_token", yaml: "admin_token: from-the-config-0123\n", want: "from-the-config-0123"},
		{name: "admin_token_file, relative to the config, trimmed", yaml: "admin_token_file: token\n", want: "from-the-file-0123456789"},
		{name: "the environment wins over the file", yaml: "admin_token_file: token\n", env: "from-the-env-0123456789", want: "from-the-env-0123456789"},
		{name: "the environment wins over admin_token", yaml: "admin_token: from-the-config-0123\n", env: "from-the-env-0123456789", want: "from-the-env-0123456789"},
		{name: "a missing file", yaml: "admin_token_file: none\n", err: "admin_token_file: open " + filepath.Join(dir, "none")},
		{name: "an empty file", yaml: "admin_token_file: empty\n", err: "admin_token_file " + filepath.Join(dir, "empty") + " is empty"},
		{name: "a short file", yaml: "admin_token_file: short\n", err: "at least 16 characters"},
		{name: "a short environment", env: "1", err: "$INLAY_ADMIN_TOKEN: the admin token must be at least 16 characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(AdminTokenEnv, tc.env)
			c, err := Parse(filepath.Join(dir, "inlay.yaml"), []byte(minimal+tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.ReadAdminToken()
			if tc.err == "" && (err != nil || got != tc.want) {
				t.Errorf("ReadAdminToken = %q, %v; want %q", got, err, tc.want)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("ReadAdminToken = %q, %v; want an error with %q", got, err, tc.err)
			}
			if err != nil && (strings.Contains(err.Error(), "short\n") || tc.env != "" && strings.Contains(err.Error(), ": "+tc.env)) {
				t.Errorf("the error quotes the token: %v", err)
			}
			if c.HasAdminToken() != (tc.yaml != "admin: 127.0.0.1:9090\n" || tc.env != "") {
				t.Errorf("HasAdminToken = %t", c.HasAdminToken())
			}
		})
	}
}

// I4: a short admin_token, or admin_token with admin_token_file, is a
// config problem at its line that does not quote the token.
func TestAdminTokenProblems(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"admin_token: \"1\"\n", "c.yaml:4:14: admin_token: the admin token must be at least 16 characters"},
		{"admin_token: from-the-config-0123\nadmin_token_file: token\n", "c.yaml:5:19: admin_token and admin_token_file are both set"},
		{"admin: \"9090\"\n", `c.yaml:4:8: admin "9090": write HOST:PORT`},
	}
	for _, tc := range cases {
		_, err := Parse("c.yaml", []byte(minimal+tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.want)
		}
		if strings.Contains(tc.yaml, "0123") && strings.Contains(err.Error(), "0123") {
			t.Errorf("the problem quotes the token: %v", err)
		}
	}
}

// I4: which admin addresses other machines reach.
func TestAdminExposed(t *testing.T) {
	for addr, want := range map[string]bool{
		"":               false,
		"127.0.0.1:9090": false,
		"127.0.0.2:9090": false,
		"[::1]:9090":     false,
		"localhost:9090": false,
		":9090":          true,
		"0.0.0.0:9090":   true,
		"[::]:9090":      true,
		"10.0.0.5:9090":  true,
		"inlay:9090":     true,
	} {
		if got := (&Config{Admin: addr}).AdminExposed(); got != want {
			t.Errorf("AdminExposed(%q) = %t, want %t", addr, got, want)
		}
	}
}
