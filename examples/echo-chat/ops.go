package main

import (
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
	"golang.org/x/crypto/bcrypt"

	"github.com/echo-socketio/echo-socketio/admin"
	"github.com/echo-socketio/echo-socketio/metrics"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// enableOps serves the operators' views of the chat, behind user and password: the Prometheus
// metrics at /metrics (HTTP basic authentication) and the official Admin UI at /admin-ui/,
// whose login form connects to the "/admin" namespace. It returns the function that stops the
// Admin UI's statistics.
func enableOps(e *echo.Echo, sio *socketio.Server, user, password string) (func(), error) {
	if password == "" {
		return nil, errors.New("-ops needs -ops-password (or OPS_PASSWORD)")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("ops: %w", err)
	}
	m, err := metrics.New(sio, metrics.Options{})
	if err != nil {
		return nil, err
	}
	a, err := admin.Instrument(sio, admin.Options{Auth: &admin.BasicAuth{Username: user, PasswordHash: string(hash)}})
	if err != nil {
		return nil, err
	}
	guard := middleware.BasicAuth(func(_ *echo.Context, u, p string) (bool, error) {
		okUser := subtle.ConstantTimeCompare([]byte(u), []byte(user)) == 1
		return okUser && bcrypt.CompareHashAndPassword(hash, []byte(p)) == nil, nil
	})
	e.GET("/metrics", echo.WrapHandler(m.Handler()), guard)
	ui := echo.WrapHandler(admin.UIHandler("/admin-ui/"))
	e.GET("/admin-ui", ui)
	e.GET("/admin-ui/*", ui)
	return a.Close, nil
}
