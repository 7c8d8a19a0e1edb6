// Package diff_test is the differential test of the server against the official one: the same
// scripted sessions run against the Node application of test/diff/server.mjs (socket.io 4.8.4
// from the repository's lockfile) and against the same application in Go (fixture_test.go),
// and their wire traces must be equal once the values that must differ are masked. A
// difference is a bug, or a choice listed in docs/compatibility.md and in knownDifferences.
package diff_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
)

// env is what a session script gets: a way to make clients against one server.
type env struct {
	tag     string // the session's name, which tags its disconnections
	base    string
	tr      *trace
	clients []*client
}

// client returns a new client of the endpoint path. Its trace lines are prefixed with name.
func (e *env) client(name, path string) *client {
	c := &client{
		name: name,
		base: e.base,
		path: path,
		tr:   e.tr,
		hc:   &http.Client{Timeout: readTimeout, Transport: &http.Transport{DisableCompression: true}},
	}
	if name != "" {
		c.name = name + " "
	}
	e.clients = append(e.clients, c)
	return c
}

func (e *env) close() {
	for _, c := range e.clients {
		c.stop()
		c.hc.CloseIdleConnections()
	}
}

// session is one scripted session.
type session struct {
	name string
	run  func(e *env)
}

// startNode starts the reference application and returns its base URL.
func startNode(t *testing.T) string {
	t.Helper()
	root := nodetest.Root(t)
	if _, err := os.Stat(filepath.Join(root, "node_modules", "socket.io")); err != nil {
		t.Fatalf("socket.io is not installed: run `npm ci` in %s (make test does it)", root)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", filepath.Join(root, "test", "diff", "server.mjs"))
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		_ = stdin.Close() // the server exits when its stdin closes
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cancel()
			<-done
		}
		cancel()
	})
	ready := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m struct{ Port int }
			if json.Unmarshal(sc.Bytes(), &m) == nil && m.Port != 0 {
				ready <- m.Port
			}
		}
	}()
	select {
	case port := <-ready:
		return fmt.Sprintf("http://127.0.0.1:%d", port)
	case <-time.After(30 * time.Second):
		t.Fatal("the Node reference server did not start within 30 s")
		return ""
	}
}

// runSession runs s against the server at base and returns its masked trace.
func runSession(s session, base string) []string {
	e := &env{tag: s.name, base: base, tr: newTrace()}
	func() {
		defer func() {
			if r := recover(); r != nil {
				e.tr.add("script panicked: %v", r)
			}
		}()
		s.run(e)
	}()
	e.close()
	return e.tr.masked()
}

// compare returns "" when the traces are equal, or a description of the first difference.
func compare(node, gol []string) string {
	n := max(len(node), len(gol))
	for i := range n {
		var a, b string
		if i < len(node) {
			a = node[i]
		}
		if i < len(gol) {
			b = gol[i]
		}
		if a != b {
			var sb strings.Builder
			fmt.Fprintf(&sb, "first difference at line %d:\n  node: %s\n  go:   %s\n", i+1, a, b)
			fmt.Fprintf(&sb, "node trace:\n  %s\ngo trace:\n  %s", strings.Join(node, "\n  "), strings.Join(gol, "\n  "))
			return sb.String()
		}
	}
	return ""
}

func TestDifferential(t *testing.T) {
	nodeURL := startNode(t)
	handler, shutdown := newFixture()
	goSrv := httptest.NewServer(handler)
	t.Cleanup(func() {
		goSrv.CloseClientConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shutdown(ctx)
		goSrv.Close()
	})
	all := sessions()
	if len(all) < 40 {
		t.Fatalf("%d sessions, want at least 40", len(all))
	}
	for _, s := range all {
		t.Run(s.name, func(t *testing.T) {
			var node, gol []string
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); node = runSession(s, nodeURL) }()
			go func() { defer wg.Done(); gol = runSession(s, goSrv.URL) }()
			wg.Wait()
			diff := compare(node, gol)
			reason, known := knownDifferences[s.name]
			switch {
			case diff != "" && !known:
				t.Errorf("the traces differ outside the mask; %s", diff)
			case diff != "" && known:
				t.Logf("known difference (%s); %s", reason, diff)
			case diff == "" && known:
				t.Errorf("the session is listed as a known difference (%s) but the traces are equal: remove it from knownDifferences", reason)
			}
			if testing.Verbose() && diff == "" {
				t.Logf("trace:\n  %s", strings.Join(gol, "\n  "))
			}
		})
	}
}

// knownDifferences lists the sessions whose traces are expected to differ, with the reason;
// each is described in docs/compatibility.md. A listed session whose traces become equal
// fails the test, so the list cannot go stale.
var knownDifferences = map[string]string{
	// Choices (docs/compatibility.md).
	"eio/websocket handshake EIO=3": "a websocket handshake for Engine.IO 3 (or without EIO) is refused with 400 before the upgrade; Node completes it, then drops the TCP connection",
	"eio/upgrade without probe":     "an upgrade packet without a probe before it abandons the upgrade; Node upgrades",
	"sio/json as written polling":   "raw arguments are relayed as the JSON text the client wrote; Node re-serializes them",
	"sio/json as written websocket": "raw arguments are relayed as the JSON text the client wrote; Node re-serializes them",
	"sio/volatile polling":          "a volatile packet is dropped only when the send queue is full; Node drops it whenever no poll is pending",
}
