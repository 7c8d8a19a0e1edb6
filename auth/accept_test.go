package auth_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-socketio/echo-socketio/auth"
	"github.com/echo-socketio/echo-socketio/internal/jwttest"
	"github.com/echo-socketio/echo-socketio/socketio"
)

type chatClaims struct {
	Name string `json:"name"`
	jwt.RegisteredClaims
}

// claimsRecorder keeps the typed claims the connection hook read.
type claimsRecorder struct {
	mu     sync.Mutex
	claims map[string]*chatClaims
}

func (r *claimsRecorder) hook(s *socketio.Socket) {
	c, ok := auth.Claims[*chatClaims](s)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.claims == nil {
		r.claims = map[string]*chatClaims{}
	}
	r.claims[s.ID()] = c
}

func (r *claimsRecorder) get(id string) *chatClaims {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.claims[id]
}

func TestAcceptTypedClaims(t *testing.T) {
	rk, ek := jwttest.Keys(t)
	newClaims := func() jwt.Claims { return &chatClaims{} }
	claims := func() jwt.MapClaims { c := jwttest.Valid(time.Hour); c["iss"] = "me"; return c }
	cases := []struct {
		name   string
		config auth.Config
		req    request
	}{
		{"ok, HS256 in the auth payload", auth.Config{SigningKey: jwttest.HMACKey},
			request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, claims(), nil)}}},
		{"ok, RS256 in the Authorization header", auth.Config{SigningKey: &rk.PublicKey},
			request{header: http.Header{"Authorization": {"bearer " + jwttest.Sign(t, jwt.SigningMethodRS256, rk, claims(), nil)}}}},
		{"ok, ES256 by kid", auth.Config{SigningKeys: map[string]any{"ec": &ek.PublicKey, "rsa": &rk.PublicKey}},
			request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodES256, ek, claims(), map[string]any{"kid": "ec"})}}},
		{"ok, PS256 by kid", auth.Config{SigningKeys: map[string]any{"ec": &ek.PublicKey, "rsa": &rk.PublicKey}},
			request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodPS256, rk, claims(), map[string]any{"kid": "rsa"})}}},
		{"ok, query when allowed", auth.Config{SigningKey: jwttest.HMACKey, TokenLookup: "auth:token,query:token"},
			request{query: url.Values{"token": {jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, claims(), nil)}}}},
		{"ok, cookie", auth.Config{SigningKey: jwttest.HMACKey, TokenLookup: "cookie:jwt"},
			request{header: http.Header{"Cookie": {"theme=dark; jwt=" + jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, claims(), nil)}}}},
		{"ok, custom auth field", auth.Config{SigningKey: jwttest.HMACKey, TokenLookup: "auth:jwt"},
			request{auth: map[string]any{"jwt": jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, claims(), nil)}}},
		{"ok, the first source with a token wins", auth.Config{SigningKey: jwttest.HMACKey, TokenLookup: "query:token,auth:token"},
			request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, claims(), nil)}}},
		{"ok, KeyFunc", auth.Config{KeyFunc: func(*jwt.Token) (any, error) { return &ek.PublicKey, nil }},
			request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodES256, ek, claims(), nil)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &claimsRecorder{}
			c.config.NewClaims = newClaims
			c.config.Issuer = "me"
			ts := newServer(t, auth.JWT(c.config), rec.hook)
			got := ts.connect(t, c.req)
			if got.SID == "" {
				t.Fatalf("refused: %v", got)
			}
			var cl *chatClaims
			for range 100 {
				if cl = rec.get(got.SID); cl != nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if cl == nil || cl.Name != "Ada" || cl.Subject != "ada" || cl.Issuer != "me" {
				t.Fatalf("typed claims: %+v", cl)
			}
		})
	}
}

func TestMapClaimsByDefault(t *testing.T) {
	got := make(chan any, 1)
	ts := newServer(t, auth.JWT(auth.Config{SigningKey: jwttest.HMACKey}), func(s *socketio.Socket) {
		c, ok := auth.Claims[jwt.MapClaims](s)
		_, wrong := auth.Claims[*chatClaims](s)
		if !ok || wrong {
			got <- nil
			return
		}
		got <- c["name"]
	})
	if r := ts.connect(t, request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, jwttest.Valid(time.Hour), nil)}}); r.SID == "" {
		t.Fatalf("refused: %v", r)
	}
	if v := <-got; v != "Ada" {
		t.Fatalf("claims name %v", v)
	}
	if _, ok := auth.Claims[jwt.MapClaims](nil); ok {
		t.Fatal("claims of a nil socket")
	}
}

func TestValidateForbidden(t *testing.T) {
	var gotSub atomic.Value
	ts := newServer(t, auth.JWT(auth.Config{SigningKey: jwttest.HMACKey, Validate: func(_ *socketio.Socket, c jwt.Claims) error {
		sub, _ := c.GetSubject()
		gotSub.Store(sub)
		return errors.New("admins only: the secret reason")
	}}), nil)
	r := ts.connect(t, request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, jwttest.Valid(time.Hour), nil)}})
	if r.SID != "" || r.Data["reason"] != "forbidden" || r.Data["code"] != 403.0 || strings.Contains(r.Raw, "secret") {
		t.Fatalf("got %s", r.Raw)
	}
	if gotSub.Load() != "ada" {
		t.Fatalf("Validate saw %v", gotSub.Load())
	}
}

func TestMissingExpiryOptOut(t *testing.T) {
	ts := newServer(t, auth.JWT(auth.Config{SigningKey: jwttest.HMACKey, InsecureAllowMissingExpiry: true, DisconnectOnExpiry: true}), nil)
	c := jwttest.Valid(time.Hour)
	delete(c, "exp")
	if r := ts.connect(t, request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, c, nil)}}); r.SID == "" {
		t.Fatalf("refused: %v", r)
	}
}

func TestLeeway(t *testing.T) {
	ts := newServer(t, auth.JWT(auth.Config{SigningKey: jwttest.HMACKey, Leeway: time.Minute}), nil)
	if r := ts.connect(t, request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, jwttest.Valid(-10*time.Second), nil)}}); r.SID == "" {
		t.Fatalf("refused within the leeway: %v", r)
	}
	if r := ts.connect(t, request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, jwttest.Valid(-2*time.Minute), nil)}}); r.Data["reason"] != "expired" {
		t.Fatalf("accepted past the leeway: %v", r)
	}
}

func TestDisconnectOnExpiry(t *testing.T) {
	disconnected := make(chan socketio.DisconnectReason, 1)
	events := make(chan string, 4)
	ts := newServer(t, auth.JWT(auth.Config{SigningKey: jwttest.HMACKey, DisconnectOnExpiry: true}), func(s *socketio.Socket) {
		s.OnAnyOutgoing(func(event string, args []any) { events <- event })
		s.OnDisconnect(func(r socketio.DisconnectReason) { disconnected <- r })
	})
	start := time.Now()
	// exp has a resolution of one second: the token expires within 1 to 2 s.
	r := ts.connect(t, request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, jwt.MapClaims{"exp": time.Now().Add(2 * time.Second).Unix()}, nil)}})
	if r.SID == "" {
		t.Fatalf("refused: %v", r)
	}
	select {
	case reason := <-disconnected:
		if reason != socketio.ReasonServerNamespaceDisconnect {
			t.Fatalf("reason %q", reason)
		}
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Fatalf("disconnected after %v, before exp", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not disconnected at exp")
	}
	if ev := <-events; ev != auth.ExpiredEvent {
		t.Fatalf("event %q before the disconnect", ev)
	}
}

func TestExpiryTimerStopsOnDisconnect(t *testing.T) {
	fired := make(chan string, 1)
	ts := newServer(t, auth.JWT(auth.Config{SigningKey: jwttest.HMACKey, DisconnectOnExpiry: true}), func(s *socketio.Socket) {
		s.OnAnyOutgoing(func(event string, _ []any) { fired <- event })
		s.On("bye", func() { s.Disconnect(false) })
	})
	r := ts.connect(t, request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, jwt.MapClaims{"exp": time.Now().Add(2 * time.Second).Unix()}, nil)}})
	if r.SID == "" {
		t.Fatalf("refused: %v", r)
	}
	var s *socketio.Socket
	for range 100 {
		if s = ts.io.Of("/").Socket(r.SID); s != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s == nil {
		t.Fatal("socket not found")
	}
	s.Disconnect(false)
	select {
	case ev := <-fired:
		t.Fatalf("%q sent after the socket disconnected", ev)
	case <-time.After(2500 * time.Millisecond):
	}
}

func TestConfigErrors(t *testing.T) {
	rk, _ := jwttest.Keys(t)
	cases := []struct {
		name   string
		config auth.Config
		want   string
	}{
		{"nok, no key", auth.Config{}, "required"},
		{"nok, unknown source", auth.Config{SigningKey: jwttest.HMACKey, TokenLookup: "form:token"}, "unknown source"},
		{"nok, no name", auth.Config{SigningKey: jwttest.HMACKey, TokenLookup: "auth:"}, "source:name"},
		{"nok, prefix on a query", auth.Config{SigningKey: jwttest.HMACKey, TokenLookup: "query:token:Bearer "}, "prefix"},
		{"nok, alg none", auth.Config{SigningKey: jwttest.HMACKey, SigningMethods: []string{"none"}}, "not allowed"},
		{"nok, unknown alg", auth.Config{SigningKey: jwttest.HMACKey, SigningMethod: "XX999"}, "not allowed"},
		{"nok, private key", auth.Config{SigningKey: rk}, "unsupported key type"},
		{"nok, negative leeway", auth.Config{SigningKey: jwttest.HMACKey, Leeway: -time.Second}, "Leeway"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mw, err := c.config.ToMiddleware()
			if err == nil || mw != nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
			defer func() {
				if recover() == nil {
					t.Fatal("JWT did not panic")
				}
			}()
			auth.JWT(c.config)
		})
	}
	if _, err := (auth.Config{}).ToMiddleware(); !errors.Is(err, auth.ErrNoKey) {
		t.Fatalf("got %v, want ErrNoKey", err)
	}
}

func TestExplicitMethodsRestrict(t *testing.T) {
	ts := newServer(t, auth.JWT(auth.Config{SigningKey: jwttest.HMACKey, SigningMethod: "HS512"}), nil)
	r := ts.connect(t, request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, jwttest.Valid(time.Hour), nil)}})
	if r.Data["reason"] != "bad_signature" {
		t.Fatalf("HS256 accepted with only HS512 allowed: %v", r)
	}
	r = ts.connect(t, request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodHS512, jwttest.HMACKey, jwttest.Valid(time.Hour), nil)}})
	if r.SID == "" {
		t.Fatalf("HS512 refused: %v", r)
	}
}

// jwksServer serves a JSON Web Key Set whose keys the test changes.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetches atomic.Int32
}

func newJWKSServer(t *testing.T) *jwksServer {
	j := &jwksServer{keys: map[string]*rsa.PublicKey{}}
	j.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		j.fetches.Add(1)
		j.mu.Lock()
		defer j.mu.Unlock()
		var set struct {
			Keys []map[string]string `json:"keys"`
		}
		set.Keys = []map[string]string{}
		for kid, k := range j.keys {
			set.Keys = append(set.Keys, map[string]string{
				"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
			})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(j.Close)
	return j
}

func (j *jwksServer) set(kid string, k *rsa.PublicKey) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.keys = map[string]*rsa.PublicKey{kid: k}
}

func TestJWKS(t *testing.T) {
	rk, _ := jwttest.Keys(t)
	rotated := jwttest.NewRSA(t)
	j := newJWKSServer(t)
	j.set("k1", &rk.PublicKey)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kf, err := auth.JWKS(ctx, auth.JWKSConfig{URLs: []string{j.URL}, OnRefreshError: func(string, error) {}})
	if err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, auth.JWT(auth.Config{KeyFunc: kf}), nil)
	tok := func(k *rsa.PrivateKey, kid string) request {
		return request{auth: map[string]any{"token": jwttest.Sign(t, jwt.SigningMethodRS256, k, jwttest.Valid(time.Hour), map[string]any{"kid": kid})}}
	}
	if r := ts.connect(t, tok(rk, "k1")); r.SID == "" {
		t.Fatalf("refused: %v", r)
	}
	// HMAC with the public key's bytes as the secret: never accepted with a key function.
	hs := jwttest.Sign(t, jwt.SigningMethodHS256, rk.PublicKey.N.Bytes(), jwttest.Valid(time.Hour), map[string]any{"kid": "k1"})
	if r := ts.connect(t, request{auth: map[string]any{"token": hs}}); r.Data["reason"] != "bad_signature" {
		t.Fatalf("HS256 with the public key: %v", r)
	}
	// The issuer rotates its key: an unknown kid makes one extra fetch.
	j.set("k2", &rotated.PublicKey)
	if r := ts.connect(t, tok(rotated, "k2")); r.SID == "" {
		t.Fatalf("rotated key refused: %v", r)
	}
	// Unknown kids after that are refused at once, without a fetch each.
	before := j.fetches.Load()
	start := time.Now()
	for i := range 5 {
		if r := ts.connect(t, tok(rotated, "unknown-"+string(rune('a'+i)))); r.Data["reason"] != "bad_signature" {
			t.Fatalf("unknown kid: %v", r)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("unknown kids took %v", d)
	}
	if n := j.fetches.Load() - before; n > 0 {
		t.Errorf("%d fetches for unknown kids within the rate limit", n)
	}
}

func TestJWKSErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := auth.JWKS(ctx, auth.JWKSConfig{}); !errors.Is(err, auth.ErrNoJWKSURL) {
		t.Fatalf("got %v", err)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	defer down.Close()
	if _, err := auth.JWKS(ctx, auth.JWKSConfig{URLs: []string{down.URL}, OnRefreshError: func(string, error) {}}); err == nil {
		t.Fatal("no error for an unreachable key set")
	}
	kf, err := auth.JWKS(ctx, auth.JWKSConfig{URLs: []string{down.URL}, AllowInitialFetchFailure: true, OnRefreshError: func(string, error) {}})
	if err != nil || kf == nil {
		t.Fatalf("AllowInitialFetchFailure: %v", err)
	}
}
