package sioecho

import (
	"github.com/labstack/echo/v5"
	echomw "github.com/labstack/echo/v5/middleware"

	"github.com/echo-socketio/echo-socketio/auth"
)

// JWTConfig configures JWT.
type JWTConfig struct {
	// Skipper, when it returns true, lets a request through without a token. Default: never
	// skip.
	Skipper echomw.Skipper

	// Auth is the configuration of the tokens: keys, algorithms, claims type, issuer,
	// audience, TokenLookup, Validate and OnRefused. Give the same value to auth.JWT for the
	// handshakes, so that one key and one claims type serve the HTTP routes and the sockets.
	Auth auth.Config

	// ContextKey is the key under which the claims are set on the *echo.Context (c.Set).
	// Default "user", as echo-jwt; but the value is the claims (of the type
	// Auth.NewClaims returns, jwt.MapClaims by default), not a *jwt.Token.
	ContextKey string
}

// DefaultJWTContextKey is the default JWTConfig.ContextKey.
const DefaultJWTContextKey = "user"

// JWT returns an Echo v5 middleware that verifies the requests' tokens with config, the
// configuration of the handshake middleware auth.JWT. It lets through the requests with a
// valid token, with their claims on the *echo.Context under "user" and in the request's
// context (auth.ClaimsFromContext), and answers the others itself, with the reasons of the
// sockets' refusals (auth.Error.WriteHTTP: 401 or 403, {message, code, reason}). It panics
// when the configuration is invalid; use JWTConfig.ToMiddleware to get an error instead.
//
//	cfg := auth.Config{SigningKey: key, NewClaims: func() jwt.Claims { return &Claims{} }}
//	sio.Use(auth.JWT(cfg))
//	api := e.Group("/api", sioecho.JWT(cfg))
//	api.GET("/me", func(c *echo.Context) error {
//		claims, err := echo.ContextGet[*Claims](c, "user")
//		...
//	})
//
// Browsers cannot put a header on a websocket: protect the application's routes with it, not
// the Socket.IO endpoint, whose handshakes auth.JWT checks.
func JWT(config auth.Config) echo.MiddlewareFunc {
	return JWTWithConfig(JWTConfig{Auth: config})
}

// JWTWithConfig returns the middleware configured by config. It panics when the configuration
// is invalid; use JWTConfig.ToMiddleware to get an error instead.
func JWTWithConfig(config JWTConfig) echo.MiddlewareFunc {
	mw, err := config.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToMiddleware checks the configuration and returns the middleware of JWT, or an error that
// says what is wrong.
func (config JWTConfig) ToMiddleware() (echo.MiddlewareFunc, error) {
	v, err := auth.NewVerifier(config.Auth)
	if err != nil {
		return nil, err
	}
	skip := config.Skipper
	if skip == nil {
		skip = echomw.DefaultSkipper
	}
	key := config.ContextKey
	if key == "" {
		key = DefaultJWTContextKey
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			if skip(c) {
				return next(c)
			}
			r := c.Request()
			claims, refusal := v.Verify(r)
			if refusal != nil {
				refusal.WriteHTTP(c.Response())
				return nil
			}
			c.Set(key, claims)
			c.SetRequest(r.WithContext(auth.ContextWithClaims(r.Context(), claims)))
			return next(c)
		}
	}, nil
}
