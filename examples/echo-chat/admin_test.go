package main_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testAdminUI runs the chat with -ops, then test/browser/admin.mjs: the official Admin UI,
// served by the chat, refuses a wrong password, logs in and shows two users' sockets, their
// rooms and the server statistics. /metrics needs the same credentials and counts the
// sockets. Screenshots go to test-results/echo-chat-admin/.
func testAdminUI(t *testing.T, root, chromium, bin string) {
	const user, password = "ops", "correct horse battery staple"
	addr := freeAddr(t)
	srv := startServer(t, bin, addr, "-ops", "-ops-user", user, "-ops-password", password)
	defer srv.stop(t)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("test", "browser", "admin.mjs"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "CHAT_URL=http://"+addr, "OPS_USER="+user,
		"OPS_PASSWORD="+password, "SCREENSHOT_DIR="+filepath.Join(root, "test-results", "echo-chat-admin"))
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("admin.mjs:\n%s", out)
	if err != nil || !strings.Contains(string(out), `{"event":"done"}`) {
		t.Fatalf("admin.mjs: %v\nserver:\n%s", err, srv.out.String())
	}

	metrics := func(u, p string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
		if u != "" {
			req.SetBasicAuth(u, p)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := metrics("", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without credentials: %d", code)
	}
	if code, _ := metrics(user, "wrong"); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong password: %d", code)
	}
	code, body := metrics(user, password)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{`socketio_connections_total{namespace="/"} 3`, `socketio_connections_total{namespace="/admin"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}
