package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v5"

	"github.com/echo-socketio/echo-socketio/auth"
	"github.com/echo-socketio/echo-socketio/middleware/sioecho"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// validName matches user names: letters, digits, spaces and a few marks, 1 to 24 of them.
var validName = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,23}$`)

// issue returns a token for the user name, signed with key, valid for ttl.
func issue(key []byte, name string, ttl time.Duration) (string, time.Time, error) {
	exp := time.Now().Add(ttl)
	claims := jwt.RegisteredClaims{Subject: name, ExpiresAt: jwt.NewNumericDate(exp)}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	return signed, exp, err
}

// login answers POST /api/login {"name": "..."} with a token for that name, valid for ttl. The
// example trusts the name it is given; a real application checks a password or asks an
// identity provider.
func login(key []byte, ttl time.Duration) echo.HandlerFunc {
	return func(c *echo.Context) error {
		var in struct {
			Name string `json:"name" form:"name"`
		}
		if err := c.Bind(&in); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "expected {\"name\": \"...\"}")
		}
		name := strings.TrimSpace(in.Name)
		if !validName.MatchString(name) {
			return echo.NewHTTPError(http.StatusBadRequest, "a name has 1 to 24 letters, digits, spaces, '.', '_' or '-'")
		}
		token, exp, err := issue(key, name, ttl)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"token": token, "name": name, "expiresAt": exp})
	}
}

// authenticate is the handshake middleware of the Socket.IO server: the client sends
// {"token": "..."} as its auth payload, a socket without a valid token is refused with the
// connect_error "unauthorized", and a socket whose token expires is disconnected (the page
// then connects again with a new token).
func authenticate(key []byte) socketio.Middleware {
	cfg := tokens(key)
	cfg.DisconnectOnExpiry = true
	return auth.JWT(cfg)
}

// tokens is the configuration of the tokens of /api/login, for the sockets and the HTTP
// routes alike: one key, one claims type.
func tokens(key []byte) auth.Config {
	return auth.Config{
		SigningKey: key,
		NewClaims:  func() jwt.Claims { return new(jwt.RegisteredClaims) },
	}
}

// userName returns the name of the socket's user: the subject of its token.
func userName(s *socketio.Socket) string {
	claims, _ := auth.Claims[*jwt.RegisteredClaims](s)
	if claims == nil {
		return ""
	}
	return claims.Subject
}

// requireJWT protects an HTTP route with the tokens of /api/login, sent as
// "Authorization: Bearer <token>". A refused request gets 401 and the reason, as a refused
// socket does: {"message": "unauthorized", "code": 401, "reason": "expired"}.
func requireJWT(key []byte) echo.MiddlewareFunc {
	return sioecho.JWT(tokens(key))
}

// notify answers POST /api/notify {"user": "bob", "text": "..."} or {"channel": "general",
// "text": "..."}: it pushes a notification to every tab of the user, or to every member of the
// channel, and reports how many sockets were reached.
func notify(sio *socketio.Server) echo.HandlerFunc {
	return func(c *echo.Context) error {
		var in struct {
			User    string `json:"user" form:"user"`
			Channel string `json:"channel" form:"channel"`
			Text    string `json:"text" form:"text"`
		}
		if err := c.Bind(&in); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		text := strings.TrimSpace(in.Text)
		if text == "" || len(text) > maxText || (in.User == "") == (in.Channel == "") {
			return echo.NewHTTPError(http.StatusBadRequest, "expected a text and either a user or a channel")
		}
		room := userRoom(in.User)
		if in.Channel != "" {
			room = channelRoom(in.Channel)
		}
		to := sio.To(room)
		ctx, cancel := context.WithTimeout(c.Request().Context(), 5*time.Second)
		defer cancel()
		sockets, err := to.FetchSockets(ctx)
		if err != nil {
			return err
		}
		claims, err := echo.ContextGet[*jwt.RegisteredClaims](c, sioecho.DefaultJWTContextKey)
		if err != nil {
			return err
		}
		n := notification{From: claims.Subject, Channel: in.Channel, Text: text, At: time.Now().UTC()}
		if err := to.Emit("notification", n); err != nil {
			return err
		}
		return c.JSON(http.StatusAccepted, map[string]int{"recipients": len(sockets)})
	}
}
