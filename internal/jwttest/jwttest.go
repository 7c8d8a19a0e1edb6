// Package jwttest holds the tokens and the attack table that the tests of package auth (on
// sockets and on net/http) and of the Echo adapters' JWT middlewares share, so that every
// side refuses the same attacks with the same reasons.
package jwttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-socketio/echo-socketio/auth"
)

// HMACKey is the HMAC secret of the tests.
var HMACKey = []byte("a-test-secret-of-thirty-two-bytes!")

var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
)

// Keys returns an RSA and an ECDSA key, generated once per test binary.
func Keys(t testing.TB) (*rsa.PrivateKey, *ecdsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
	return rsaKey, ecKey
}

// NewRSA returns a new RSA key, other than Keys'.
func NewRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Sign signs claims with method and key, with the header fields in hdr.
func Sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.Claims, hdr map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range hdr {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// Valid returns claims valid for d: subject "ada", name "Ada".
func Valid(d time.Duration) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"sub": "ada", "iat": now.Unix(), "exp": now.Add(d).Unix(), "name": "Ada"}
}

// Must returns v, and panics on err.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Tamper changes the subject in a token's payload and keeps its signature.
func Tamper(tok string) string {
	parts := strings.Split(tok, ".")
	claims := Must(base64.RawURLEncoding.DecodeString(parts[1]))
	claims = []byte(strings.Replace(string(claims), `"ada"`, `"eve"`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(claims)
	return strings.Join(parts, ".")
}

// Issuer and Audience are those of AttackConfig.
const (
	Issuer   = "https://issuer.example"
	Audience = "chat"
)

// AttackConfig returns the configuration the attacks run against: HS256, RS256 and ES256 keys
// by kid, an issuer, an audience, and tokens in the auth payload, the Authorization header or
// the "jwt" cookie.
func AttackConfig(t testing.TB) auth.Config {
	rk, ek := Keys(t)
	return auth.Config{
		SigningKey:  HMACKey,
		SigningKeys: map[string]any{"rsa": &rk.PublicKey, "ec": &ek.PublicKey},
		Issuer:      Issuer,
		Audience:    []string{Audience},
		TokenLookup: "auth:token,header:Authorization:Bearer ,cookie:jwt",
	}
}

// Attack is a bad token, where the client puts it, and the reason of its refusal.
type Attack struct {
	Name string
	// Auth is the CONNECT auth payload of a socket. On HTTP, its "token" is sent as
	// "Authorization: Bearer <token>".
	Auth   map[string]any
	Header http.Header
	Query  url.Values
	Reason auth.Reason
}

// Attacks returns every kind of bad token, for AttackConfig.
func Attacks(t testing.TB) []Attack {
	rk, _ := Keys(t)
	good := func(d time.Duration) jwt.MapClaims {
		c := Valid(d)
		c["iss"], c["aud"] = Issuer, Audience
		return c
	}
	with := func(k string, v any) jwt.MapClaims {
		c := good(time.Hour)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	hs := func(c jwt.MapClaims) map[string]any {
		return map[string]any{"token": Sign(t, jwt.SigningMethodHS256, HMACKey, c, nil)}
	}
	tok := func(s string) map[string]any { return map[string]any{"token": s} }
	other := []byte("another secret, thirty-two bytes")
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: Must(x509.MarshalPKIXPublicKey(&rk.PublicKey))})
	rsaDER := Must(x509.MarshalPKIXPublicKey(&rk.PublicKey))

	return []Attack{
		{Name: "nok, no token", Reason: auth.ReasonMissing},
		{Name: "nok, empty auth payload field", Auth: tok(""), Reason: auth.ReasonMissing},
		{Name: "nok, null auth payload field", Auth: map[string]any{"token": nil}, Reason: auth.ReasonMissing},
		{Name: "nok, auth token not a string", Auth: map[string]any{"token": 42}, Reason: auth.ReasonMalformed},
		{Name: "nok, malformed", Auth: tok("not-a-jwt"), Reason: auth.ReasonMalformed},
		{Name: "nok, bad base64", Auth: tok("a.b.c"), Reason: auth.ReasonMalformed},
		{Name: "nok, 10,000 dots", Auth: tok(strings.Repeat(".", 10000)), Reason: auth.ReasonMalformed},
		{Name: "nok, 1 MB token", Auth: tok(strings.Repeat("a", 1<<20)), Reason: auth.ReasonMalformed},
		{Name: "nok, 1 MB token of dots and parts", Auth: tok(strings.Repeat("eyJhbGciOiJIUzI1NiJ9.", 1<<20/21)), Reason: auth.ReasonMalformed},
		{Name: "nok, alg none", Auth: tok(Sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good(time.Hour), nil)), Reason: auth.ReasonBadSignature},
		{Name: "nok, HS256 signed with the RSA public key (PEM)", Auth: tok(Sign(t, jwt.SigningMethodHS256, rsaPEM, good(time.Hour), map[string]any{"kid": "rsa"})), Reason: auth.ReasonBadSignature},
		{Name: "nok, HS256 signed with the RSA public key (DER)", Auth: tok(Sign(t, jwt.SigningMethodHS256, rsaDER, good(time.Hour), map[string]any{"kid": "rsa"})), Reason: auth.ReasonBadSignature},
		{Name: "nok, HS256 with another secret", Auth: tok(Sign(t, jwt.SigningMethodHS256, other, good(time.Hour), nil)), Reason: auth.ReasonBadSignature},
		{Name: "nok, RS256 with another key", Auth: tok(Sign(t, jwt.SigningMethodRS256, NewRSA(t), good(time.Hour), map[string]any{"kid": "rsa"})), Reason: auth.ReasonBadSignature},
		{Name: "nok, tampered payload", Auth: tok(Tamper(Sign(t, jwt.SigningMethodHS256, HMACKey, good(time.Hour), nil))), Reason: auth.ReasonBadSignature},
		{Name: "nok, unknown kid", Auth: tok(Sign(t, jwt.SigningMethodRS256, rk, good(time.Hour), map[string]any{"kid": "gone"})), Reason: auth.ReasonBadSignature},
		{Name: "nok, expired and forged", Auth: tok(Sign(t, jwt.SigningMethodHS256, other, good(-time.Hour), nil)), Reason: auth.ReasonBadSignature},
		{Name: "nok, expired", Auth: hs(good(-time.Minute)), Reason: auth.ReasonExpired},
		{Name: "nok, nbf in the future", Auth: hs(with("nbf", time.Now().Add(time.Hour).Unix())), Reason: auth.ReasonNotYetValid},
		{Name: "nok, iat in the future", Auth: hs(with("iat", time.Now().Add(time.Hour).Unix())), Reason: auth.ReasonNotYetValid},
		{Name: "nok, wrong aud", Auth: hs(with("aud", "admin")), Reason: auth.ReasonWrongAudience},
		{Name: "nok, no iss", Auth: hs(with("iss", nil)), Reason: auth.ReasonWrongIssuer},
		{Name: "nok, no aud", Auth: hs(with("aud", nil)), Reason: auth.ReasonWrongAudience},
		{Name: "nok, wrong iss", Auth: hs(with("iss", "https://evil.example")), Reason: auth.ReasonWrongIssuer},
		{Name: "nok, no exp", Auth: hs(with("exp", nil)), Reason: auth.ReasonInvalidClaims},
		{Name: "nok, exp not a number", Auth: hs(with("exp", "tomorrow")), Reason: auth.ReasonInvalidClaims},
		{Name: "nok, token in the query, which the lookup does not allow", Query: url.Values{"token": {Sign(t, jwt.SigningMethodHS256, HMACKey, good(time.Hour), nil)}}, Reason: auth.ReasonMissing},
		{Name: "nok, header without the Bearer prefix", Header: http.Header{"Authorization": {Sign(t, jwt.SigningMethodHS256, HMACKey, good(time.Hour), nil)}}, Reason: auth.ReasonMissing},
		{Name: "nok, expired token in a cookie", Header: http.Header{"Cookie": {"jwt=" + Sign(t, jwt.SigningMethodHS256, HMACKey, good(-time.Minute), nil)}}, Reason: auth.ReasonExpired},
	}
}

// Request returns the HTTP request of the attack at target, and false when the attack exists
// only in a socket's auth payload (a token that is not a string).
func (a Attack) Request(target string) (*http.Request, bool) {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range a.Header {
		r.Header[k] = v
	}
	if len(a.Query) > 0 {
		r.URL.RawQuery = a.Query.Encode()
	}
	if tok, ok := a.Auth["token"]; ok && tok != nil {
		s, ok := tok.(string)
		if !ok {
			return nil, false
		}
		r.Header.Set("Authorization", "Bearer "+s)
	}
	return r, true
}

// Secrets are words that no refusal may contain: the key, key IDs, names of the cause.
var Secrets = []string{string(HMACKey), "rsa", "gone", "kid", "key"}

// CheckHTTPRefusal checks that rec is the refusal of an HTTP request for reason: 401, the
// WWW-Authenticate challenge, and the body {message, code, reason} and nothing else.
func CheckHTTPRefusal(t testing.TB, rec *httptest.ResponseRecorder, reason auth.Reason) {
	t.Helper()
	var body map[string]any
	raw := rec.Body.String()
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		t.Fatalf("%d %q: %v", rec.Code, raw, err)
	}
	code := http.StatusUnauthorized
	if reason == auth.ReasonForbidden {
		code = http.StatusForbidden
	}
	if rec.Code != code || body["message"] != auth.Message || body["reason"] != string(reason) || body["code"] != float64(code) || len(body) != 3 {
		t.Fatalf("got %d %s, want %d and reason %q", rec.Code, raw, code, reason)
	}
	if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate %q", rec.Header().Get("WWW-Authenticate"))
	}
	for _, secret := range Secrets {
		if strings.Contains(strings.ToLower(raw), secret) {
			t.Errorf("the refusal %s mentions %q", raw, secret)
		}
	}
}
