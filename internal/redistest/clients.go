package redistest

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// SioNode is a Go Socket.IO server of a test cluster, on its own HTTP server, with the Redis
// adapter. Its clients send auth {name, rooms}: the server joins the rooms and stores the name.
type SioNode struct {
	Name    string
	IO      *socketio.Server
	URL     string
	Adapter ClusterAdapter
	Errs    *ErrLog
	HS      *httptest.Server
}

// ClusterAdapter is the part of the classic and sharded adapters the tests use.
type ClusterAdapter interface {
	rooms.Adapter
	Ready(ctx context.Context) error
}

func NewSioNodeWith(t *testing.T, name string, errs *ErrLog, adapter rooms.Factory, parser ...socketio.Parser) *SioNode {
	t.Helper()
	o := socketio.Options{Adapter: adapter}
	if len(parser) > 0 {
		o.Parser = parser[0]
	}
	return NewSioNodeOpts(t, name, errs, o)
}

// NewSioNodeOpts starts a Go Socket.IO server with the options opts.
func NewSioNodeOpts(t *testing.T, name string, errs *ErrLog, opts socketio.Options) *SioNode {
	t.Helper()
	n := &SioNode{Name: name, Errs: errs}
	n.IO = socketio.NewServer(opts)
	n.IO.OnConnection(func(s *socketio.Socket) {
		var auth struct {
			Name  string   `json:"name"`
			Rooms []string `json:"rooms"`
		}
		_ = s.Auth(&auth)
		s.Set("name", auth.Name)
		s.Join(auth.Rooms...)
		s.On("ready", func(ack socketio.Ack) { _ = ack(true) })
		// relay broadcasts from the socket, so the sender is left out.
		s.On("relay", func(to []string, ev string, args []json.RawMessage, ack socketio.Ack) {
			out := make([]any, len(args))
			for i, a := range args {
				out[i] = a
			}
			_ = ack(s.To(to...).Emit(ev, out...) == nil)
		})
		// relayArgs broadcasts its arguments after the first two (the rooms and the event) as
		// they came, binary values kept, from the raw handler form.
		s.On("relayArgs", func(args socketio.Args, ack socketio.Ack) {
			var to []string
			var ev string
			if len(args) < 2 || args.Decode(&to, &ev) != nil {
				_ = ack(false)
				return
			}
			_ = ack(s.To(to...).Emit(ev, args[2:].Any()...) == nil)
		})
		// relayBin decodes a binary argument into a []byte and broadcasts it again.
		s.On("relayBin", func(to []string, data []byte, ack socketio.Ack) {
			_ = ack(s.To(to...).Emit("bin", data, map[string]any{"from": n.Name}) == nil)
		})
	})
	hs := httptest.NewServer(n.IO)
	n.URL, n.HS = hs.URL, hs
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.IO.Shutdown(ctx)
		hs.CloseClientConnections()
		hs.Close()
	})
	n.Adapter = n.IO.Of("/").Adapter().(ClusterAdapter)
	if err := n.Adapter.Ready(CtxT(t, 5*time.Second)); err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	return n
}

// Fetch returns the sockets FetchSockets of the node finds in rooms (all when none), by ID.
func (n *SioNode) Fetch(t *testing.T, rs ...string) map[string]*socketio.RemoteSocket {
	t.Helper()
	socks, err := n.IO.In(rs...).FetchSockets(CtxT(t, 10*time.Second))
	if err != nil {
		t.Fatalf("node %s: FetchSockets(%v): %v", n.Name, rs, err)
	}
	out := map[string]*socketio.RemoteSocket{}
	for _, s := range socks {
		if _, dup := out[s.ID()]; dup {
			t.Fatalf("node %s: FetchSockets lists %s twice", n.Name, s.ID())
		}
		out[s.ID()] = s
	}
	return out
}

// JSClients is test/redis/cluster.mjs running beside the test: official socket.io-client
// clients, and on demand a Node socket.io server of the cluster and a Redis emitter.
type JSClients struct {
	*Script

	mu      sync.Mutex
	events  []nodetest.Event
	nextID  int
	sids    map[string]string // client name -> socket ID
	changed chan struct{}
}

func StartClients(t *testing.T, srv *Server) *JSClients {
	t.Helper()
	return StartClientsScript(t, srv, "cluster.mjs")
}

// StartClientsScript runs test/redis/<script>, which speaks the commands of cluster.mjs.
func StartClientsScript(t *testing.T, srv *Server, script string, env ...string) *JSClients {
	t.Helper()
	c := &JSClients{sids: map[string]string{}, changed: make(chan struct{}, 1)}
	// Registered first, this check runs after the script has ended.
	t.Cleanup(func() {
		if bad := c.Find(func(e nodetest.Event) bool { return e.Name() == "garbage" }); len(bad) > 0 {
			t.Errorf("cluster.mjs printed lines that are not JSON: %v", bad)
		}
	})
	c.Script = RunScript(t, script, append([]string{"REDIS_URL=redis://" + srv.Addr}, env...), func(line []byte) {
		var e nodetest.Event
		if json.Unmarshal(line, &e) != nil {
			e = nodetest.Event{"event": "garbage", "line": string(line)}
		}
		c.mu.Lock()
		c.events = append(c.events, e)
		c.mu.Unlock()
		c.signal()
	}, nil)
	return c
}

func (c *JSClients) signal() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// Find returns the events for which match holds.
func (c *JSClients) Find(match func(nodetest.Event) bool) []nodetest.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []nodetest.Event
	for _, e := range c.events {
		if match(e) {
			out = append(out, e)
		}
	}
	return out
}

// WaitFor waits until cond holds.
func (c *JSClients) WaitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-c.changed:
		case <-tick.C:
		case <-c.done:
			t.Fatalf("cluster.mjs exited while waiting for %s; stderr:\n%s", what, c.stderr.String())
		case <-deadline:
			t.Fatalf("timed out waiting for %s; events:\n%s\nstderr:\n%s", what, c.describe(), c.stderr.String())
		}
	}
}

func (c *JSClients) describe() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := nodetest.Result{Events: c.events}
	return r.Describe()
}

// Call runs a command of cluster.mjs and returns its result.
func (c *JSClients) Call(t *testing.T, cmd string, fields map[string]any) nodetest.Event {
	t.Helper()
	c.mu.Lock()
	c.nextID++
	id := float64(c.nextID)
	c.mu.Unlock()
	msg := map[string]any{"cmd": cmd, "id": id}
	for k, v := range fields {
		msg[k] = v
	}
	line, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stdin.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
	var res nodetest.Event
	c.WaitFor(t, cmd+" to finish", 15*time.Second, func() bool {
		got := c.Find(func(e nodetest.Event) bool { return e.Name() == "done" && e["id"] == id })
		if len(got) > 0 {
			res = got[0]
		}
		return res != nil
	})
	if res.Str("error") != "" {
		t.Fatalf("cluster.mjs %s %v: %s", cmd, fields, res.Str("error"))
	}
	return res
}

// Connect connects the client name to url over websocket, in rooms, and returns its socket ID.
func (c *JSClients) Connect(t *testing.T, name, url string, rs ...string) string {
	t.Helper()
	return c.ConnectWith(t, map[string]any{"name": name, "url": url, "rooms": rs})
}

// ConnectWith connects a client with the options of cluster.mjs's connect command.
func (c *JSClients) ConnectWith(t *testing.T, opts map[string]any) string {
	t.Helper()
	if opts["rooms"] == nil || len(opts["rooms"].([]string)) == 0 {
		opts["rooms"] = []string{}
	}
	name := opts["name"].(string)
	sid := c.Call(t, "connect", opts).Str("sid")
	if sid == "" {
		t.Fatalf("client %s: no socket ID", name)
	}
	c.mu.Lock()
	c.sids[name] = sid
	c.mu.Unlock()
	return sid
}

// Sid returns the socket ID of a client.
func (c *JSClients) Sid(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sids[name]
}

// Mark returns the number of events so far, for got.
func (c *JSClients) Mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

// Got returns the JSON arguments of the events named ev that each client received after mark.
func (c *JSClients) Got(mark int, ev string) map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]string{}
	for _, e := range c.events[mark:] {
		if e.Name() == "got" && e.Str("name") == ev {
			out[e.Str("client")] = append(out[e.Str("client")], JSONString(e["args"]))
		}
	}
	return out
}

// Disconnects returns the reasons of the disconnections of each client after mark.
func (c *JSClients) Disconnects(mark int) map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]string{}
	for _, e := range c.events[mark:] {
		if e.Name() == "disconnect" {
			out[e.Str("client")] = append(out[e.Str("client")], e.Str("reason"))
		}
	}
	return out
}

// Sync sends the event marker to every socket of the cluster from n and waits until clients
// have it: every broadcast n sent before has then reached them, as Redis and each socket keep
// the order of one publisher's messages.
func (c *JSClients) Sync(t *testing.T, n *SioNode, marker string, clients ...string) {
	t.Helper()
	m := c.Mark()
	if err := n.IO.Emit(marker); err != nil {
		t.Fatal(err)
	}
	c.WaitFor(t, marker, 10*time.Second, func() bool {
		got := c.Got(m, marker)
		for _, name := range clients {
			if len(got[name]) == 0 {
				return false
			}
		}
		return true
	})
}

// ExpectOnce checks that exactly the clients in want got the event ev after mark, each once,
// with the JSON arguments args.
func ExpectOnce(t *testing.T, got map[string][]string, ev string, args string, want ...string) {
	t.Helper()
	for _, name := range want {
		if len(got[name]) != 1 || got[name][0] != args {
			t.Errorf("%s: client %s got %v, want one %s", ev, name, got[name], args)
		}
	}
	for name, list := range got {
		if !slices.Contains(want, name) {
			t.Errorf("%s: client %s got %v, want nothing", ev, name, list)
		}
	}
}

func JSONString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// Bin is the form of binary values in cluster.mjs's JSON.
func Bin(b []byte) map[string]any { return map[string]any{"$bin": hex.EncodeToString(b)} }

func SortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func SortedStrings(s ...string) []string { s = slices.Clone(s); sort.Strings(s); return s }

func JoinSorted(s []string) string { return strings.Join(SortedStrings(s...), ",") }

// PlainArgs is the JSON of args with their binary values as {"$bin": hex}, as cluster.mjs
// prints them.
func PlainArgs(args socketio.Args) string {
	out := make([]any, len(args))
	for i, a := range args {
		var v any
		if err := a.Decode(&v); err != nil {
			return fmt.Sprintf("undecodable %s: %v", a, err)
		}
		out[i] = PlainValue(v)
	}
	return JSONString(out)
}

func PlainValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return Bin(x)
	case []any:
		for i := range x {
			x[i] = PlainValue(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = PlainValue(x[k])
		}
	}
	return v
}

// WaitGot waits until each of clients has received the event ev after mark. Messages on
// different channels may arrive in any order, so a marker on the namespace's channel does
// not prove that a room's channel delivered.
func (c *JSClients) WaitGot(t *testing.T, mark int, ev string, clients ...string) {
	t.Helper()
	c.WaitFor(t, ev, 10*time.Second, func() bool {
		got := c.Got(mark, ev)
		for _, name := range clients {
			if len(got[name]) == 0 {
				return false
			}
		}
		return true
	})
}

// ReplyNames decodes the first argument of each reply as a string, sorted.
func ReplyNames(t *testing.T, replies []socketio.Reply) []string {
	t.Helper()
	var names []string
	for _, r := range replies {
		var name string
		if err := r.Decode(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ConnectedEvents returns the connections of client name after mark: sid and recovered.
func (c *JSClients) ConnectedEvents(mark int, name string) []nodetest.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []nodetest.Event
	for _, e := range c.events[mark:] {
		if e.Name() == "connected" && e.Str("client") == name {
			out = append(out, e)
		}
	}
	return out
}
