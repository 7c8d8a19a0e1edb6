package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-socketio/echo-socketio/auth"
	"github.com/echo-socketio/echo-socketio/internal/jwttest"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// TestHTTP: one Config for the handshakes and the HTTP routes: the same claims type reaches
// the handler, Validate refuses with 403, and the auth payload source is skipped.
func TestHTTP(t *testing.T) {
	cfg := auth.Config{
		SigningKey: jwttest.HMACKey,
		NewClaims:  func() jwt.Claims { return &chatClaims{} },
		Validate: func(s *socketio.Socket, c jwt.Claims) error {
			if s != nil {
				return errors.New("a socket on an HTTP route")
			}
			if c.(*chatClaims).Name == "Eve" {
				return errors.New("not Eve")
			}
			return nil
		},
	}
	h := auth.HTTP(cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := auth.ClaimsFromContext[*chatClaims](r.Context())
		if _, wrong := auth.ClaimsFromContext[jwt.MapClaims](r.Context()); !ok || wrong {
			http.Error(w, "no claims", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(c.Subject + " " + c.Name))
	}))
	get := func(claims jwt.MapClaims) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/api", nil)
		if claims != nil {
			r.Header.Set("Authorization", "bearer "+jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, claims, nil))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	if rec := get(jwttest.Valid(time.Hour)); rec.Code != http.StatusOK || rec.Body.String() != "ada Ada" {
		t.Fatalf("valid token: %d %q", rec.Code, rec.Body.String())
	}
	eve := jwttest.Valid(time.Hour)
	eve["name"] = "Eve"
	jwttest.CheckHTTPRefusal(t, get(eve), auth.ReasonForbidden)
	rec := get(nil)
	jwttest.CheckHTTPRefusal(t, rec, auth.ReasonMissing)
	if got := rec.Header().Get("WWW-Authenticate"); got != "Bearer" {
		t.Errorf("challenge without a token: %q", got)
	}
	rec = get(jwttest.Valid(-time.Minute))
	jwttest.CheckHTTPRefusal(t, rec, auth.ReasonExpired)
	if got := rec.Header().Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("challenge of an expired token: %q", got)
	}
}

func TestHTTPConfigErrors(t *testing.T) {
	if _, err := (auth.Config{}).ToHTTPMiddleware(); !errors.Is(err, auth.ErrNoKey) {
		t.Fatalf("got %v, want ErrNoKey", err)
	}
	if _, err := auth.NewVerifier(auth.Config{SigningKey: jwttest.HMACKey, TokenLookup: "form:x"}); err == nil {
		t.Fatal("NewVerifier accepted an unknown source")
	}
	if _, ok := auth.ClaimsFromContext[jwt.MapClaims](t.Context()); ok {
		t.Fatal("claims in an empty context")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("HTTP did not panic")
		}
	}()
	auth.HTTP(auth.Config{})
}
