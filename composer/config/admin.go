package config

// The admin listener's token and address.

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// AdminTokenEnv is the environment variable that holds the admin token.
// When set, it wins over admin_token and admin_token_file.
const AdminTokenEnv = "INLAY_ADMIN_TOKEN"

// MinAdminToken is the shortest admin token accepted, in bytes.
const MinAdminToken = 16

// ReadAdminToken returns the admin listener's bearer token: the value of
// $INLAY_ADMIN_TOKEN when it is set, else the contents of
// admin_token_file, else admin_token. "" means none: the admin listener
// then asks for no token. A token shorter than MinAdminToken is an error.
// No error quotes the token.
func (c *Config) ReadAdminToken() (string, error) {
	token, from := os.Getenv(AdminTokenEnv), "$"+AdminTokenEnv
	switch {
	case token != "":
	case c.AdminTokenFile != "":
		data, err := os.ReadFile(c.AdminTokenPath())
		if err != nil {
			return "", fmt.Errorf("admin_token_file: %w", err)
		}
		token, from = strings.TrimSpace(string(data)), "admin_token_file "+c.AdminTokenPath()
		if token == "" {
			return "", fmt.Errorf("%s is empty", from)
		}
	default:
		token, from = c.AdminToken, "admin_token"
	}
	if token != "" && len(token) < MinAdminToken {
		return "", fmt.Errorf("%s: %s", from, shortToken)
	}
	return token, nil
}

// shortToken says why a short admin token is refused, and how to make one.
var shortToken = fmt.Sprintf("the admin token must be at least %d characters; make one with: openssl rand -hex 32", MinAdminToken)

// AdminTokenPath returns admin_token_file, resolved against the config
// file's folder.
func (c *Config) AdminTokenPath() string {
	if c.AdminTokenFile == "" || filepath.IsAbs(c.AdminTokenFile) {
		return c.AdminTokenFile
	}
	return filepath.Join(filepath.Dir(c.File), c.AdminTokenFile)
}

// HasAdminToken reports whether the config or the environment names an
// admin token, without reading admin_token_file.
func (c *Config) HasAdminToken() bool {
	return c.AdminToken != "" || c.AdminTokenFile != "" || os.Getenv(AdminTokenEnv) != ""
}

// AdminExposed reports whether the admin listener binds an address that
// other machines can reach: any host but localhost and loopback
// addresses. An empty host (":9090") and 0.0.0.0 bind every interface.
func (c *Config) AdminExposed() bool {
	if c.Admin == "" {
		return false
	}
	host, _, err := net.SplitHostPort(c.Admin)
	if err != nil {
		return true
	}
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
