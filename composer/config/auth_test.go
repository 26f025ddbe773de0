package config

import (
	"strings"
	"testing"
)

const authGood = `
public_url: https://shop.example
auth:
  issuer: https://login.example/realms/shop
  client_id: inlay
  client_secret_file: secrets/oidc
  claims: [name, email]
  session:
    idle: 30m
    max: 12h
services:
  basket:
    url: http://basket:8080
    identity: assertion
pages:
  - path: /account
    layout: account.html
    auth: required
gateway:
  - prefix: /basket/
    service: basket
    auth: optional
`

func TestParseAuthConfig(t *testing.T) {
	c, err := Parse("/etc/inlay/inlay.yaml", []byte(authGood))
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth == nil || c.Auth.ClientID != "inlay" || !c.Pages[0].RequiresAuth() || c.Gateway[0].RequiresAuth() {
		t.Fatalf("auth config read wrong: %+v", c.Auth)
	}
	if got := c.Services["basket"].IdentityMode(); got != IdentityAssertion {
		t.Errorf("identity %q", got)
	}
	if got := c.Path(c.Auth.ClientSecretFile); got != "/etc/inlay/secrets/oidc" {
		t.Errorf("secret file resolved to %q", got)
	}
	if got := c.Auth.ScopeList(); strings.Join(got, " ") != "openid profile email" {
		t.Errorf("default scopes %v", got)
	}
	if c.Auth.Session.IdleTimeout().Minutes() != 30 || c.Auth.Session.MaxAge().Hours() != 12 {
		t.Errorf("session lifetimes %v %v", c.Auth.Session.IdleTimeout(), c.Auth.Session.MaxAge())
	}
}

// L15: Bad auth config is reported with the $.path of what is wrong, as
// `inlay lint` prints it.
func TestAuthConfigProblems(t *testing.T) {
	base := "services:\n  basket:\n    url: http://basket:8080\n"
	for _, tc := range []struct {
		name, yaml, want string
		line             int
	}{
		{"issuer missing", "public_url: https://shop.example\nauth:\n  client_id: inlay\n" + base, "issuer is missing", 3},
		{"required without auth", base + "pages:\n  - path: /account\n    layout: a.html\n    auth: required\n", "auth: required needs an auth block", 7},
		{"gateway required without auth", base + "gateway:\n  - prefix: /b/\n    service: basket\n    auth: required\n", "auth: required needs an auth block", 7},
		{"public_url http outside dev", "public_url: http://shop.example\nauth:\n  issuer: https://login.example\n  client_id: inlay\n" + base, "must be https when auth is on", 1},
		{"public_url missing", "auth:\n  issuer: https://login.example\n  client_id: inlay\n" + base, "auth needs public_url", 1},
		{"issuer http", "public_url: https://shop.example\nauth:\n  issuer: http://login.example\n  client_id: inlay\n" + base, "must be https outside dev mode", 3},
		{"identity without auth", strings.Replace(base, "8080\n", "8080\n    identity: assertion\n", 1), "needs an auth block", 4},
		{"bad identity", strings.Replace(base, "8080\n", "8080\n    identity: cookie\n", 1), "identity must be none, assertion or access_token", 4},
		{"bad page auth", base + "pages:\n  - path: /a\n    layout: a.html\n    auth: maybe\n", "auth must be optional or required", 7},
		{"shared tier without keys", "public_url: https://shop.example\ncache:\n  shared:\n    url: redis://127.0.0.1:6379\nauth:\n  issuer: https://login.example\n  client_id: inlay\n" + base, "needs session keys", 6},
		{"idle over max", "public_url: https://shop.example\nauth:\n  issuer: https://login.example\n  client_id: inlay\n  session:\n    idle: 2h\n    max: 1h\n" + base, "must not be longer than max", 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvSessionKeys, "")
			_, err := Parse("inlay.yaml", []byte(tc.yaml))
			ps, ok := err.(Problems)
			if !ok {
				t.Fatalf("got %v, want problems", err)
			}
			for _, p := range ps {
				if strings.Contains(p.Message, tc.want) {
					if p.Line != tc.line {
						t.Errorf("%q at line %d, want %d", p.Message, p.Line, tc.line)
					}
					return
				}
			}
			t.Errorf("problems %v do not say %q", ps, tc.want)
		})
	}
}

// Dev mode lets the demo sign in over plain http on this machine.
func TestAuthConfigDevModeAllowsHTTP(t *testing.T) {
	_, err := Parse("inlay.yaml", []byte("dev: true\npublic_url: http://127.0.0.1:8080\nauth:\n  issuer: http://127.0.0.1:9000\n  client_id: inlay\nservices:\n  basket:\n    url: http://basket:8080\n"))
	if err != nil {
		t.Fatal(err)
	}
}
