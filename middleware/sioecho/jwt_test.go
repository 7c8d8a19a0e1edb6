package sioecho_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v5"

	"github.com/echo-socketio/echo-socketio/auth"
	"github.com/echo-socketio/echo-socketio/internal/jwttest"
	"github.com/echo-socketio/echo-socketio/middleware/sioecho"
	"github.com/echo-socketio/echo-socketio/socketio"
)

type claims struct {
	Name string `json:"name"`
	jwt.RegisteredClaims
}

// jwtApp is an Echo v5 app whose route /api/me, behind JWT, answers with the subject of the
// claims it finds on the *echo.Context and in the request's context.
func jwtApp(t *testing.T, config sioecho.JWTConfig) *echo.Echo {
	t.Helper()
	mw, err := config.ToMiddleware()
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	api := e.Group("/api", mw)
	api.GET("/me", func(c *echo.Context) error {
		key := config.ContextKey
		if key == "" {
			key = sioecho.DefaultJWTContextKey
		}
		onEcho, err := echo.ContextGet[jwt.Claims](c, key)
		if err != nil {
			return err
		}
		inCtx, ok := auth.ClaimsFromContext[jwt.Claims](c.Request().Context())
		if !ok || inCtx == nil {
			return errors.New("no claims in the request's context")
		}
		sub, _ := inCtx.GetSubject()
		switch cl := onEcho.(type) {
		case *claims:
			return c.String(http.StatusOK, cl.Subject+" "+cl.Name)
		case jwt.MapClaims:
			return c.String(http.StatusOK, sub+" "+cl["name"].(string))
		}
		return errors.New("claims of an unknown type")
	})
	return e
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// TestJWTAttacks: the HTTP routes refuse every attack of the socket side's table, with the
// same reasons.
func TestJWTAttacks(t *testing.T) {
	cfg := jwttest.AttackConfig(t) // jwt.MapClaims, as on the socket side
	e := jwtApp(t, sioecho.JWTConfig{Auth: cfg})

	good := jwttest.Valid(time.Hour)
	good["iss"], good["aud"] = jwttest.Issuer, jwttest.Audience
	for name, r := range map[string]func(*http.Request){
		"ok, header": func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, good, nil))
		},
		"ok, cookie": func(r *http.Request) {
			rk, _ := jwttest.Keys(t)
			r.AddCookie(&http.Cookie{Name: "jwt", Value: jwttest.Sign(t, jwt.SigningMethodRS256, rk, good, map[string]any{"kid": "rsa"})})
		},
	} {
		req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
		r(req)
		if rec := serve(e, req); rec.Code != http.StatusOK || rec.Body.String() != "ada Ada" {
			t.Errorf("%s: %d %q", name, rec.Code, rec.Body.String())
		}
	}
	n := 0
	for _, c := range jwttest.Attacks(t) {
		r, ok := c.Request("/api/me")
		if !ok {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) { jwttest.CheckHTTPRefusal(t, serve(e, r), c.Reason) })
	}
	if n < 20 {
		t.Fatalf("only %d attacks over HTTP", n)
	}
}

func TestJWTForbiddenSkipperAndKey(t *testing.T) {
	var refusedSocket *socketio.Socket
	refusedSocketSet := false
	cfg := auth.Config{
		SigningKey: jwttest.HMACKey,
		NewClaims:  func() jwt.Claims { return &claims{} },
		Validate: func(s *socketio.Socket, c jwt.Claims) error {
			if c.(*claims).Name != "Ada" {
				return errors.New("only Ada")
			}
			return nil
		},
		OnRefused: func(s *socketio.Socket, _ *auth.Error) { refusedSocket, refusedSocketSet = s, true },
	}
	e := jwtApp(t, sioecho.JWTConfig{
		Auth:       cfg,
		ContextKey: "claims",
		Skipper:    func(c *echo.Context) bool { return c.QueryParam("open") == "1" },
	})
	bob := jwttest.Valid(time.Hour)
	bob["name"] = "Bob"
	req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, bob, nil))
	jwttest.CheckHTTPRefusal(t, serve(e, req), auth.ReasonForbidden)
	if !refusedSocketSet || refusedSocket != nil {
		t.Errorf("OnRefused: called %v, socket %v", refusedSocketSet, refusedSocket)
	}

	req = httptest.NewRequest(http.MethodGet, "/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, jwttest.Valid(time.Hour), nil))
	if rec := serve(e, req); rec.Code != http.StatusOK || rec.Body.String() != "ada Ada" {
		t.Errorf("ContextKey: %d %q", rec.Code, rec.Body.String())
	}
	// Skipped: the handler runs without claims, and says so.
	if rec := serve(e, httptest.NewRequest(http.MethodGet, "/api/me?open=1", nil)); rec.Code == http.StatusOK || rec.Code == http.StatusUnauthorized {
		t.Errorf("Skipper: %d %q", rec.Code, rec.Body.String())
	}
}

func TestJWTConfigErrors(t *testing.T) {
	if _, err := (sioecho.JWTConfig{}).ToMiddleware(); !errors.Is(err, auth.ErrNoKey) {
		t.Fatalf("got %v, want auth.ErrNoKey", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("JWT did not panic")
		}
	}()
	sioecho.JWT(auth.Config{SigningKey: jwttest.HMACKey, TokenLookup: "form:token"})
}
