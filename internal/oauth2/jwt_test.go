package oauth2_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
)

// jwk is an RSA key of a JWKS.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// verifyIDToken checks an ID token's RS256 signature against Hydra's JWKS
// (the jwks_uri of its discovery document) and its standard claims, and
// returns the claims. No JOSE library: crypto/rsa does the work.
func (s *stack) verifyIDToken(raw, clientID, nonce string) map[string]any {
	t := s.t
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token is not a JWS: %q", raw)
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	decodeSegment(t, parts[0], &header)
	if header.Alg != "RS256" {
		t.Fatalf("ID token alg = %q, want RS256", header.Alg)
	}

	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if getJSON(t, strings.TrimRight(s.issuer, "/")+"/.well-known/openid-configuration", "", &disc) != 200 {
		t.Fatal("Hydra's discovery document")
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if getJSON(t, disc.JWKSURI, "", &set) != 200 {
		t.Fatalf("GET %s", disc.JWKSURI)
	}
	i := slices.IndexFunc(set.Keys, func(k jwk) bool { return k.Kid == header.Kid })
	if i < 0 {
		t.Fatalf("no key %q in Hydra's JWKS %s", header.Kid, disc.JWKSURI)
	}
	k := set.Keys[i]
	if k.Kty != "RSA" {
		t.Fatalf("key %s is %s, not RSA", k.Kid, k.Kty)
	}
	n, e := new(big.Int), new(big.Int)
	n.SetBytes(b64(t, k.N))
	e.SetBytes(b64(t, k.E))
	pub := &rsa.PublicKey{N: n, E: int(e.Int64())}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], b64(t, parts[2])); err != nil {
		t.Fatalf("ID token signature does not verify with Hydra's key %s: %v", k.Kid, err)
	}
	// A tampered payload must fail.
	tampered := sha256.Sum256([]byte(parts[0] + "." + parts[1] + "x"))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, tampered[:], b64(t, parts[2])) == nil {
		t.Fatal("the signature check accepts anything")
	}

	var claims map[string]any
	decodeSegment(t, parts[1], &claims)
	if claims["iss"] != disc.Issuer {
		t.Errorf("iss = %v, want %s", claims["iss"], disc.Issuer)
	}
	aud, _ := claims["aud"].([]any)
	if !slices.Contains(aud, any(clientID)) {
		t.Errorf("aud = %v, want it to contain %s", claims["aud"], clientID)
	}
	if exp, _ := claims["exp"].(float64); time.Unix(int64(exp), 0).Before(time.Now()) {
		t.Errorf("exp = %v is in the past", claims["exp"])
	}
	if nonce != "" && claims["nonce"] != nonce {
		t.Errorf("nonce = %v, want %s", claims["nonce"], nonce)
	}
	return claims
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

func decodeSegment(t *testing.T, seg string, out any) {
	t.Helper()
	if err := json.Unmarshal(b64(t, seg), out); err != nil {
		t.Fatalf("JWT segment: %v", err)
	}
}
