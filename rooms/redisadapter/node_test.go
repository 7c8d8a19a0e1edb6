package redisadapter_test

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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// nodeProc is a Node script of test/redis running beside the test: its JSON lines arrive on
// events, commands go to its standard input.
type nodeProc struct {
	*script
	events chan nodetest.Event
}

// script is a Node script of test/redis running beside the test.
type script struct {
	stdin  io.WriteCloser
	stderr *syncBuffer
	done   chan struct{} // closed when its standard output ends
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func nodeScript(t *testing.T, name string) string {
	root := nodetest.Root(t)
	if _, err := os.Stat(filepath.Join(root, "node_modules", "@socket.io", "redis-adapter")); err != nil {
		t.Fatalf("the Node packages are not installed: run `npm ci` in %s (make test does it)", root)
	}
	return filepath.Join(root, "test", "redis", name)
}

// runScript runs test/redis/<name>, with env added to the environment, until the test
// ends: it then asks the script to quit, and kills it after 10 s. One goroutine passes each
// line of its standard output to onLine, and runs onEnd (when not nil) after the last.
func runScript(t *testing.T, name string, env []string, onLine func([]byte), onEnd func()) *script {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, "node", nodeScript(t, name))
	cmd.Dir = nodetest.Root(t)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 2 * time.Second
	p := &script{stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
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
		_, _ = io.WriteString(p.stdin, `{"cmd":"quit"}`+"\n")
		_ = p.stdin.Close()
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

// startNodeScript runs test/redis/<name> until the test ends.
func startNodeScript(t *testing.T, name string, env ...string) *nodeProc {
	t.Helper()
	p := &nodeProc{events: make(chan nodetest.Event, 100)}
	p.script = runScript(t, name, env, func(line []byte) {
		var e nodetest.Event
		if json.Unmarshal(line, &e) != nil {
			t.Errorf("%s printed %q", name, line)
			return
		}
		p.events <- e
	}, func() { close(p.events) })
	return p
}

// next returns the next event with the given name, skipping others into skipped.
func (p *nodeProc) next(t testing.TB, name string, d time.Duration) nodetest.Event {
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

// do runs a command of server.mjs and returns its result.
func (p *nodeProc) do(t testing.TB, cmd string) nodetest.Event {
	t.Helper()
	if _, err := io.WriteString(p.stdin, `{"cmd":"`+cmd+`"}`+"\n"); err != nil {
		t.Fatal(err)
	}
	e := p.next(t, "done", 10*time.Second)
	if e.Str("cmd") != cmd || e.Str("error") != "" {
		t.Fatalf("node %s: %v", cmd, e)
	}
	return e
}

func TestNodeEmitter(t *testing.T) {
	srv := startRedis(t)
	g := newNode(t, srv, "g", redisadapter.Options{})
	admin := newNodeNS(t, srv, "/admin", "g-admin", redisadapter.Options{})
	g.ns.connect("g1", "room1")
	g.ns.connect("g2", "room2")
	admin.ns.connect("ga1")

	start := time.Now()
	res := nodetest.RunFile(t, 30*time.Second, nodeScript(t, "emitter.mjs"), "REDIS_URL=redis://"+srv.Addr())
	if res.Find("published") == nil {
		t.Fatalf("emitter: %s", res.Describe())
	}
	g.ns.waitFor(t, "last", 5*time.Second, func() bool {
		return slices.ContainsFunc(g.ns.deliveries(), func(d delivery) bool { return d.Event == "last" })
	})
	t.Logf("emitter script took %v", time.Since(start).Round(time.Millisecond))
	byEvent := map[string]delivery{}
	for _, d := range g.ns.deliveries() {
		if _, dup := byEvent[d.Event]; dup {
			t.Fatalf("%s delivered twice", d.Event)
		}
		byEvent[d.Event] = d
	}
	check := func(ev, data string, want []rooms.SocketID) delivery {
		t.Helper()
		d, ok := byEvent[ev]
		if !ok {
			t.Fatalf("%s not delivered; got\n%s", ev, fmtDeliveries(g.ns.deliveries()))
		}
		if d.Data != data || !slices.Equal(d.IDs, want) {
			t.Fatalf("%s: %s to %v, want %s to %v", ev, d.Data, d.IDs, data, want)
		}
		return d
	}
	check("hello", `["hello","world",{"n":1}]`, ids("g1"))
	bin := check("bin", `["bin",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`, ids("g1"))
	if len(bin.Attachments) != 2 || !bytes.Equal(bin.Attachments[0], []byte{1, 2, 3}) || string(bin.Attachments[1]) != "hi" {
		t.Fatalf("bin attachments %v", bin.Attachments)
	}
	check("notroom1", `["notroom1",42]`, ids("g2"))
	if d := check("tworooms", `["tworooms"]`, ids("g1", "g2")); !d.Flags.Volatile {
		t.Error("volatile flag lost")
	}
	check("last", `["last"]`, ids("g1", "g2"))
	admin.ns.waitFor(t, "admin", 5*time.Second, func() bool { return len(admin.ns.deliveries()) == 1 })
	if d := admin.ns.deliveries()[0]; d.Data != `["admin",true]` {
		t.Fatalf("admin: %s", d.Data)
	}
	g.ns.waitFor(t, "join", 5*time.Second, func() bool { return slices.Equal(g.adapter.Sockets("joined"), []rooms.SocketID{"g1"}) })
	g.ns.waitFor(t, "server-side emit", 5*time.Second, func() bool { return len(g.ns.sseCalls()) == 1 })
	if c := g.ns.sseCalls()[0]; c.Event != "fromEmitter" || len(c.Args) != 2 || c.Args[1].String() != "2" {
		t.Fatalf("server-side emit %+v", c)
	}
}

func TestNodeServerCluster(t *testing.T) {
	srv := startRedis(t)
	g := newNode(t, srv, "g", redisadapter.Options{})
	g2 := newNode(t, srv, "g2", redisadapter.Options{PublishOnSpecificResponseChannel: true})
	g.ns.connect("g1", "room1", "goroom")
	g2.ns.connect("h1", "goroom")

	start := time.Now()
	np := startNodeScript(t, "server.mjs", "REDIS_URL=redis://"+srv.Addr())
	ready := np.next(t, "ready", 30*time.Second)
	nodeSID := rooms.SocketID(ready.Str("sid"))
	t.Logf("node server ready after %v", time.Since(start).Round(time.Millisecond))
	ctx := ctxT(t, 30*time.Second)
	if n, err := g.adapter.ServerCount(ctx); err != nil || n != 3 {
		t.Fatalf("ServerCount = %d, %v", n, err)
	}
	if c := np.do(t, "count"); c["count"] != float64(3) {
		t.Fatalf("node serverCount: %v", c)
	}

	t.Run("ok, Go fetchSockets sees the Node server's socket", func(t *testing.T) {
		for _, a := range []*redisadapter.Adapter{g.adapter, g2.adapter} {
			got, err := a.FetchSockets(ctx, rooms.Selection{Rooms: []rooms.Room{"room1"}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(socketIDs(got), ids("g1", string(nodeSID))) {
				t.Fatalf("got %v", socketIDs(got))
			}
			for _, s := range got {
				if s.ID == nodeSID && (string(s.Data) != `{"from":"node"}` || s.Handshake == nil ||
					!strings.Contains(s.Handshake.URL, "who=node-client") || len(s.Handshake.Headers.Values("host")) != 1 ||
					!slices.Contains(s.Rooms, "room1")) {
					j, _ := json.Marshal(s)
					t.Fatalf("node socket %s", j)
				}
			}
		}
	})
	t.Run("ok, Node fetchSockets sees the Go servers' sockets", func(t *testing.T) {
		res := np.do(t, "fetch")
		var got []string
		for _, s := range res["sockets"].([]any) {
			m := s.(map[string]any)
			got = append(got, m["id"].(string))
			if m["id"] == "g1" && (!slices.Contains(toStrings(m["rooms"]), "goroom") || m["headers"].(map[string]any)["x-node"] != "g") {
				t.Fatalf("g1 as Node sees it: %v", m)
			}
		}
		slices.Sort(got)
		want := []string{"g1", "h1", string(nodeSID)}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("node fetchSockets: %v, want %v", got, want)
		}
	})
	t.Run("ok, a Go broadcast with binary reaches the Node client", func(t *testing.T) {
		if err := g.adapter.Broadcast(event(t, "goEvent", "text", []byte{1, 2, 3}), rooms.Selection{Rooms: []rooms.Room{"room1"}}); err != nil {
			t.Fatal(err)
		}
		e := np.next(t, "client-got", 5*time.Second)
		j, _ := json.Marshal(e)
		if e.Str("name") != "goEvent" || !strings.Contains(string(j), `"args":["text",{"buffer":"010203"}]`) {
			t.Fatalf("node client got %s", j)
		}
	})
	t.Run("ok, a Node broadcast with binary reaches the Go sockets", func(t *testing.T) {
		np.do(t, "emit")
		for _, n := range []*node{g, g2} {
			n.ns.waitFor(t, "fromNode", 5*time.Second, func() bool {
				return slices.ContainsFunc(n.ns.deliveries(), func(d delivery) bool { return d.Event == "fromNode" })
			})
		}
		for _, d := range g.ns.deliveries() {
			if d.Event == "fromNode" && (!slices.Equal(d.IDs, ids("g1")) || len(d.Attachments) != 1 || !bytes.Equal(d.Attachments[0], []byte{4, 5, 6}) ||
				d.Data != `["fromNode","hi",{"_placeholder":true,"num":0}]`) {
				t.Fatalf("g got %s", fmtDeliveries([]delivery{d}))
			}
		}
		e := np.next(t, "client-got", 5*time.Second)
		if e.Str("name") != "notGoroom" {
			t.Fatalf("node client got %v", e)
		}
	})
	t.Run("ok, Go server-side emit reaches Node, with and without ack", func(t *testing.T) {
		if _, err := g.adapter.ServerSideEmit(ctx, "goSSE", append(rawArgs(t, `"a"`, `{"b":2}`), parser.BinaryArg([]byte{1, 2})), false); err != nil {
			t.Fatal(err)
		}
		// The binary argument travels in MessagePack, which the Node adapter reads as a Buffer.
		if e := np.next(t, "sse", 5*time.Second); e.Str("name") != "goSSE" || jsonString(e["args"]) != `["a",{"b":2},{"buffer":"0102"}]` {
			t.Fatalf("node got %v", e)
		}
		res, err := g.adapter.ServerSideEmit(ctx, "goAsk", rawArgs(t, `1`), true)
		if err != nil {
			t.Fatal(err)
		}
		var answers []string
		for _, r := range res {
			answers = append(answers, r[0].String())
		}
		slices.Sort(answers)
		if !slices.Equal(answers, []string{`"node answer"`, `"pong from g2"`}) {
			t.Fatalf("answers %v", answers)
		}
	})
	t.Run("ok, Node server-side emit reaches Go, with and without ack", func(t *testing.T) {
		res := np.do(t, "sse")
		if got := toStrings(res["answers"]); !slices.Equal(sorted(got), []string{"pong from g", "pong from g2"}) {
			t.Fatalf("node answers %v", res)
		}
		calls := g.ns.sseCalls()
		if len(calls) < 2 || calls[0].Event != "nodeSSE" || calls[0].Args[1].String() != `{"y":1}` || calls[1].Event != "nodeAsk" || !calls[1].Ack {
			t.Fatalf("g got %+v", calls)
		}
	})
	t.Run("ok, Go broadcast with acks gathers the Node client's ack", func(t *testing.T) {
		var mu sync.Mutex
		var acks []string
		counted := make(chan int, 1)
		p := event(t, "question", "?")
		p.ID, p.HasID = 1, true
		err := g.adapter.BroadcastWithAck(p, rooms.Selection{Rooms: []rooms.Room{"room1", "goroom"}, Flags: rooms.Flags{Timeout: 3 * time.Second}},
			func(n int) { counted <- n },
			func(_ rooms.SocketID, args parser.Args) {
				mu.Lock()
				acks = append(acks, args[0].String())
				mu.Unlock()
			})
		if err != nil {
			t.Fatal(err)
		}
		if n := <-counted; n != 3 {
			t.Fatalf("count %d, want 3", n)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			got := sorted(slices.Clone(acks))
			mu.Unlock()
			if slices.Equal(got, []string{`"ack g1"`, `"ack h1"`, `"node client answer"`}) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("acks %v", got)
			}
			time.Sleep(20 * time.Millisecond)
		}
		np.next(t, "client-got", 5*time.Second)
	})
	t.Run("ok, Node broadcast with acks gathers the Go sockets' acks", func(t *testing.T) {
		res := np.do(t, "bwa")
		if got := toStrings(res["answers"]); !slices.Equal(got, []string{"ack g1", "node client answer"}) {
			t.Fatalf("node answers %v", res)
		}
	})
	t.Run("ok, Node socketsJoin reaches the Go sockets", func(t *testing.T) {
		np.do(t, "join")
		g.ns.waitFor(t, "join", 5*time.Second, func() bool { return slices.Equal(g.adapter.Sockets("nodejoined"), []rooms.SocketID{"g1"}) })
		g2.ns.waitFor(t, "join", 5*time.Second, func() bool { return slices.Equal(g2.adapter.Sockets("nodejoined"), []rooms.SocketID{"h1"}) })
	})
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func sorted(s []string) []string { slices.Sort(s); return s }
