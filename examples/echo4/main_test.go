package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestOfficialClient runs the official client against the application, over polling upgraded
// to websocket, with the script of the adapters' interop tests (test/interop/mw-client.mjs).
func TestOfficialClient(t *testing.T) {
	e, sio := newApp()
	srv := httptest.NewServer(e)
	defer srv.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sio.Shutdown(ctx)
	}()
	res := nodetest.Run(t, 30*time.Second, "mw-client.mjs",
		"BASE="+srv.URL, "SIO_PATH=/socket.io/", "APP=/,/api/time", "TRANSPORTS=polling,websocket")
	fail := func(what string, v any) {
		t.Helper()
		t.Fatalf("%s: %v\nevents:\n%s\nstderr:\n%s", what, v, res.Describe(), res.Stderr)
	}
	apps := res.All("app")
	if len(apps) != 2 || apps[0]["status"] != 200.0 || !strings.Contains(apps[0].Str("head"), "<!doctype html>") ||
		apps[1]["status"] != 200.0 || !strings.HasPrefix(apps[1].Str("head"), `{"now":`) {
		fail("the app's routes", apps)
	}
	if b := res.Find("bundle"); b == nil || b["status"] != 200.0 {
		fail("client bundle", b)
	}
	if ev := res.Find("echo"); ev == nil || ev["small"] != true || ev["big"] != true {
		fail("echo", ev)
	}
	who := res.Find("whoami")
	w, _ := who["who"].(map[string]any)
	id, _ := w["requestID"].(string)
	if who == nil || who.Str("transport") != "websocket" || w["ip"] != "127.0.0.1" || len(id) < 16 {
		fail("whoami", who)
	}
}
