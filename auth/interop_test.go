package auth_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-socketio/echo-socketio/auth"
	"github.com/echo-socketio/echo-socketio/internal/jwttest"
	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/socketio"
)

type clientCase struct {
	Name       string            `json:"name"`
	Auth       map[string]any    `json:"auth,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	Query      map[string]string `json:"query,omitempty"`
	Transports []string          `json:"transports,omitempty"`
	reason     auth.Reason       // empty: must connect
}

func claimsHook(s *socketio.Socket) {
	s.On("claims", func(ack socketio.Ack) {
		c, ok := auth.Claims[*chatClaims](s)
		if !ok {
			_ = ack(nil)
			return
		}
		_ = ack(map[string]any{"sub": c.Subject, "name": c.Name})
	})
}

// TestInteropRefusals runs the refusals through the official client, over polling and over
// websocket, and reads connect_error's data as a browser app would.
func TestInteropRefusals(t *testing.T) {
	rk, ek := jwttest.Keys(t)
	cfg := auth.Config{
		SigningKeys: map[string]any{"hs": jwttest.HMACKey, "rsa": &rk.PublicKey, "ec": &ek.PublicKey},
		Issuer:      "https://issuer.example",
		Audience:    []string{"chat"},
		TokenLookup: "auth:token,header:Authorization:Bearer ,cookie:jwt",
		NewClaims:   func() jwt.Claims { return &chatClaims{} },
	}
	ts := newServer(t, auth.JWT(cfg), claimsHook)
	good := func(d time.Duration) jwt.MapClaims {
		c := jwttest.Valid(d)
		c["iss"], c["aud"] = "https://issuer.example", "chat"
		return c
	}
	with := func(k string, v any) jwt.MapClaims { c := good(time.Hour); c[k] = v; return c }
	hs := func(c jwt.MapClaims) string {
		return jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, c, map[string]any{"kid": "hs"})
	}
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: jwttest.Must(x509.MarshalPKIXPublicKey(&rk.PublicKey))})
	tok := func(s string) map[string]any { return map[string]any{"token": s} }

	var cases []clientCase
	for _, tr := range [][]string{{"polling"}, {"websocket"}} {
		add := func(c clientCase) {
			c.Name = tr[0] + ": " + c.Name
			c.Transports = tr
			cases = append(cases, c)
		}
		add(clientCase{Name: "ok, HS256", Auth: tok(hs(good(time.Hour)))})
		add(clientCase{Name: "ok, RS256 in the header", Headers: map[string]string{"Authorization": "Bearer " + jwttest.Sign(t, jwt.SigningMethodRS256, rk, good(time.Hour), map[string]any{"kid": "rsa"})}})
		add(clientCase{Name: "ok, ES256", Auth: tok(jwttest.Sign(t, jwt.SigningMethodES256, ek, good(time.Hour), map[string]any{"kid": "ec"}))})
		add(clientCase{Name: "nok, none", reason: auth.ReasonMissing})
		add(clientCase{Name: "nok, malformed", Auth: tok("garbage"), reason: auth.ReasonMalformed})
		add(clientCase{Name: "nok, 10,000 dots", Auth: tok("@dots"), reason: auth.ReasonMalformed})
		add(clientCase{Name: "nok, alg none", Auth: tok(jwttest.Sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good(time.Hour), map[string]any{"kid": "hs"})), reason: auth.ReasonBadSignature})
		add(clientCase{Name: "nok, HS256 with the RSA public key", Auth: tok(jwttest.Sign(t, jwt.SigningMethodHS256, rsaPEM, good(time.Hour), map[string]any{"kid": "rsa"})), reason: auth.ReasonBadSignature})
		add(clientCase{Name: "nok, bad signature", Auth: tok(jwttest.Sign(t, jwt.SigningMethodHS256, []byte("not the key, but thirty-two bytes"), good(time.Hour), map[string]any{"kid": "hs"})), reason: auth.ReasonBadSignature})
		add(clientCase{Name: "nok, expired", Auth: tok(hs(good(-time.Minute))), reason: auth.ReasonExpired})
		add(clientCase{Name: "nok, nbf in the future", Auth: tok(hs(with("nbf", time.Now().Add(time.Hour).Unix()))), reason: auth.ReasonNotYetValid})
		add(clientCase{Name: "nok, wrong aud", Auth: tok(hs(with("aud", "admin"))), reason: auth.ReasonWrongAudience})
		add(clientCase{Name: "nok, wrong iss", Auth: tok(hs(with("iss", "https://evil.example"))), reason: auth.ReasonWrongIssuer})
		add(clientCase{Name: "nok, unknown kid", Auth: tok(jwttest.Sign(t, jwt.SigningMethodRS256, rk, good(time.Hour), map[string]any{"kid": "old"})), reason: auth.ReasonBadSignature})
		add(clientCase{Name: "nok, 1 MB token", Auth: tok("@1MB"), reason: auth.ReasonMalformed})
		add(clientCase{Name: "nok, query not allowed", Query: map[string]string{"token": hs(good(time.Hour))}, reason: auth.ReasonMissing})
	}
	// Cookies: the Node XMLHttpRequest does not send a Cookie header, websocket does.
	cases = append(cases,
		clientCase{Name: "websocket: ok, cookie", Transports: []string{"websocket"}, Headers: map[string]string{"Cookie": "jwt=" + hs(good(time.Hour))}},
		clientCase{Name: "websocket: nok, expired cookie", Transports: []string{"websocket"}, Headers: map[string]string{"Cookie": "jwt=" + hs(good(-time.Minute))}, reason: auth.ReasonExpired},
	)
	js, _ := json.Marshal(cases)
	res := nodetest.Run(t, 60*time.Second, "auth-client.mjs", "URL="+ts.http.URL, "SCENARIO=cases", "CASES="+string(js))
	got := res.All("case")
	if len(got) != len(cases) {
		t.Fatalf("%d results for %d cases:\n%s\n%s", len(got), len(cases), res.Describe(), res.Stderr)
	}
	for i, c := range cases {
		e := got[i]
		if c.reason == "" {
			claims, _ := e["claims"].(map[string]any)
			if e["connected"] != true || claims["sub"] != "ada" || claims["name"] != "Ada" {
				t.Errorf("%s: %v", c.Name, e)
			}
			continue
		}
		data, _ := e["data"].(map[string]any)
		if e["connected"] != false || e.Str("message") != "unauthorized" || data["reason"] != string(c.reason) || data["code"] != 401.0 || len(data) != 2 {
			t.Errorf("%s: got %v, want reason %q", c.Name, e, c.reason)
		}
	}
}

// TestInteropExpiry: the official client sees auth_expired and "io server disconnect" at
// exp, then connects again with a fresh token through its auth callback.
func TestInteropExpiry(t *testing.T) {
	ts := newServer(t, auth.JWT(auth.Config{
		SigningKey: jwttest.HMACKey, DisconnectOnExpiry: true,
		NewClaims: func() jwt.Claims { return &chatClaims{} },
	}), claimsHook)
	short := jwttest.Valid(0)
	// Long enough for Node to start under the race detector; exp has a resolution of 1 s.
	short["exp"] = time.Now().Add(4 * time.Second).Unix()
	res := nodetest.Run(t, 30*time.Second, "auth-client.mjs", "URL="+ts.http.URL, "SCENARIO=expiry",
		"TOKEN="+jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, short, nil),
		"FRESH="+jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, jwttest.Valid(time.Hour), nil))
	exp := res.Find("expired")
	data, _ := exp["data"].(map[string]any)
	if exp == nil || exp.Str("reason") != "io server disconnect" || data["reason"] != "expired" || data["code"] != 401.0 {
		t.Fatalf("expiry: %v\n%s", exp, res.Describe())
	}
	re := res.Find("reconnected")
	claims, _ := re["claims"].(map[string]any)
	if re == nil || re["newId"] != true || claims["sub"] != "ada" {
		t.Fatalf("reconnect: %v\n%s", re, res.Describe())
	}
}
