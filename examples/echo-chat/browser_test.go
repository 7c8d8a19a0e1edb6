package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
)

// TestBrowser builds the example, starts it on a free loopback port and runs
// test/browser/chat.mjs: two users in headless Chromium chat through it, and the server is
// restarted in the middle. The flow runs once with the client free to upgrade to websocket and
// once forced to long-polling; a third run checks that a page whose token expires connects
// again by itself. A fourth run starts two instances on one redis-server, with the same signing
// key, and puts one user on each. Screenshots go to test-results/echo-chat/ at the repository
// root.
func TestBrowser(t *testing.T) {
	root := nodetest.Root(t)
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s is missing: install it with `make browser-deps` (make test does it)", chromium)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("playwright-core is not installed: run `npm ci` in %s (make test does it)", root)
	}

	shots := filepath.Join(root, "test-results", "echo-chat")
	if err := os.RemoveAll(shots); err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(t.TempDir(), "echo-chat")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	tests := []struct {
		name, transport, scenario string
		args                      []string
	}{
		{"websocket", "websocket", "chat", nil},
		{"polling", "polling", "chat", nil},
		{"token expiry", "websocket", "expiry", []string{"-token-ttl", "6s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := freeAddr(t)
			srv := startServer(t, bin, addr, tt.args...)
			defer func() { srv.stop(t) }()

			restart := func() {
				srv.stop(t)
				srv = startServer(t, bin, addr, tt.args...)
			}
			runScript(t, root, chromium, shots, []string{
				"CHAT_URL=http://" + addr,
				"CHAT_TRANSPORT=" + tt.transport,
				"CHAT_SCENARIO=" + tt.scenario,
			}, restart, func() string { return srv.out.String() })
			srv.stop(t)
			checkLogs(t, srv)
		})
	}

	t.Run("admin UI", func(t *testing.T) { testAdminUI(t, root, chromium, bin) })

	// Two instances share their rooms through Redis: the pages on each see the messages,
	// presence, private messages and notifications of the other.
	t.Run("two instances", func(t *testing.T) {
		rdb := startRedis(t)
		defer rdb.stop(t)
		secret := []string{"-redis", rdb.addr, "-secret", "a key both instances share"}
		addr1, addr2 := freeAddr(t), freeAddr(t)
		srv1 := startServer(t, bin, addr1, secret...)
		defer srv1.stop(t)
		srv2 := startServer(t, bin, addr2, secret...)
		defer srv2.stop(t)

		runScript(t, root, chromium, shots, []string{
			"CHAT_URL=http://" + addr1,
			"CHAT_URL2=http://" + addr2,
			"CHAT_TRANSPORT=websocket",
			"CHAT_SCENARIO=cluster",
		}, nil, func() string {
			return "instance 1:\n" + srv1.out.String() + "instance 2:\n" + srv2.out.String()
		})
		srv1.stop(t)
		srv2.stop(t)
		for _, srv := range []*server{srv1, srv2} {
			checkLogs(t, srv)
			if out := srv.out.String(); !strings.Contains(out, "sharing rooms through Redis at "+rdb.addr) {
				t.Errorf("the server does not use Redis:\n%s", out)
			}
		}
	})
}

// runScript runs test/browser/chat.mjs with more environment variables, and fails the test
// unless it finishes. When the script asks for a restart, it calls restart, which may be nil
// when the scenario has none. logs returns the output of the servers, for the failures.
func runScript(t *testing.T, root, chromium, shots string, env []string, restart func(), logs func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join("test", "browser", "chat.mjs"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "SCREENSHOT_DIR="+shots)
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	var seen []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var ev struct{ Event string }
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Errorf("chat.mjs printed a line that is not JSON: %q", sc.Text())
			continue
		}
		t.Logf("chat.mjs: %s", sc.Text())
		seen = append(seen, ev.Event)
		if ev.Event == "restart" {
			if restart == nil {
				t.Errorf("chat.mjs asked for a restart in a scenario without one")
				continue
			}
			restart()
			_, _ = io.WriteString(stdin, "restarted\n")
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("chat.mjs: %v\nevents: %v\nstderr:\n%s\nserver:\n%s", err, seen, stderr.String(), logs())
	}
	if !slices.Contains(seen, "done") {
		t.Fatalf("chat.mjs did not finish: events %v\nstderr:\n%s", seen, stderr.String())
	}
}

// checkLogs checks that a stopped server logged its clients' connections and disconnections,
// and no error of the Redis adapter.
func checkLogs(t *testing.T, srv *server) {
	t.Helper()
	out := srv.out.String()
	for _, want := range []string{"A client has connected: ", "A client has disconnected: "} {
		if !strings.Contains(out, want) {
			t.Errorf("the server did not log %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"redis adapter: ", "presence of #"} {
		if strings.Contains(out, bad) {
			t.Errorf("the server logged %q:\n%s", bad, out)
		}
	}
}

// server is a running echo-chat process.
type server struct {
	cmd     *exec.Cmd
	out     *lockedBuffer
	done    chan struct{}
	stopped bool
}

// startServer starts the example on addr, with more command-line arguments, and waits until it
// serves its page.
func startServer(t *testing.T, bin, addr string, args ...string) *server {
	t.Helper()
	s := &server{out: new(lockedBuffer), done: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"-addr", addr, "-redis", ""}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, err := client.Get("http://" + addr + "/")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("echo-chat exited:\n%s", s.out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop(t)
			t.Fatalf("echo-chat did not serve / within 15 s:\n%s", s.out.String())
		}
	}
}

// stop ends the server as an operator would, with SIGTERM, and checks that it shut down
// cleanly within 10 s and that the race detector found nothing.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.stopped {
		return
	}
	s.stopped = true
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Errorf("echo-chat did not stop within 10 s of SIGTERM:\n%s", s.out.String())
	}
	if strings.Contains(s.out.String(), "DATA RACE") {
		t.Errorf("the race detector found a race in echo-chat:\n%s", s.out.String())
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// lockedBuffer collects a process's output; it is read while the process writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// redisServer is a redis-server process on a free loopback port, without persistence.
type redisServer struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// startRedis starts a redis-server and waits until it answers PING.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: run `make redis-deps` (make test does it)")
	}
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	s := &redisServer{addr: addr, done: make(chan struct{})}
	s.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "yes")
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_, _ = c.Write([]byte("PING\r\n"))
			buf := make([]byte, 16)
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := c.Read(buf)
			_ = c.Close()
			if string(buf[:n]) == "+PONG\r\n" {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("redis-server on port %s exited", port)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop(t)
			t.Fatalf("redis-server on port %s did not start", port)
		}
	}
}

// stop kills the redis-server and waits until it is gone.
func (s *redisServer) stop(t *testing.T) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Errorf("redis-server did not stop")
	}
	s.cmd = nil
}
