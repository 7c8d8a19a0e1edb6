package redisadapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server process of one test, on a free loopback port.
type redisServer struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func (s *redisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// startRedis starts a redis-server without persistence and stops it when the test ends.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: run `make redis-deps` (apt-get install redis-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &redisServer{t: t, port: port}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *redisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "yes")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.cmd, s.done)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err == nil {
			_, _ = c.Write([]byte("PING\r\n"))
			buf := make([]byte, 16)
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := c.Read(buf)
			_ = c.Close()
			if string(buf[:n]) == "+PONG\r\n" {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on port %d did not start", s.port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Errorf("redis-server did not stop")
	}
	s.cmd = nil
}

// restart stops redis-server and starts it again on the same port.
func (s *redisServer) restart() {
	s.stop()
	s.start()
}

// client returns a client of the server, closed when the test ends.
func (s *redisServer) client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// delivery is one packet a namespace delivered.
type delivery struct {
	Event       string
	Data        string
	Attachments [][]byte
	IDs         []rooms.SocketID
	Flags       rooms.Flags
	HasID       bool
}

// sseCall is one server-side event a namespace received.
type sseCall struct {
	Event string
	Args  parser.Args
	Ack   bool
}

// recNS is a rooms.Namespace that records what the adapter asks of it.
type recNS struct {
	name string
	node string

	mu           sync.Mutex
	adapter      rooms.Adapter
	delivered    []delivery
	infos        map[rooms.SocketID]sockets.Info
	disconnected []rooms.SocketID
	sse          []sseCall
	changed      chan struct{}
}

func newRecNS(name, node string) *recNS {
	return &recNS{name: name, node: node, infos: map[rooms.SocketID]sockets.Info{}, changed: make(chan struct{}, 1)}
}

func (n *recNS) Name() string { return n.name }

func (n *recNS) signal() {
	select {
	case n.changed <- struct{}{}:
	default:
	}
}

func (n *recNS) record(p *parser.Packet, ids []rooms.SocketID, flags rooms.Flags) {
	ev, _ := parser.EventName(p.Data)
	ids = slices.Clone(ids)
	slices.Sort(ids)
	n.mu.Lock()
	n.delivered = append(n.delivered, delivery{Event: ev, Data: string(p.Data), Attachments: p.Attachments, IDs: ids, Flags: flags, HasID: p.HasID})
	n.mu.Unlock()
	n.signal()
}

func (n *recNS) Deliver(p *parser.Packet, ids []rooms.SocketID, flags rooms.Flags) {
	n.record(p, ids, flags)
}

func (n *recNS) DeliverWithAck(p *parser.Packet, ids []rooms.SocketID, flags rooms.Flags, ack rooms.AckFunc) int {
	n.record(p, ids, flags)
	for _, id := range ids {
		ack(id, rawArgs(nil, strconv.Quote("ack "+string(id))))
	}
	return len(ids)
}

func (n *recNS) SocketInfo(id rooms.SocketID) (sockets.Info, bool) {
	n.mu.Lock()
	info, ok := n.infos[id]
	a := n.adapter
	n.mu.Unlock()
	if ok {
		info.Rooms = a.SocketRooms(id)
		sort.Slice(info.Rooms, func(i, j int) bool { return info.Rooms[i] < info.Rooms[j] })
	}
	return info, ok
}

func (n *recNS) Disconnect(id rooms.SocketID, closeConn bool) {
	n.mu.Lock()
	n.disconnected = append(n.disconnected, id)
	delete(n.infos, id)
	a := n.adapter
	n.mu.Unlock()
	a.DelAll(id)
	n.signal()
}

func (n *recNS) ServerSideEmit(event string, args parser.Args, ack func(args parser.Args)) {
	n.mu.Lock()
	n.sse = append(n.sse, sseCall{Event: event, Args: args, Ack: ack != nil})
	n.mu.Unlock()
	if ack != nil {
		ack(rawArgs(nil, strconv.Quote("pong from "+n.node)))
	}
	n.signal()
}

// connect adds a local socket in rooms (and its own room).
func (n *recNS) connect(id rooms.SocketID, rs ...rooms.Room) {
	n.mu.Lock()
	n.infos[id] = sockets.Info{ID: id, Handshake: &sockets.Handshake{
		Headers: map[string][]string{"host": {"localhost"}, "x-node": {n.node}},
		Time:    "Thu Jan 01 1970", Address: "127.0.0.1", Issued: 1700000000000, URL: "/socket.io/?EIO=4",
		Query: map[string][]string{"EIO": {"4"}}, Auth: json.RawMessage(`{"token":"t"}`),
	}, Data: json.RawMessage(`{"node":"` + n.node + `"}`)}
	a := n.adapter
	n.mu.Unlock()
	a.AddAll(id, append([]rooms.Room{rooms.Room(id)}, rs...)...)
}

func (n *recNS) deliveries() []delivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.delivered)
}

func (n *recNS) sseCalls() []sseCall {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.sse)
}

func (n *recNS) disconnects() []rooms.SocketID {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.disconnected)
}

// waitFor waits until cond holds, checking on each change and every 20 ms.
func (n *recNS) waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-n.changed:
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s: timed out waiting for %s", n.node, what)
		}
	}
}

// node is one server of a test cluster.
type node struct {
	ns      *recNS
	adapter *redisadapter.Adapter
	errs    *errLog
}

type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) add(err error) { l.mu.Lock(); l.errs = append(l.errs, err); l.mu.Unlock() }

func (l *errLog) list() []error { l.mu.Lock(); defer l.mu.Unlock(); return slices.Clone(l.errs) }

// newNode starts a server of the cluster on srv, with its own Redis client.
func newNode(t testing.TB, srv *redisServer, name string, opts redisadapter.Options) *node {
	t.Helper()
	return newNodeNS(t, srv, "/", name, opts)
}

func newNodeNS(t testing.TB, srv *redisServer, nsp, name string, opts redisadapter.Options) *node {
	t.Helper()
	ns := newRecNS(nsp, name)
	errs := &errLog{}
	if opts.OnError == nil {
		opts.OnError = errs.add
	}
	a := redisadapter.New(srv.client(t), opts)(ns).(*redisadapter.Adapter)
	ns.mu.Lock()
	ns.adapter = a
	ns.mu.Unlock()
	t.Cleanup(func() { _ = a.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Ready(ctx); err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	return &node{ns: ns, adapter: a, errs: errs}
}

func event(t testing.TB, name string, args ...any) *parser.Packet {
	t.Helper()
	data, atts, err := parser.MarshalEvent(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	typ := parser.Event
	if len(atts) > 0 {
		typ = parser.BinaryEvent
	}
	return &parser.Packet{Type: typ, Namespace: "/", Data: data, Attachments: atts}
}

func ids(s ...string) []rooms.SocketID {
	out := make([]rooms.SocketID, len(s))
	for i, x := range s {
		out[i] = rooms.SocketID(x)
	}
	slices.Sort(out)
	return out
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func fmtDeliveries(ds []delivery) string {
	s := ""
	for _, d := range ds {
		s += fmt.Sprintf("  %s %v %s atts=%d\n", d.Event, d.IDs, d.Data, len(d.Attachments))
	}
	return s
}

// rawArgs returns the arguments whose JSON texts are raws. t may be nil where an invalid text
// is a programming error.
func rawArgs(t *testing.T, raws ...string) parser.Args {
	out := make(parser.Args, len(raws))
	for i, r := range raws {
		a, err := parser.NewArg(json.RawMessage(r), nil)
		if err != nil {
			if t == nil {
				panic(err)
			}
			t.Fatal(err)
		}
		out[i] = a
	}
	return out
}
