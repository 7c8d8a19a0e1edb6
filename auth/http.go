package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/golang-jwt/jwt/v5"
)

// Verifier verifies the tokens of HTTP requests with the keys, algorithms, claims type and
// checks of a Config, the same as the handshake middleware's. It is safe for concurrent use.
// HTTP is the net/http middleware built on it; router adapters (sioecho.JWT for Echo v5) build
// theirs on it too.
type Verifier struct {
	v *verifier
}

// NewVerifier checks config and returns its verifier, or an error that says what is wrong.
// Config.DisconnectOnExpiry does not apply to HTTP requests.
func NewVerifier(config Config) (*Verifier, error) {
	v, err := config.verifier()
	if err != nil {
		return nil, err
	}
	return &Verifier{v: v}, nil
}

// Verify finds the token of r (Config.TokenLookup, whose "auth" sources hold nothing for an
// HTTP request), verifies it and runs Config.Validate with a nil socket. It returns the
// claims, of the type Config.NewClaims returns, or the refusal, which Config.OnRefused
// receives too (with a nil socket).
func (v *Verifier) Verify(r *http.Request) (jwt.Claims, *Error) {
	return v.v.check(nil, fromRequest(r))
}

// HTTP returns a net/http middleware that lets through the requests with a valid token, with
// the claims in their context (ClaimsFromContext), and answers the others with the refusal
// (Error.WriteHTTP). It panics when the configuration is invalid; use Config.ToHTTPMiddleware
// to get an error instead.
//
//	cfg := auth.Config{SigningKey: key, NewClaims: func() jwt.Claims { return &Claims{} }}
//	sio.Use(auth.JWT(cfg))                            // the handshakes
//	mux.Handle("/api/", auth.HTTP(cfg)(api))          // the HTTP API, same key and claims
func HTTP(config Config) func(http.Handler) http.Handler {
	mw, err := config.ToHTTPMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToHTTPMiddleware checks the configuration and returns the middleware of HTTP, or an error
// that says what is wrong.
func (config Config) ToHTTPMiddleware() (func(http.Handler) http.Handler, error) {
	v, err := NewVerifier(config)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, err := v.Verify(r)
			if err != nil {
				err.WriteHTTP(w)
				return
			}
			next.ServeHTTP(w, r.WithContext(ContextWithClaims(r.Context(), claims)))
		})
	}, nil
}

type claimsKey struct{}

// ContextWithClaims returns ctx with claims, which ClaimsFromContext returns.
func ContextWithClaims(ctx context.Context, claims jwt.Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, claims)
}

// ClaimsFromContext returns the claims that HTTP (or an adapter's JWT middleware) put in a
// request's context, if they have the type T: jwt.MapClaims by default, or the type
// Config.NewClaims returns.
func ClaimsFromContext[T any](ctx context.Context) (T, bool) {
	c, ok := ctx.Value(claimsKey{}).(T)
	return c, ok
}

// HTTPBody is the JSON body of an HTTP refusal: Message, and the code and reason of the
// connect_error data that a refused socket receives.
type HTTPBody struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
	Reason  Reason `json:"reason"`
}

// WriteHTTP answers an HTTP request with the refusal: status 401 (403 for ReasonForbidden),
// a WWW-Authenticate header (RFC 6750) and the JSON body HTTPBody. Like a socket's
// connect_error, it tells the reason and nothing of the cause.
func (e *Error) WriteHTTP(w http.ResponseWriter) {
	challenge := `Bearer`
	switch {
	case e.Reason == ReasonForbidden:
		challenge = `Bearer error="insufficient_scope"`
	case e.Reason != ReasonMissing:
		challenge = `Bearer error="invalid_token"`
	}
	body, _ := json.Marshal(HTTPBody{Message: Message, Code: e.Code(), Reason: e.Reason}) // cannot fail
	h := w.Header()
	h.Set("WWW-Authenticate", challenge)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Code())
	_, _ = w.Write(body)
}
