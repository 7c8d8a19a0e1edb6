package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-socketio/echo-socketio/auth"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// refusals runs every kind of bad token against one server configured with HS256, RS256 and
// ES256 keys by kid, an issuer and an audience.
func TestRefusals(t *testing.T) {
	rk, ek := keys(t)
	cfg := auth.Config{
		SigningKey:  hmacKey,
		SigningKeys: map[string]any{"rsa": &rk.PublicKey, "ec": &ek.PublicKey},
		Issuer:      "https://issuer.example",
		Audience:    []string{"chat"},
		TokenLookup: "auth:token,header:Authorization:Bearer ,cookie:jwt",
	}
	var mu sync.Mutex
	var refused []*auth.Error
	cfg.OnRefused = func(_ *socketio.Socket, err *auth.Error) {
		mu.Lock()
		refused = append(refused, err)
		mu.Unlock()
	}
	ts := newServer(t, auth.JWT(cfg), nil)

	good := func(d time.Duration) jwt.MapClaims {
		c := valid(d)
		c["iss"], c["aud"] = "https://issuer.example", "chat"
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
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&rk.PublicKey))})
	rsaDER := must(x509.MarshalPKIXPublicKey(&rk.PublicKey))
	otherRSA := sign(t, jwt.SigningMethodRS256, mustRSA(t), good(time.Hour), map[string]any{"kid": "rsa"})
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good(time.Hour), nil)

	cases := []struct {
		name   string
		req    request
		reason auth.Reason
	}{
		{"nok, no token", request{}, auth.ReasonMissing},
		{"nok, empty auth payload field", request{auth: map[string]any{"token": ""}}, auth.ReasonMissing},
		{"nok, null auth payload field", request{auth: map[string]any{"token": nil}}, auth.ReasonMissing},
		{"nok, auth token not a string", request{auth: map[string]any{"token": 42}}, auth.ReasonMalformed},
		{"nok, malformed", request{auth: map[string]any{"token": "not-a-jwt"}}, auth.ReasonMalformed},
		{"nok, bad base64", request{auth: map[string]any{"token": "a.b.c"}}, auth.ReasonMalformed},
		{"nok, 10,000 dots", request{auth: map[string]any{"token": strings.Repeat(".", 10000)}}, auth.ReasonMalformed},
		{"nok, 1 MB token", request{auth: map[string]any{"token": strings.Repeat("a", 1<<20)}}, auth.ReasonMalformed},
		{"nok, 1 MB token of dots and parts", request{auth: map[string]any{"token": strings.Repeat("eyJhbGciOiJIUzI1NiJ9.", 1<<20/21)}}, auth.ReasonMalformed},
		{"nok, alg none", request{auth: map[string]any{"token": none}}, auth.ReasonBadSignature},
		{"nok, HS256 signed with the RSA public key (PEM)", request{auth: map[string]any{
			"token": sign(t, jwt.SigningMethodHS256, rsaPEM, good(time.Hour), map[string]any{"kid": "rsa"})}}, auth.ReasonBadSignature},
		{"nok, HS256 signed with the RSA public key (DER)", request{auth: map[string]any{
			"token": sign(t, jwt.SigningMethodHS256, rsaDER, good(time.Hour), map[string]any{"kid": "rsa"})}}, auth.ReasonBadSignature},
		{"nok, HS256 with another secret", request{auth: map[string]any{
			"token": sign(t, jwt.SigningMethodHS256, []byte("another secret, thirty-two bytes"), good(time.Hour), nil)}}, auth.ReasonBadSignature},
		{"nok, RS256 with another key", request{auth: map[string]any{"token": otherRSA}}, auth.ReasonBadSignature},
		{"nok, tampered payload", request{auth: map[string]any{"token": tamper(sign(t, jwt.SigningMethodHS256, hmacKey, good(time.Hour), nil))}}, auth.ReasonBadSignature},
		{"nok, unknown kid", request{auth: map[string]any{
			"token": sign(t, jwt.SigningMethodRS256, rk, good(time.Hour), map[string]any{"kid": "gone"})}}, auth.ReasonBadSignature},
		{"nok, expired and forged", request{auth: map[string]any{
			"token": sign(t, jwt.SigningMethodHS256, []byte("another secret, thirty-two bytes"), good(-time.Hour), nil)}}, auth.ReasonBadSignature},
		{"nok, expired", request{auth: map[string]any{"token": sign(t, jwt.SigningMethodHS256, hmacKey, good(-time.Minute), nil)}}, auth.ReasonExpired},
		{"nok, nbf in the future", request{auth: map[string]any{
			"token": sign(t, jwt.SigningMethodHS256, hmacKey, with("nbf", time.Now().Add(time.Hour).Unix()), nil)}}, auth.ReasonNotYetValid},
		{"nok, iat in the future", request{auth: map[string]any{
			"token": sign(t, jwt.SigningMethodHS256, hmacKey, with("iat", time.Now().Add(time.Hour).Unix()), nil)}}, auth.ReasonNotYetValid},
		{"nok, wrong aud", request{auth: map[string]any{"token": sign(t, jwt.SigningMethodHS256, hmacKey, with("aud", "admin"), nil)}}, auth.ReasonWrongAudience},
		{"nok, no iss", request{auth: map[string]any{"token": sign(t, jwt.SigningMethodHS256, hmacKey, with("iss", nil), nil)}}, auth.ReasonWrongIssuer},
		{"nok, no aud", request{auth: map[string]any{"token": sign(t, jwt.SigningMethodHS256, hmacKey, with("aud", nil), nil)}}, auth.ReasonWrongAudience},
		{"nok, wrong iss", request{auth: map[string]any{"token": sign(t, jwt.SigningMethodHS256, hmacKey, with("iss", "https://evil.example"), nil)}}, auth.ReasonWrongIssuer},
		{"nok, no exp", request{auth: map[string]any{"token": sign(t, jwt.SigningMethodHS256, hmacKey, with("exp", nil), nil)}}, auth.ReasonInvalidClaims},
		{"nok, exp not a number", request{auth: map[string]any{"token": sign(t, jwt.SigningMethodHS256, hmacKey, with("exp", "tomorrow"), nil)}}, auth.ReasonInvalidClaims},
		{"nok, token in the query, which the lookup does not allow", request{query: url.Values{
			"token": {sign(t, jwt.SigningMethodHS256, hmacKey, good(time.Hour), nil)}}}, auth.ReasonMissing},
		{"nok, header without the Bearer prefix", request{header: http.Header{
			"Authorization": {sign(t, jwt.SigningMethodHS256, hmacKey, good(time.Hour), nil)}}}, auth.ReasonMissing},
		{"nok, expired token in a cookie", request{header: http.Header{
			"Cookie": {"jwt=" + sign(t, jwt.SigningMethodHS256, hmacKey, good(-time.Minute), nil)}}}, auth.ReasonExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ts.connect(t, c.req)
			if got.SID != "" {
				t.Fatalf("connected: %v", got)
			}
			if got.Message != auth.Message || got.Data["reason"] != string(c.reason) || got.Data["code"] != 401.0 || len(got.Data) != 2 {
				t.Fatalf("got %s, want reason %q", got.Raw, c.reason)
			}
			// Nothing about the keys reaches the client.
			for _, secret := range []string{string(hmacKey), "rsa", "gone", "kid", "key"} {
				if strings.Contains(strings.ToLower(got.Raw), secret) {
					t.Errorf("the refusal %s mentions %q", got.Raw, secret)
				}
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(refused) != len(cases) {
		t.Errorf("OnRefused called %d times for %d refusals", len(refused), len(cases))
	}
	for _, e := range refused {
		if e.Reason != auth.ReasonMissing && errors.Unwrap(e) == nil {
			t.Errorf("refusal %v has no cause", e)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	claims := must(base64.RawURLEncoding.DecodeString(parts[1]))
	claims = []byte(strings.Replace(string(claims), `"ada"`, `"eve"`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(claims)
	return strings.Join(parts, ".")
}

func mustRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
