// Package auth authenticates Socket.IO connections with JSON Web Tokens.
//
// JWT returns a namespace middleware that reads a token from the handshake (by default the
// CONNECT auth payload, then the Authorization header), verifies it with
// github.com/golang-jwt/jwt/v5 and stores its claims in the socket:
//
//	sio.Use(auth.JWT(auth.Config{SigningKey: []byte(secret)}))
//	sio.OnConnection(func(s *socketio.Socket) {
//		claims, _ := auth.Claims[jwt.MapClaims](s)
//		sub, _ := claims.GetSubject()
//		s.Join("user:" + sub)
//	})
//
// The browser sends the token in the auth payload, which never shows in URLs, logs or
// proxies, unlike the query string:
//
//	const socket = io({ auth: (cb) => cb({ token: localStorage.getItem("token") }) });
//
// A refused client gets a connect_error whose message is "unauthorized" and whose data is
// {code, reason}; reason is one of the Reason values, and nothing about the keys is sent. With
// DisconnectOnExpiry, a socket is disconnected when its token expires, after an
// "auth_expired" event (ExpiredEvent).
//
// The same Config protects an application's HTTP routes: HTTP returns a net/http middleware,
// which answers a refused request with the same reasons (401 or 403, {message, code, reason}),
// and Verifier is the piece that router adapters build on, such as the Echo v5 middleware
// sioecho.JWT. This package imports no web framework. See docs/auth.md.
package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// Config configures the JWT middleware. One of SigningKey, SigningKeys or KeyFunc is required.
type Config struct {
	// TokenLookup lists where the token is looked for, in order, as "source:name" pairs
	// separated by commas; the first source that holds a token is used. Sources:
	//   - "auth:<field>": a string field of the CONNECT auth payload (socket.auth);
	//   - "header:<name>" or "header:<name>:<prefix>": a handshake header, whose value must
	//     start with the prefix (compared without regard to case), which is removed;
	//   - "query:<name>": a query parameter of the handshake URL;
	//   - "cookie:<name>": a cookie sent with the handshake.
	// Default "auth:token,header:Authorization:Bearer ". An HTTP request (HTTP, Verifier) has
	// no auth payload: its "auth" sources hold nothing and the next sources are tried, so one
	// TokenLookup serves the handshakes and the HTTP routes.
	TokenLookup string

	// SigningKey verifies every token: a []byte secret for HMAC, an *rsa.PublicKey,
	// *ecdsa.PublicKey or ed25519.PublicKey otherwise.
	SigningKey any
	// SigningKeys verifies tokens by the "kid" of their header. A token without a kid is
	// verified with SigningKey, if set; a token with an unknown kid is refused.
	SigningKeys map[string]any
	// KeyFunc, when set, supplies the verification key instead of SigningKey and SigningKeys,
	// such as the function JWKS returns.
	KeyFunc jwt.Keyfunc

	// SigningMethod adds one algorithm, such as "RS256", to SigningMethods.
	SigningMethod string
	// SigningMethods is the allow-list of signature algorithms ("alg" of the token header).
	// Default: the algorithms that fit the types of SigningKey and SigningKeys (HS256, HS384
	// and HS512 for a []byte secret; RS* and PS* for RSA keys; ES* for ECDSA keys; EdDSA for
	// Ed25519 keys), and with KeyFunc every asymmetric algorithm, never HMAC. "none" is never
	// allowed.
	SigningMethods []string

	// NewClaims returns the value the claims are decoded into, such as &MyClaims{}. Default
	// jwt.MapClaims. Claims[T] returns it with the same type.
	NewClaims func() jwt.Claims
	// Issuer, when set, is the required "iss" claim.
	Issuer string
	// Audience, when set, lists the audiences of which the "aud" claim must hold one.
	Audience []string
	// Leeway is the clock skew allowed for "exp", "nbf" and "iat".
	Leeway time.Duration
	// InsecureAllowMissingExpiry accepts tokens without an "exp" claim, which stay valid
	// forever. By default they are refused.
	InsecureAllowMissingExpiry bool
	// MaxTokenLength bounds the length of a token, in bytes; longer ones are refused as
	// malformed before they are decoded. Default 8192.
	MaxTokenLength int

	// Validate, when set, runs after a token was verified, to check its claims further (a role,
	// a tenant). An error refuses the connection with the reason "forbidden"; its text is not
	// sent to the client. For an HTTP request (HTTP, Verifier) s is nil.
	Validate func(s *socketio.Socket, claims jwt.Claims) error

	// DisconnectOnExpiry disconnects a socket when its token expires ("exp" plus Leeway).
	// The client first receives the event ExpiredEvent with {code, reason: "expired"}, then
	// disconnects with the reason "io server disconnect". It may connect again with a fresh
	// token (see docs/auth.md).
	DisconnectOnExpiry bool

	// OnRefused, when set, is called with every refusal, whose error wraps the detailed cause
	// (for the server's logs; the client only gets the reason). For an HTTP request (HTTP,
	// Verifier) s is nil.
	OnRefused func(s *socketio.Socket, err *Error)
}

// DefaultTokenLookup is the default Config.TokenLookup.
const DefaultTokenLookup = "auth:token,header:Authorization:Bearer "

// DefaultConfig is the default configuration, without a key.
var DefaultConfig = Config{
	TokenLookup:    DefaultTokenLookup,
	MaxTokenLength: 8192,
}

// ClaimsKey is the key under which the middleware stores the claims in the socket
// (Socket.Set). They are therefore part of the socket's data that FetchSockets reports.
const ClaimsKey = "auth.claims"

// ExpiredEvent is the event sent to a client whose token expired, right before it is
// disconnected (Config.DisconnectOnExpiry). Its argument is {code: 401, reason: "expired"}.
const ExpiredEvent = "auth_expired"

// ErrNoKey is returned by Config.ToMiddleware when no key is configured.
var ErrNoKey = errors.New("auth: one of SigningKey, SigningKeys or KeyFunc is required")

// JWT returns the middleware configured by config. It panics when the configuration is
// invalid; use Config.ToMiddleware to get an error instead.
func JWT(config Config) socketio.Middleware {
	mw, err := config.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// Claims returns the claims of the socket's token, as stored by the middleware, if they have
// the type T: jwt.MapClaims by default, or the type Config.NewClaims returns.
func Claims[T any](s *socketio.Socket) (T, bool) {
	var zero T
	if s == nil {
		return zero, false
	}
	v, ok := s.Get(ClaimsKey)
	if !ok {
		return zero, false
	}
	c, ok := v.(T)
	return c, ok
}

// ToMiddleware checks the configuration and returns the middleware, or an error that says
// what is wrong.
func (config Config) ToMiddleware() (socketio.Middleware, error) {
	v, err := config.verifier()
	if err != nil {
		return nil, err
	}
	return v.handle, nil
}

// verifier checks the configuration, fills in its defaults and returns its verifier.
func (config Config) verifier() (*verifier, error) {
	if config.TokenLookup == "" {
		config.TokenLookup = DefaultConfig.TokenLookup
	}
	if config.MaxTokenLength <= 0 {
		config.MaxTokenLength = DefaultConfig.MaxTokenLength
	}
	if config.NewClaims == nil {
		config.NewClaims = func() jwt.Claims { return jwt.MapClaims{} }
	}
	if config.Leeway < 0 {
		return nil, errors.New("auth: negative Leeway")
	}
	lookups, err := parseLookup(config.TokenLookup)
	if err != nil {
		return nil, err
	}
	if config.SigningKey == nil && len(config.SigningKeys) == 0 && config.KeyFunc == nil {
		return nil, ErrNoKey
	}
	methods, err := config.methods()
	if err != nil {
		return nil, err
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithLeeway(config.Leeway),
		jwt.WithIssuedAt(),
	}
	if !config.InsecureAllowMissingExpiry {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	if config.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(config.Issuer))
	}
	if len(config.Audience) > 0 {
		opts = append(opts, jwt.WithAudience(config.Audience...))
	}
	return &verifier{
		config:  config,
		lookups: lookups,
		parser:  jwt.NewParser(opts...),
		keyFunc: config.keyFunc(),
	}, nil
}

// methods returns the allow-list of algorithms.
func (config Config) methods() ([]string, error) {
	var out []string
	add := func(ms ...string) {
		for _, m := range ms {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	add(config.SigningMethods...)
	if config.SigningMethod != "" {
		add(config.SigningMethod)
	}
	if len(out) == 0 {
		if config.KeyFunc != nil {
			add(rsaMethods...)
			add(ecdsaMethods...)
			add(eddsaMethods...)
		}
		keys := []any{config.SigningKey}
		for _, k := range config.SigningKeys {
			keys = append(keys, k)
		}
		for _, k := range keys {
			switch k.(type) {
			case nil:
			case []byte:
				add(hmacMethods...)
			case *rsa.PublicKey:
				add(rsaMethods...)
			case *ecdsa.PublicKey:
				add(ecdsaMethods...)
			case ed25519.PublicKey:
				add(eddsaMethods...)
			default:
				return nil, fmt.Errorf("auth: unsupported key type %T (want []byte, *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey, or set SigningMethods)", k)
			}
		}
	}
	for _, m := range out {
		if m == "none" || jwt.GetSigningMethod(m) == nil {
			return nil, fmt.Errorf("auth: signing method %q is not allowed", m)
		}
	}
	return out, nil
}

var (
	hmacMethods  = []string{"HS256", "HS384", "HS512"}
	rsaMethods   = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	ecdsaMethods = []string{"ES256", "ES384", "ES512"}
	eddsaMethods = []string{"EdDSA"}
)

// errUnknownKey is the cause of a refusal for a kid that SigningKeys does not hold.
var errUnknownKey = errors.New("auth: unknown key id")

func (config Config) keyFunc() jwt.Keyfunc {
	if config.KeyFunc != nil {
		return config.KeyFunc
	}
	keys, key := config.SigningKeys, config.SigningKey
	return func(t *jwt.Token) (any, error) {
		if len(keys) > 0 {
			if kid, ok := t.Header["kid"].(string); ok {
				if k, ok := keys[kid]; ok {
					return k, nil
				}
				return nil, errUnknownKey
			}
		}
		if key == nil {
			return nil, errUnknownKey
		}
		return key, nil
	}
}
