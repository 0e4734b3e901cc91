package email

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// sealer encrypts secrets stored in the database (the SMTP password) with
// AES-256-GCM under a key derived from TRUSS_SECRET_KEY with HKDF-SHA256 and
// a purpose label, so the same secret can key other purposes independently.
// A sealed value is version byte 1 || 12-byte nonce || ciphertext+tag; the
// table and column are the associated data, so a value copied elsewhere
// does not open.
type sealer struct {
	aead cipher.AEAD
}

const sealVersion = 1

var sealAD = []byte("truss_internal.smtp_settings.password_enc")

// errNoSecretKey means TRUSS_SECRET_KEY is empty.
var errNoSecretKey = errors.New("TRUSS_SECRET_KEY is not set")

// errUndecryptable means the key changed since the value was sealed (or the
// value was tampered with).
var errUndecryptable = errors.New("the stored SMTP password cannot be decrypted with the current TRUSS_SECRET_KEY " +
	"(was it changed?); store it again with PUT /api/settings/smtp")

// newSealer returns nil when secret is empty: nothing can be sealed.
func newSealer(secret string) *sealer {
	if secret == "" {
		return nil
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, "truss smtp password v1", 32)
	if err != nil {
		panic(err) // only for impossible lengths
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &sealer{aead: aead}
}

func (s *sealer) seal(plain []byte) ([]byte, error) {
	if s == nil {
		return nil, errNoSecretKey
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := append([]byte{sealVersion}, nonce...)
	return s.aead.Seal(out, nonce, plain, sealAD), nil
}

func (s *sealer) open(sealed []byte) ([]byte, error) {
	if s == nil {
		return nil, errors.New("a password is stored but TRUSS_SECRET_KEY is not set, so it cannot be decrypted; " +
			"set the TRUSS_SECRET_KEY it was stored with, or store the password again")
	}
	n := s.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, errUndecryptable
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], sealAD)
	if err != nil {
		return nil, errUndecryptable
	}
	return plain, nil
}
