package auth

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of one session key, in bytes.
const KeySize = chacha20poly1305.KeySize

// Keyring seals and opens what the store holds: the first key seals, all
// of them open, so that keys can rotate.
type Keyring struct {
	raw   [][]byte
	aeads []cipher.AEAD
}

// ParseKeys reads a comma-separated list of base64 32-byte keys.
func ParseKeys(list string) (*Keyring, error) {
	var raw [][]byte
	for i, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			k, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		}
		if err != nil {
			return nil, fmt.Errorf("session key %d is not base64", i+1)
		}
		if len(k) != KeySize {
			return nil, fmt.Errorf("session key %d has %d bytes, want %d", i+1, len(k), KeySize)
		}
		raw = append(raw, k)
	}
	if len(raw) == 0 {
		return nil, errors.New("no session keys")
	}
	return newKeyring(raw)
}

// RandomKeys returns a keyring of one random key, for a single process.
func RandomKeys() *Keyring {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k)
	kr, _ := newKeyring([][]byte{k})
	return kr
}

// LoadKeys reads the session keys from file, or from the environment
// variable env when file is empty. Neither set means (nil, nil).
func LoadKeys(file, env string) (*Keyring, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading session keys: %w", err)
		}
		kr, err := ParseKeys(strings.ReplaceAll(string(data), "\n", ","))
		if err != nil {
			return nil, fmt.Errorf("session keys in %s: %w", file, err)
		}
		return kr, nil
	}
	if v := os.Getenv(env); v != "" {
		kr, err := ParseKeys(v)
		if err != nil {
			return nil, fmt.Errorf("session keys in %s: %w", env, err)
		}
		return kr, nil
	}
	return nil, nil
}

func newKeyring(raw [][]byte) (*Keyring, error) {
	kr := &Keyring{raw: raw}
	for _, k := range raw {
		a, err := chacha20poly1305.NewX(k)
		if err != nil {
			return nil, fmt.Errorf("session key: %w", err)
		}
		kr.aeads = append(kr.aeads, a)
	}
	return kr, nil
}

// Seal encrypts plain under the first key, bound to ad (the store key it
// is written under): nonce, then ciphertext and tag.
func (k *Keyring) Seal(plain, ad []byte) []byte {
	a := k.aeads[0]
	out := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	_, _ = rand.Read(out)
	return a.Seal(out, out, plain, ad)
}

// errOpen is the failure to open a sealed value under any key.
var errOpen = errors.New("sealed value does not open under any session key")

// Open decrypts what Seal made under any of the keys.
func (k *Keyring) Open(sealed, ad []byte) ([]byte, error) {
	for _, a := range k.aeads {
		if len(sealed) < a.NonceSize()+a.Overhead() {
			return nil, errOpen
		}
		if plain, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], ad); err == nil {
			return plain, nil
		}
	}
	return nil, errOpen
}
