package demo

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/inlayhq/inlay/composer/auth/oidcop"
	"github.com/inlayhq/inlay/composer/config"
)

// Shoppers are the demo provider's accounts, printed at start.
var Shoppers = []oidcop.Shopper{
	{ID: "demo-ada", Username: "ada", Password: "lovelace", Name: "Ada Lovelace", Email: "ada@shop.example"},
	{ID: "demo-grace", Username: "grace", Password: "hopper", Name: "Grace Hopper", Email: "grace@shop.example"},
}

// providerAddr is where the demo's OpenID provider listens when it can.
const providerAddr = "127.0.0.1:9104"

// clientID is the demo shop's client at its provider.
const clientID = "inlay-demo"

// SignIn is the demo's sign-in: a small OpenID provider (zitadel's OP
// library) with two shoppers, and the config that signs in with it.
type SignIn struct {
	// Issuer is the provider's URL.
	Issuer string
	// PublicURL is the shop's origin.
	PublicURL string
	secret    string
	stop      func()
}

// StartSignIn starts the demo's OpenID provider for the shop at
// publicURL, and logs its shoppers' names and passwords.
func StartSignIn(publicURL string, logger *slog.Logger) (*SignIn, error) {
	ln, err := net.Listen("tcp", providerAddr)
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, fmt.Errorf("starting the demo's OpenID provider: %w", err)
	}
	// 127.0.0.1, while the shop is localhost (see PublicURL): a browser
	// keeps cookies by host, not by port, so the provider's cookies stay
	// apart from the shop's.
	issuer := "http://127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	si := &SignIn{Issuer: issuer, PublicURL: publicURL, secret: hex.EncodeToString(secret)}
	op, err := oidcop.New(oidcop.Config{
		Issuer: issuer, ClientID: clientID, ClientSecret: si.secret,
		RedirectURIs: []string{publicURL + "/-/auth/callback"}, PostLogoutRedirectURIs: []string{publicURL + "/"},
		Shoppers: Shoppers,
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := &http.Server{Handler: op, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("demo OpenID provider stopped", slog.String("error", err.Error()))
		}
	}()
	si.stop = func() {
		_ = srv.Close()
		<-done
	}
	logger.Info("demo OpenID provider listening", slog.String("url", issuer))
	for _, s := range Shoppers {
		logger.Info("demo shopper", slog.String("username", s.Username), slog.String("password", s.Password), slog.String("name", s.Name))
	}
	return si, nil
}

// Stop stops the provider.
func (si *SignIn) Stop() { si.stop() }

// Apply makes cfg sign in with the demo's provider: the auth block, the
// shell's and the basket's identity, and the /account page that requires
// sign-in. The demo's YAML has none of it, so that it serves as it is
// without a provider.
func (si *SignIn) Apply(cfg *config.Config) {
	// The secret goes where Inlay reads it, never into the config.
	_ = os.Setenv(config.EnvClientSecret, si.secret)
	cfg.PublicURL = si.PublicURL
	cfg.Auth = &config.Auth{
		Issuer:   si.Issuer,
		ClientID: clientID,
		Scopes:   []string{"openid", "profile", "email", "offline_access"},
		Claims:   []string{"name", "email"},
	}
	for _, name := range []string{"shell", "basket"} {
		if svc := cfg.Services[name]; svc != nil {
			svc.Identity = config.IdentityAssertion
		}
	}
	if !slices.ContainsFunc(cfg.Pages, func(p *config.Page) bool { return p.Path == "/account" }) {
		cfg.Pages = append(cfg.Pages, &config.Page{Path: "/account", Layout: "account.html", Auth: config.AuthRequired})
	}
}

// PublicURL returns the shop's origin and the address to listen on for a
// listen address, with a free port picked for port 0: the provider must
// know the redirect URI before the shop starts. The address keeps the
// asked host: 0.0.0.0 listens on every interface. A shop on a loopback or
// unspecified address is http://localhost:PORT, the URL the banner prints
// and a shopper types on that machine, so that signing in brings the
// shopper back to the host they came from, with the cookies they had
// there.
func PublicURL(listen string) (publicURL, addr string, err error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", "", fmt.Errorf("listen address %q: %w", listen, err)
	}
	if port == "0" {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return "", "", err
		}
		port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
	}
	addr = net.JoinHostPort(host, port)
	if ip := net.ParseIP(host); host == "" || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		return "http://localhost:" + port, addr, nil
	}
	return "http://" + addr, addr, nil
}
