package sioecho4_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/echo-socketio/echo-socketio/auth"
	"github.com/echo-socketio/echo-socketio/internal/jwttest"
)

// TestWrappedHTTPJWT: on Echo v4, the net/http middleware of package auth, wrapped by Echo,
// protects routes with the configuration of the handshakes (docs/echo.md).
func TestWrappedHTTPJWT(t *testing.T) {
	e := echo.New()
	api := e.Group("/api", echo.WrapMiddleware(auth.HTTP(auth.Config{SigningKey: jwttest.HMACKey})))
	api.GET("/me", func(c echo.Context) error {
		claims, ok := auth.ClaimsFromContext[jwt.MapClaims](c.Request().Context())
		if !ok {
			return echo.ErrInternalServerError
		}
		sub, _ := claims.GetSubject()
		return c.String(http.StatusOK, sub)
	})
	get := func(token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, r)
		return rec
	}
	if rec := get(jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, jwttest.Valid(time.Hour), nil)); rec.Code != http.StatusOK || rec.Body.String() != "ada" {
		t.Fatalf("valid token: %d %q", rec.Code, rec.Body.String())
	}
	jwttest.CheckHTTPRefusal(t, get(""), auth.ReasonMissing)
	jwttest.CheckHTTPRefusal(t, get(jwttest.Sign(t, jwt.SigningMethodHS256, jwttest.HMACKey, jwttest.Valid(-time.Minute), nil)), auth.ReasonExpired)
}
