package gateway

// How roomgate's cookies are sealed: one AEAD per session secret, made
// once, for the session, its token cookies and the sign-in state.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// sealer encrypts and authenticates cookie values with AES-256-GCM under a
// key derived from each session secret: the first seals, all open, so a
// secret can be rotated. The cookie's name is the additional data, so a
// value never opens under another name.
type sealer struct {
	aeads []cipher.AEAD
}

func newSealer(secrets []string, purpose string) (*sealer, error) {
	s := &sealer{}
	for _, secret := range secrets {
		block, err := aes.NewCipher(derive(secret, purpose+" aead"))
		if err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
		s.aeads = append(s.aeads, gcm)
	}
	if len(s.aeads) == 0 {
		return nil, errors.New("gateway: no session secret")
	}
	return s, nil
}

// seal returns plain sealed for the cookie name, base64url: a random
// 96-bit nonce, then the ciphertext and its tag.
func (s *sealer) seal(name string, plain []byte) string {
	a := s.aeads[0]
	out := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	rand.Read(out)
	out = a.Seal(out, out, plain, []byte(name))
	return base64.RawURLEncoding.EncodeToString(out)
}

// open returns what seal sealed for name, trying every key.
func (s *sealer) open(name, value string) ([]byte, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return nil, false
	}
	for _, a := range s.aeads {
		if len(raw) < a.NonceSize()+a.Overhead() {
			return nil, false
		}
		if plain, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], []byte(name)); err == nil {
			return plain, true
		}
	}
	return nil, false
}
