package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// L5: every open-redirect form of next falls back to /.
func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/account", "/account"},
		{"/account?tab=orders#top", "/account?tab=orders#top"},
		{"", "/"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/\\/evil.example", "/"},
		{"https://evil.example", "/"},
		{"http:/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r\nLocation: https://evil.example", "/"},
		{"/a\\b", "/"},
		{"evil.example", "/"},
		{"/" + strings.Repeat("a", 3000), "/"},
	} {
		if got := SafeNext(tc.in); got != tc.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// L12: Keys rotate: the first seals, all open; a value sealed under a key no
// longer listed, or moved to another store key, does not open.
func TestKeyringRotation(t *testing.T) {
	k1, k2 := RandomKeys(), RandomKeys()
	b64 := func(k *Keyring) string { return base64.StdEncoding.EncodeToString(k.raw[0]) }
	old, err := ParseKeys(b64(k1))
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := ParseKeys(b64(k2) + ", " + b64(k1))
	if err != nil {
		t.Fatal(err)
	}
	sealed := old.Seal([]byte("session"), []byte("s:a"))
	if plain, err := rotated.Open(sealed, []byte("s:a")); err != nil || string(plain) != "session" {
		t.Errorf("the rotated keyring does not open the old value: %v", err)
	}
	if _, err := old.Open(rotated.Seal([]byte("x"), []byte("s:a")), []byte("s:a")); err == nil {
		t.Error("the new value opened under the old key alone: the first key does not seal")
	}
	if _, err := rotated.Open(sealed, []byte("s:b")); err == nil {
		t.Error("a value moved to another key opened")
	}
	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
		}
	}
}

// L8: The JWKS lists the key of the next period before it signs, and the
// previous one after: a team's cached key set verifies across a rotation.
func TestAssertionKeysRotateWithOverlap(t *testing.T) {
	s := newSigner(RandomKeys(), "https://shop.example")
	now := time.Now()
	sess := &Session{Sub: "sub-ada", hid: "h", Claims: map[string]any{"name": "Ada"}}
	tok, err := s.assertion(sess, "basket", now)
	if err != nil {
		t.Fatal(err)
	}
	var before jose.JSONWebKeySet
	_ = json.Unmarshal(s.JWKS(now), &before)

	later := now.Add(KeyPeriod)
	sess2 := &Session{Sub: "sub-ada", hid: "h2"}
	next, err := s.assertion(sess2, "basket", later)
	if err != nil {
		t.Fatal(err)
	}
	kid := func(raw string) string {
		j, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
		if err != nil {
			t.Fatal(err)
		}
		return j.Headers[0].KeyID
	}
	if kid(tok) == kid(next) {
		t.Fatal("the key did not rotate")
	}
	if len(before.Key(kid(next))) == 0 {
		t.Error("the next period's key was not published before it signed")
	}
	var after jose.JSONWebKeySet
	_ = json.Unmarshal(s.JWKS(later), &after)
	if len(after.Key(kid(tok))) == 0 {
		t.Error("the previous key left the JWKS as soon as it stopped signing")
	}
	j, _ := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA})
	var claims jwt.Claims
	var extra struct {
		Name string `json:"name"`
	}
	if err := j.Claims(before.Key(kid(tok))[0].Key, &claims, &extra); err != nil {
		t.Fatal(err)
	}
	if claims.Issuer != "https://shop.example" || claims.Subject != "sub-ada" || !claims.Audience.Contains("basket") || extra.Name != "Ada" {
		t.Errorf("claims %+v %+v", claims, extra)
	}
	if life := claims.Expiry.Time().Sub(claims.IssuedAt.Time()); life > 60*time.Second {
		t.Errorf("lifetime %v", life)
	}
}
