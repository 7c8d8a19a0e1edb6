// Command jwt shows one signing key protecting both an Echo JSON API, with echo-jwt, and the
// Socket.IO endpoint, with package auth.
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
	echojwt "github.com/labstack/echo-jwt/v4"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/echo-socketio/echo-socketio/auth"
	"github.com/echo-socketio/echo-socketio/middleware"
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
	e.Logger.Fatal(e.Start(":3000"))
}

// newApp returns the Echo app and its Socket.IO server, both verifying tokens with key.
func newApp(key []byte, lifetime time.Duration) (*echo.Echo, *socketio.Server) {
	e := echo.New()
	e.Use(echomw.Recover())

	io := socketio.NewServer(socketio.Options{})
	io.Use(auth.JWT(auth.Config{
		SigningKey:         key,
		SigningMethod:      "HS256",
		Issuer:             issuer,
		NewClaims:          func() jwt.Claims { return &Claims{} },
		DisconnectOnExpiry: true,
	}))
	io.OnConnection(func(s *socketio.Socket) {
		c, _ := auth.Claims[*Claims](s)
		s.Join("user:" + c.Subject)
		s.On("whoami", func(ack socketio.Ack) { _ = ack(c.Name, c.ExpiresAt.Time) })
	})
	e.Use(middleware.SocketIO(io))

	e.GET("/", func(c echo.Context) error { return c.HTML(http.StatusOK, page) })
	e.POST("/login", func(c echo.Context) error {
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

	// The same key protects the JSON API.
	api := e.Group("/api", echojwt.WithConfig(echojwt.Config{
		SigningKey:    key,
		NewClaimsFunc: func(echo.Context) jwt.Claims { return &Claims{} },
	}))
	api.GET("/me", func(c echo.Context) error {
		claims := c.Get("user").(*jwt.Token).Claims.(*Claims)
		sockets, err := io.In("user:" + claims.Subject).FetchSockets(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"name": claims.Name, "sockets": len(sockets)})
	})
	return e, io
}
