package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// JWKSConfig configures JWKS.
type JWKSConfig struct {
	// URLs are the addresses of the JSON Web Key Sets, such as
	// "https://issuer.example/.well-known/jwks.json". At least one is required.
	URLs []string
	// RefreshInterval is the time between two fetches of each set. Default 1 hour.
	RefreshInterval time.Duration
	// UnknownKeyRefreshInterval is the shortest time between two extra fetches triggered by
	// a token whose kid is unknown (a key that was just rotated in). Tokens with unknown kids
	// in between are refused at once, so a client cannot make the server fetch at will.
	// Default 5 minutes.
	UnknownKeyRefreshInterval time.Duration
	// HTTPClient fetches the sets. Default: a client with a 10 s timeout.
	HTTPClient *http.Client
	// OnRefreshError is called when a fetch fails; the keys fetched before stay in use.
	// Default: log with slog.
	OnRefreshError func(url string, err error)
	// AllowInitialFetchFailure makes JWKS return without an error when the first fetch fails;
	// tokens are then refused until a later fetch succeeds. By default JWKS returns the error.
	AllowInitialFetchFailure bool
}

// ErrNoJWKSURL is returned by JWKS without a URL.
var ErrNoJWKSURL = errors.New("auth: JWKSConfig.URLs is empty")

// JWKS returns a key function for Config.KeyFunc that verifies tokens with the keys of JSON
// Web Key Sets fetched over HTTP, by their kid. It fetches the sets once before it returns,
// then refreshes them in a goroutine that runs until ctx ends: cancel ctx when the server
// stops.
//
//	ctx, stop := context.WithCancel(context.Background())
//	defer stop()
//	keys, err := auth.JWKS(ctx, auth.JWKSConfig{URLs: []string{issuer + "/.well-known/jwks.json"}})
//	if err != nil { ... }
//	sio.Use(auth.JWT(auth.Config{KeyFunc: keys, Issuer: issuer, Audience: []string{"chat"}}))
//
// The fetching and the key parsing are those of github.com/MicahParks/keyfunc/v3. A key that
// names its algorithm ("alg") only verifies tokens of that algorithm.
func JWKS(ctx context.Context, config JWKSConfig) (jwt.Keyfunc, error) {
	if len(config.URLs) == 0 {
		return nil, ErrNoJWKSURL
	}
	if config.RefreshInterval <= 0 {
		config.RefreshInterval = time.Hour
	}
	if config.UnknownKeyRefreshInterval <= 0 {
		config.UnknownKeyRefreshInterval = 5 * time.Minute
	}
	client := config.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	timeout := 10 * time.Second
	if client.Timeout > 0 {
		timeout = client.Timeout
	}
	onError := config.OnRefreshError
	if onError == nil {
		onError = func(url string, err error) {
			slog.Default().Error("auth: fetching a JSON Web Key Set failed", "url", url, "error", err)
		}
	}
	noError := config.AllowInitialFetchFailure
	k, err := keyfunc.NewDefaultOverrideCtx(ctx, config.URLs, keyfunc.Override{
		Client:                    client,
		HTTPTimeout:               timeout,
		NoErrorReturnFirstHTTPReq: &noError,
		RefreshInterval:           config.RefreshInterval,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(config.UnknownKeyRefreshInterval), 1),
		// A token with an unknown kid never waits for the rate limiter: past the fetch
		// timeout, the wait fails at once.
		RateLimitWaitMax: timeout,
		RefreshErrorHandlerFunc: func(url string) func(context.Context, error) {
			return func(_ context.Context, err error) { onError(url, err) }
		},
	})
	if err != nil {
		return nil, err
	}
	return k.Keyfunc, nil
}
