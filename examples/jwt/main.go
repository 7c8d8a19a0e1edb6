// Command jwt shows one signing key and one claims type protecting both an Echo v5 JSON API,
// with sioecho.JWT, and the Socket.IO endpoint, with auth.JWT: the two share one auth.Config.
//
//	go run ./examples/jwt
//	curl -s -d user=ada localhost:3000/login              # {"token":"..."}
//	curl -s -H "Authorization: Bearer $TOKEN" localhost:3000/api/me
//
// The page at / signs in, calls the API and opens a socket with the same token in the
// CONNECT auth payload. Tokens live two minutes: the socket is disconnected when its token
// expires, and the page signs in again and reconnects.
package main

import (
	"log"
	"net/http"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	"github.com/echo-socketio/echo-socketio/auth"
	"github.com/echo-socketio/echo-socketio/middleware/sioecho"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// Claims are the claims of the tokens this app issues.
type Claims struct {
	Name string `json:"name"`
	jwt.RegisteredClaims
}

const (
	issuer   = "examples/jwt"
	lifetime = 2 * time.Minute
)

func main() {
	key := []byte(os.Getenv("JWT_SECRET"))
	if len(key) < 32 {
		log.Print("JWT_SECRET unset or shorter than 32 bytes: using a development key")
		key = []byte("development key, do not use in production")
	}
	e, _ := newApp(key, lifetime)
	if err := e.Start(":3000"); err != nil {
		log.Fatal(err)
	}
}

// newApp returns the Echo app and its Socket.IO server, both verifying tokens with key.
func newApp(key []byte, lifetime time.Duration) (*echo.Echo, *socketio.Server) {
	e := echo.New()
	e.Use(middleware.Recover())

	// One configuration for the handshakes and the API: the key, the algorithm, the issuer
	// and the claims type.
	tokens := auth.Config{
		SigningKey:    key,
		SigningMethod: "HS256",
		Issuer:        issuer,
		NewClaims:     func() jwt.Claims { return &Claims{} },
	}

	sio := socketio.NewServer(socketio.Options{})
	sockets := tokens
	sockets.DisconnectOnExpiry = true
	sio.Use(auth.JWT(sockets))
	sio.OnConnection(func(s *socketio.Socket) {
		c, _ := auth.Claims[*Claims](s)
		s.Join("user:" + c.Subject)
		s.On("whoami", func(ack socketio.Ack) { _ = ack(c.Name, c.ExpiresAt.Time) })
	})
	e.Use(sioecho.SocketIO(sio))

	e.GET("/", func(c *echo.Context) error { return c.HTML(http.StatusOK, page) })
	e.POST("/login", func(c *echo.Context) error {
		user := c.FormValue("user")
		if user == "" {
			return echo.NewHTTPError(http.StatusBadRequest, "user is required")
		}
		now := time.Now()
		token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, &Claims{
			Name: user,
			RegisteredClaims: jwt.RegisteredClaims{
				Subject: user, Issuer: issuer,
				IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(lifetime)),
			},
		}).SignedString(key)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]string{"token": token})
	})

	// The same configuration protects the JSON API.
	api := e.Group("/api", sioecho.JWT(tokens))
	api.GET("/me", func(c *echo.Context) error {
		claims, err := echo.ContextGet[*Claims](c, "user")
		if err != nil {
			return err
		}
		sockets, err := sio.In("user:" + claims.Subject).FetchSockets(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"name": claims.Name, "sockets": len(sockets)})
	})
	return e, sio
}
