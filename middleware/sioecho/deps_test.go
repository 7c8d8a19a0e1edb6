package sioecho_test

import (
	"os/exec"
	"strings"
	"testing"
)

// goListDeps returns the packages that pkgs import, directly or not, as `go list -deps`
// reports them (tests excluded).
func goListDeps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps %v: %v\n%s", pkgs, err, stderr)
	}
	return strings.Fields(string(out))
}

// TestDependencies checks the import graph: an Echo v5 app that mounts the endpoint with this
// package (and authenticates with auth) compiles no Echo v4 package, and an app that uses
// the Socket.IO server alone (or with auth, or the Redis adapter) compiles no Echo at all.
func TestDependencies(t *testing.T) {
	const module = "github.com/echo-socketio/echo-socketio/"
	v5Apps := []string{module + "middleware/sioecho", module + "examples/echo-chat", module + "examples/jwt"}
	deps := goListDeps(t, v5Apps...)
	v5 := false
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/labstack/echo/v4") || strings.HasPrefix(p, "github.com/labstack/echo-jwt") {
			t.Errorf("an Echo v5 app (%v) compiles %s", v5Apps, p)
		}
		v5 = v5 || p == "github.com/labstack/echo/v5"
	}
	if !v5 {
		t.Errorf("go list -deps %v does not list Echo v5: %d packages", v5Apps, len(deps))
	}

	core := []string{module + "socketio", module + "auth", module + "engineio", module + "rooms/redisadapter"}
	deps = goListDeps(t, core...)
	socketio := false
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/labstack/") {
			t.Errorf("an app of %v compiles %s", core, p)
		}
		socketio = socketio || p == module+"socketio"
	}
	if !socketio {
		t.Errorf("go list -deps %v does not list socketio: %d packages", core, len(deps))
	}
}
