package auth

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/config"
)

// BenchmarkSignedInRequest is what sign-in adds to one page of six boxes
// from two services with identity: assertion: the session read from the
// in-process store and the six identity headers (assertions reused).
func BenchmarkSignedInRequest(b *testing.B) {
	cfg, err := config.Parse("inlay.yaml", []byte("public_url: https://shop.example\nauth:\n  issuer: https://login.example\n  client_id: inlay\n"+
		"services:\n  search:\n    url: http://search\n    identity: assertion\n  basket:\n    url: http://basket\n    identity: assertion\n"))
	if err != nil {
		b.Fatal(err)
	}
	a, err := New(cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	id, now := newID(), time.Now()
	s := &Session{Sub: "sub-ada", Claims: map[string]any{"name": "Ada"}, AccessToken: "at", RefreshToken: "rt",
		Expiry: now.Add(time.Hour), Created: now, Seen: now, hid: hashID(id)}
	if err := a.save(context.Background(), s, true); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "theme=dark; "+CookieSession+"="+id)
	svcs := []*config.Service{cfg.Services["search"], cfg.Services["basket"]}
	b.ReportAllocs()
	for b.Loop() {
		ident := a.Resolve(req)
		for i := range 6 {
			if name, _ := ident.Field(svcs[i%2]); name != HeaderIdentity {
				b.Fatal("no identity header")
			}
		}
	}
}
