package redistest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
)

// NodeProc is a Node script of test/redis running beside the test: its JSON lines arrive on
// events, commands go to its standard input.
type NodeProc struct {
	*Script
	events chan nodetest.Event
}

// Script is a Node script of test/redis running beside the test.
type Script struct {
	Stdin  io.WriteCloser
	stderr *SyncBuffer
	done   chan struct{} // closed when its standard output ends
}

type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func NodeScript(t *testing.T, name string) string {
	root := nodetest.Root(t)
	if _, err := os.Stat(filepath.Join(root, "node_modules", "@socket.io", "redis-adapter")); err != nil {
		t.Fatalf("the Node packages are not installed: run `npm ci` in %s (make test does it)", root)
	}
	return filepath.Join(root, "test", "redis", name)
}

// RunScript runs test/redis/<name>, with env added to the environment, until the test
// ends: it then asks the script to quit, and kills it after 10 s. One goroutine passes each
// line of its standard output to onLine, and runs onEnd (when not nil) after the last.
func RunScript(t *testing.T, name string, env []string, onLine func([]byte), onEnd func()) *Script {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, "node", NodeScript(t, name))
	cmd.Dir = nodetest.Root(t)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 2 * time.Second
	p := &Script{stderr: &SyncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.Stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			onLine(sc.Bytes())
		}
		if onEnd != nil {
			onEnd()
		}
	}()
	t.Cleanup(func() {
		_, _ = io.WriteString(p.Stdin, `{"cmd":"quit"}`+"\n")
		_ = p.Stdin.Close()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
		_ = cmd.Wait()
		cancel()
	})
	return p
}

// StartNodeScript runs test/redis/<name> until the test ends.
func StartNodeScript(t *testing.T, name string, env ...string) *NodeProc {
	t.Helper()
	p := &NodeProc{events: make(chan nodetest.Event, 100)}
	p.Script = RunScript(t, name, env, func(line []byte) {
		var e nodetest.Event
		if json.Unmarshal(line, &e) != nil {
			t.Errorf("%s printed %q", name, line)
			return
		}
		p.events <- e
	}, func() { close(p.events) })
	return p
}

// Next returns the next event with the given name, skipping others into skipped.
func (p *NodeProc) Next(t testing.TB, name string, d time.Duration) nodetest.Event {
	t.Helper()
	timer := time.After(d)
	for {
		select {
		case e, ok := <-p.events:
			if !ok {
				t.Fatalf("node exited before %q; stderr:\n%s", name, p.stderr.String())
			}
			if e.Name() == name {
				return e
			}
			t.Logf("node: %v", e)
		case <-timer:
			t.Fatalf("node: no %q within %v; stderr:\n%s", name, d, p.stderr.String())
		}
	}
}

// Do runs a command of server.mjs and returns its result.
func (p *NodeProc) Do(t testing.TB, cmd string) nodetest.Event {
	t.Helper()
	if _, err := io.WriteString(p.Stdin, `{"cmd":"`+cmd+`"}`+"\n"); err != nil {
		t.Fatal(err)
	}
	e := p.Next(t, "done", 10*time.Second)
	if e.Str("cmd") != cmd || e.Str("error") != "" {
		t.Fatalf("node %s: %v", cmd, e)
	}
	return e
}

func ToStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func Sorted(s []string) []string { slices.Sort(s); return s }
