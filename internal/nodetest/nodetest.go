// Package nodetest runs the official JavaScript clients under Node for the interop tests.
//
// The clients are installed from the repository's package-lock.json by `make test` (npm ci).
// A missing installation fails the test with a message that says how to install it; it is
// never skipped.
package nodetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Root returns the repository root: the nearest parent directory holding go.mod.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("nodetest: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("nodetest: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Event is one line of JSON a script printed.
type Event map[string]any

// Name returns the event's "event" field.
func (e Event) Name() string { s, _ := e["event"].(string); return s }

// Str returns the string field k of the event.
func (e Event) Str(k string) string { s, _ := e[k].(string); return s }

// Result is what a script printed and how it ended.
type Result struct {
	Events []Event
	Stderr string
}

// Find returns the first event with the given name, or nil.
func (r *Result) Find(name string) Event {
	for _, e := range r.Events {
		if e.Name() == name {
			return e
		}
	}
	return nil
}

// All returns the events with the given name.
func (r *Result) All(name string) []Event {
	var out []Event
	for _, e := range r.Events {
		if e.Name() == name {
			out = append(out, e)
		}
	}
	return out
}

// Run runs test/interop/<script> under Node with the given environment (KEY=VALUE) and
// returns the JSON events it printed on stdout, one per line. The script must exit 0 within
// timeout; otherwise the test fails with its output.
func Run(t testing.TB, timeout time.Duration, script string, env ...string) *Result {
	t.Helper()
	return RunFile(t, timeout, filepath.Join(Root(t), "test", "interop", script), env...)
}

// RunFile is Run for a script at any path, such as one of test/redis.
func RunFile(t testing.TB, timeout time.Duration, path string, env ...string) *Result {
	t.Helper()
	root := Root(t)
	script := filepath.Base(path)
	if _, err := os.Stat(filepath.Join(root, "node_modules", "engine.io-client")); err != nil {
		t.Fatalf("nodetest: the official clients are not installed: run `npm ci` in %s (make test does it)", root)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", path)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := &Result{Stderr: stderr.String()}
	sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var e Event
		if jerr := json.Unmarshal([]byte(line), &e); jerr != nil {
			t.Fatalf("nodetest: %s printed a line that is not JSON: %q", script, line)
		}
		res.Events = append(res.Events, e)
	}
	if err != nil {
		t.Fatalf("nodetest: %s %v: %v\nstdout:\n%s\nstderr:\n%s", script, env, err, stdout.String(), stderr.String())
	}
	return res
}

// Describe formats the events for a failure message.
func (r *Result) Describe() string {
	var b strings.Builder
	for _, e := range r.Events {
		j, _ := json.Marshal(e)
		fmt.Fprintf(&b, "%s\n", j)
	}
	return b.String()
}
