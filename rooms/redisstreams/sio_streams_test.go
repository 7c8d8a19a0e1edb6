package redisstreams_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"io"
	"math/rand/v2"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms/redisstreams"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// newStreamsSioNode starts a Go Socket.IO server with the streams adapter and connection
// state recovery.
func newStreamsSioNode(t *testing.T, srv *redistest.Server, name string, opts redisstreams.Options) *redistest.SioNode {
	t.Helper()
	errs := &redistest.ErrLog{}
	opts.OnError = errs.Add
	opts.Recovery = true
	return redistest.NewSioNodeOpts(t, name, errs, socketio.Options{
		Adapter:                 redisstreams.New(srv.Client(t), opts),
		ConnectionStateRecovery: &socketio.Recovery{},
	})
}

// switchProxy is a TCP proxy in front of the servers of a test: each connection goes to the
// current target, or to a random one of the targets (spread) that accepts it; without one,
// connections are closed at once. Clients that reconnect through it land where the test says.
type switchProxy struct {
	ln      net.Listener
	mu      sync.Mutex
	targets []string
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

func startProxy(t *testing.T) *switchProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.drop()
		p.wg.Wait()
	})
	return p
}

func (p *switchProxy) url() string { return "http://" + p.ln.Addr().String() }

// point sends the new connections to the server at url ("" closes them).
func (p *switchProxy) point(url string) {
	if url == "" {
		p.spread()
	} else {
		p.spread(url)
	}
}

// spread sends each new connection to a random one of the servers at urls that accepts it.
func (p *switchProxy) spread(urls ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.targets = nil
	for _, u := range urls {
		p.targets = append(p.targets, strings.TrimPrefix(u, "http://"))
	}
}

// dial connects to a random target that accepts the connection.
func (p *switchProxy) dial() (net.Conn, error) {
	p.mu.Lock()
	targets := slices.Clone(p.targets)
	p.mu.Unlock()
	rand.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	err := errors.New("no target")
	for _, t := range targets {
		var b net.Conn
		if b, err = net.DialTimeout("tcp", t, 5*time.Second); err == nil {
			return b, nil
		}
	}
	return nil, err
}

// drop closes every connection going through the proxy.
func (p *switchProxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

func (p *switchProxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *switchProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			b, err := p.dial()
			if err != nil {
				_ = c.Close()
				return
			}
			p.track(c, true)
			p.track(b, true)
			done := make(chan struct{})
			go func() {
				_, _ = io.Copy(b, c)
				_ = b.Close()
				close(done)
			}()
			_, _ = io.Copy(c, b)
			_ = c.Close()
			<-done
			p.track(c, false)
			p.track(b, false)
		}()
	}
}

var offsetRE = regexp.MustCompile(`^\d+-\d+$`)

// withoutOffsets returns the arguments got of each client without their last one, after
// checking that it is a stream entry ID: the offset of a broadcast with recovery.
func withoutOffsets(t *testing.T, got map[string][]string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, list := range got {
		for _, args := range list {
			var a []json.RawMessage
			if err := json.Unmarshal([]byte(args), &a); err != nil || len(a) == 0 {
				t.Fatalf("client %s: arguments %s", name, args)
			}
			var off string
			if json.Unmarshal(a[len(a)-1], &off) != nil || !offsetRE.MatchString(off) {
				t.Errorf("client %s: %s ends without an offset", name, args)
				out[name] = append(out[name], args)
				continue
			}
			out[name] = append(out[name], redistest.JSONString(a[:len(a)-1]))
		}
	}
	return out
}

// waitSessions waits until Redis holds n recovery sessions of the sockets sids (of any
// socket without sids).
func waitSessions(t *testing.T, js *redistest.JSClients, srv *redistest.Server, n int, sids ...string) {
	t.Helper()
	rdb := srv.Client(t)
	js.WaitFor(t, fmt.Sprintf("%d sessions of %v in Redis", n, sids), 15*time.Second, func() bool {
		ctx := redistest.CtxT(t, 5*time.Second)
		keys, err := rdb.Keys(ctx, redisstreams.DefaultSessionKeyPrefix+"*").Result()
		if err != nil {
			return false
		}
		found := 0
		for _, k := range keys {
			v, err := rdb.Get(ctx, k).Result()
			b, _ := base64.StdEncoding.DecodeString(v) // MessagePack: the sid is in it as it is
			if err == nil && (len(sids) == 0 || slices.ContainsFunc(sids, func(sid string) bool { return bytes.Contains(b, []byte(sid)) })) {
				found++
			}
		}
		return found == n
	})
}

// TestSocketIOStreamsMixedCluster runs a Node socket.IO server with
// @socket.IO/redis-streams-adapter and two Go servers with the streams adapter on one Redis,
// recovery on everywhere, with official clients on every server:
//
//	N1: n1a {r1}, n1b {r2}
//	G1: g1 {r1, go}
//	G2: g2 {r1, r2}
//
// and a client that moves between the servers through a proxy and recovers each time.
func TestSocketIOStreamsMixedCluster(t *testing.T) {
	srv := redistest.Start(t)
	opts := redisstreams.Options{RequestsTimeout: 3 * time.Second, BlockTime: 500 * time.Millisecond}
	g1 := newStreamsSioNode(t, srv, "G1", opts)
	g2 := newStreamsSioNode(t, srv, "G2", opts)
	for _, n := range []*redistest.SioNode{g1, g2} {
		n.IO.Of("/").OnServerSideEmit("nodeAsk", func(_ socketio.Args, ack func(...any) error) {
			_ = ack(n.Name + " answer")
		})
	}
	js := redistest.StartClientsScript(t, srv, "streams.mjs")
	n1URL := js.Call(t, "serve", map[string]any{"server": "n1"}).Str("url")
	js.WaitFor(t, "three servers", 10*time.Second, func() bool {
		n, err := g1.Adapter.ServerCount(redistest.CtxT(t, 5*time.Second))
		return err == nil && n == 3
	})
	js.Connect(t, "n1a", n1URL, "r1")
	js.Connect(t, "n1b", n1URL, "r2")
	js.Connect(t, "g1", g1.URL, "r1", "go")
	js.Connect(t, "g2", g2.URL, "r1", "r2")
	everyone := []string{"n1a", "n1b", "g1", "g2"}

	t.Run("ok, server count", func(t *testing.T) {
		if got := js.Call(t, "nodeCount", map[string]any{"server": "n1"})["count"]; got != 3.0 {
			t.Fatalf("Node serverCount = %v, want 3", got)
		}
	})
	t.Run("ok, Go broadcasts with binary reach every server's clients, with offsets", func(t *testing.T) {
		m := js.Mark()
		if err := g1.IO.To("r1").Emit("fromGo", "text", []byte{1, 2, 3}, map[string]any{"deep": [][]byte{{4}, {}}}); err != nil {
			t.Fatal(err)
		}
		if err := g2.IO.To("r1", "r2").Except("r2").Emit("goExcept"); err != nil {
			t.Fatal(err)
		}
		if err := g1.IO.To(js.Sid("n1b")).Emit("direct", []byte{9}); err != nil {
			t.Fatal(err)
		}
		js.WaitGot(t, m, "fromGo", "n1a", "g1", "g2")
		js.WaitGot(t, m, "goExcept", "n1a", "g1")
		js.WaitGot(t, m, "direct", "n1b")
		js.Sync(t, g1, "sync", everyone...)
		redistest.ExpectOnce(t, withoutOffsets(t, js.Got(m, "fromGo")), "fromGo", `["text",{"$bin":"010203"},{"deep":[{"$bin":"04"},{"$bin":""}]}]`, "n1a", "g1", "g2")
		redistest.ExpectOnce(t, withoutOffsets(t, js.Got(m, "goExcept")), "goExcept", `[]`, "n1a", "g1")
		redistest.ExpectOnce(t, withoutOffsets(t, js.Got(m, "direct")), "direct", `[{"$bin":"09"}]`, "n1b")
		// Every server gives a broadcast the same offset: the ID of its stream entry.
		offsets := map[string]bool{}
		for _, list := range js.Got(m, "fromGo") {
			offsets[list[0][strings.LastIndex(list[0], ","):]] = true
		}
		if len(offsets) != 1 {
			t.Errorf("fromGo arrived with different offsets: %v", offsets)
		}
	})
	t.Run("ok, Node broadcasts with binary reach the Go servers' clients", func(t *testing.T) {
		m := js.Mark()
		js.Call(t, "nodeEmit", map[string]any{"server": "n1", "to": []string{"r1"}, "ev": "fromNode",
			"args": []any{"hi", redistest.Bin([]byte{4, 5, 6}), map[string]any{"nested": redistest.Bin([]byte{0, 255})}}})
		js.Call(t, "nodeEmit", map[string]any{"server": "n1", "to": []string{"go"}, "ev": "toGo", "args": []any{1}})
		js.Call(t, "nodeEmit", map[string]any{"server": "n1", "except": []string{"r2"}, "ev": "notR2"})
		js.WaitGot(t, m, "fromNode", "n1a", "g1", "g2")
		js.WaitGot(t, m, "toGo", "g1")
		js.WaitGot(t, m, "notR2", "n1a", "g1")
		js.Call(t, "nodeEmit", map[string]any{"server": "n1", "ev": "sync"})
		js.WaitGot(t, m, "sync", everyone...)
		redistest.ExpectOnce(t, withoutOffsets(t, js.Got(m, "fromNode")), "fromNode", `["hi",{"$bin":"040506"},{"nested":{"$bin":"00ff"}}]`, "n1a", "g1", "g2")
		redistest.ExpectOnce(t, withoutOffsets(t, js.Got(m, "toGo")), "toGo", `[1]`, "g1")
		redistest.ExpectOnce(t, withoutOffsets(t, js.Got(m, "notR2")), "notR2", `[]`, "n1a", "g1")
	})
	t.Run("ok, fetchSockets both ways", func(t *testing.T) {
		res := js.Call(t, "nodeFetch", map[string]any{"server": "n1"})
		got := map[string]string{}
		for _, s := range res["sockets"].([]any) {
			m := s.(map[string]any)
			got[m["id"].(string)] = redistest.JSONString(m["data"]) + " " + redistest.JSONString(m["rooms"])
		}
		want := map[string]string{}
		for name, rs := range map[string][]string{"n1a": {"r1"}, "n1b": {"r2"}, "g1": {"go", "r1"}, "g2": {"r1", "r2"}} {
			want[js.Sid(name)] = `{"name":"` + name + `"} ` + redistest.JSONString(redistest.SortedStrings(append(rs, js.Sid(name))...))
		}
		if redistest.JSONString(got) != redistest.JSONString(want) {
			t.Fatalf("Node fetchSockets:\n%s\nwant\n%s", redistest.JSONString(got), redistest.JSONString(want))
		}
		for _, n := range []*redistest.SioNode{g1, g2} {
			got := n.Fetch(t)
			if want := redistest.SortedStrings(js.Sid("n1a"), js.Sid("n1b"), js.Sid("g1"), js.Sid("g2")); !slices.Equal(redistest.SortedKeys(got), want) {
				t.Fatalf("node %s: FetchSockets found %v, want %v", n.Name, redistest.SortedKeys(got), want)
			}
			s := got[js.Sid("n1b")]
			if string(s.Data()) != `{"name":"n1b"}` || redistest.JoinSorted(s.Rooms()) != redistest.JoinSorted([]string{js.Sid("n1b"), "r2"}) {
				t.Errorf("node %s: n1b is %s %v", n.Name, s.Data(), s.Rooms())
			}
		}
	})
	t.Run("ok, broadcasts with acks gather the acks of the clients of every server", func(t *testing.T) {
		replies, err := g2.IO.To("r1").Timeout(5*time.Second).EmitWithAck(redistest.CtxT(t, 10*time.Second), "poll")
		if err != nil {
			t.Fatal(err)
		}
		if names := redistest.ReplyNames(t, replies); !slices.Equal(names, []string{"g1", "g2", "n1a"}) {
			t.Fatalf("Go emitWithAck: acks from %v", names)
		}
		res := js.Call(t, "nodeAsk", map[string]any{"server": "n1", "to": []string{"r2"}, "ev": "poll"})
		if got := redistest.JSONString(res["answers"]); got != `["g2","n1b"]` {
			t.Fatalf("Node emitWithAck answers %s", got)
		}
		res = js.Call(t, "nodeSSEAsk", map[string]any{"server": "n1", "ev": "nodeAsk"})
		if got := redistest.JSONString(res["answers"]); got != `["G1 answer","G2 answer"]` {
			t.Fatalf("Node serverSideEmitWithAck answers %s", got)
		}
	})
	t.Run("ok, socketsJoin of a Node server reaches a Go server's socket", func(t *testing.T) {
		js.Call(t, "nodeJoin", map[string]any{"server": "n1", "in": []string{"go"}, "room": "joined"})
		js.WaitFor(t, "g1 in joined", 10*time.Second, func() bool { return len(g1.IO.Of("/").Adapter().Sockets("joined")) == 1 })
		m := js.Mark()
		if err := g2.IO.To("joined").Emit("toJoined"); err != nil {
			t.Fatal(err)
		}
		js.WaitGot(t, m, "toJoined", "g1")
	})
	t.Run("ok, a client recovers on the other servers, Node and Go", func(t *testing.T) {
		// The Go servers' sockets of rc, for direct emits after the client left.
		var mu sync.Mutex
		rcSocket := map[string]*socketio.Socket{}
		for _, n := range []*redistest.SioNode{g1, g2} {
			n.IO.OnConnection(func(s *socketio.Socket) {
				var auth struct {
					Name string `json:"name"`
				}
				if s.Auth(&auth) == nil && auth.Name == "rc" {
					mu.Lock()
					rcSocket[n.Name] = s
					mu.Unlock()
				}
			})
		}
		proxy := startProxy(t)
		proxy.point(n1URL)
		sid := js.Call(t, "rconnect", map[string]any{"name": "rc", "url": proxy.url(), "rooms": []string{"rec"}}).Str("sid")
		// The client recovers from the offset of the last broadcast it got.
		m := js.Mark()
		if err := g1.IO.To("rec").Emit("hello"); err != nil {
			t.Fatal(err)
		}
		js.WaitGot(t, m, "hello", "rc")
		// N1 -> G1 -> G2 -> N1: each time the connection drops, broadcasts from every server
		// reach the room, and the client comes back on the next server.
		hops := []struct {
			to  string
			url string
		}{{"G1", g1.URL}, {"G2", g2.URL}, {"N1", n1URL}}
		seq, left := 0, "N1"
		for _, hop := range hops {
			m := js.Mark()
			proxy.point("")
			proxy.drop()
			js.WaitFor(t, "rc disconnected", 10*time.Second, func() bool { return len(js.Disconnects(m)["rc"]) > 0 })
			waitSessions(t, js, srv, 1, sid)
			var want []string
			rdb := srv.Client(t)
			froms := []string{"G1", "N1", "G2"}
			if left != "N1" {
				froms = append(froms, "direct") // Socket.Emit on the server the client left
			}
			for _, from := range froms {
				before := rdb.XLen(redistest.CtxT(t, 5*time.Second), redisstreams.DefaultStreamName).Val()
				seq++
				ev := fmt.Sprintf(`[%d,"%s",{"$bin":"%02x"}]`, seq, from, seq)
				want = append(want, ev)
				switch from {
				case "N1":
					js.Call(t, "nodeEmit", map[string]any{"server": "n1", "to": []string{"rec"}, "ev": "missed", "args": []any{seq, from, redistest.Bin([]byte{byte(seq)})}})
				case "G1":
					if err := g1.IO.To("rec").Emit("missed", seq, from, []byte{byte(seq)}); err != nil {
						t.Fatal(err)
					}
				case "G2":
					if err := g2.IO.To("rec").Emit("missed", seq, from, []byte{byte(seq)}); err != nil {
						t.Fatal(err)
					}
				case "direct":
					mu.Lock()
					s := rcSocket[left]
					mu.Unlock()
					if err := s.Emit("missed", seq, from, []byte{byte(seq)}); err != nil {
						t.Fatal(err)
					}
				}
				// A Node server adds the entry after its emit returns: wait for it, so that
				// the stream has the broadcasts in the order of the list.
				js.WaitFor(t, "the entry of "+from, 10*time.Second, func() bool {
					return rdb.XLen(redistest.CtxT(t, 5*time.Second), redisstreams.DefaultStreamName).Val() > before
				})
			}
			proxy.point(hop.url)
			js.WaitFor(t, "rc reconnected on "+hop.to, 15*time.Second, func() bool { return len(js.ConnectedEvents(m, "rc")) > 0 })
			c := js.ConnectedEvents(m, "rc")[0]
			if c.Str("sid") != sid || c["recovered"] != true {
				t.Fatalf("on %s: rc connected as %v, recovered %v; want %s recovered", hop.to, c.Str("sid"), c["recovered"], sid)
			}
			js.WaitFor(t, "the missed events on "+hop.to, 10*time.Second, func() bool { return len(js.Got(m, "missed")["rc"]) >= len(want) })
			if got := withoutOffsets(t, js.Got(m, "missed"))["rc"]; !slices.Equal(got, want) {
				t.Fatalf("on %s: rc got %v, want %v", hop.to, got, want)
			}
			// The rooms came back: a new broadcast reaches the client on its new server.
			m2 := js.Mark()
			if err := g2.IO.To("rec").Emit("after", hop.to); err != nil {
				t.Fatal(err)
			}
			js.WaitGot(t, m2, "after", "rc")
			left = hop.to
		}
		waitSessions(t, js, srv, 0, sid)
	})
	for _, n := range []*redistest.SioNode{g1, g2} {
		if errs := n.Errs.List(); len(errs) > 0 {
			t.Errorf("node %s reported %v", n.Name, errs)
		}
	}
}

// TestSocketIOStreamsNodeDies cuts every connection of a Go server while another one
// broadcasts to its clients' room: the clients reconnect through the proxy to a third
// server and recover there with their IDs, and each gets every broadcast once, in order.
func TestSocketIOStreamsNodeDies(t *testing.T) {
	const clients, total, cutAt = 5, 300, 100
	srv := redistest.Start(t)
	opts := redisstreams.Options{RequestsTimeout: 3 * time.Second, BlockTime: 500 * time.Millisecond}
	g1 := newStreamsSioNode(t, srv, "G1", opts)
	g2 := newStreamsSioNode(t, srv, "G2", opts)
	g3 := newStreamsSioNode(t, srv, "G3", opts)
	js := redistest.StartClientsScript(t, srv, "streams.mjs")
	proxy := startProxy(t)
	proxy.point(g1.URL)
	names := make([]string, clients)
	sids := map[string]string{}
	for i := range names {
		names[i] = fmt.Sprintf("c%d", i)
		sids[names[i]] = js.Call(t, "rconnect", map[string]any{"name": names[i], "url": proxy.url(), "rooms": []string{"load"}}).Str("sid")
	}
	if n := len(g1.IO.Of("/").Adapter().Sockets("load")); n != clients {
		t.Fatalf("G1 has %d sockets in load", n)
	}
	m := js.Mark()
	if err := g2.IO.To("load").Emit("hello"); err != nil {
		t.Fatal(err)
	}
	js.WaitGot(t, m, "hello", names...)

	cut := make(chan struct{})
	sent := make(chan error, 1)
	go func() {
		for i := 1; i <= total; i++ {
			if err := g2.IO.To("load").Emit("seq", i); err != nil {
				sent <- err
				return
			}
			if i == cutAt {
				close(cut)
			}
			time.Sleep(2 * time.Millisecond)
		}
		sent <- nil
	}()
	<-cut
	// G1 dies: its connections break, and new ones go to G3.
	proxy.point(g3.URL)
	g1.HS.CloseClientConnections()
	proxy.drop()
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	checkRecoveredSeqs(t, js, m, names, sids, total)
	if n := len(g3.IO.Of("/").Adapter().Sockets("load")); n != clients {
		t.Errorf("G3 has %d sockets in load, want %d", n, clients)
	}
	for _, n := range []*redistest.SioNode{g2, g3} {
		if errs := n.Errs.List(); len(errs) > 0 {
			t.Errorf("node %s reported %v", n.Name, errs)
		}
	}
}

// checkRecoveredSeqs waits until every client of names got the "seq" broadcast total (after
// mark m), then checks that each got the broadcasts 1..total once each, in order, and
// connected once more after m, recovered, with its socket ID of sids.
func checkRecoveredSeqs(t *testing.T, js *redistest.JSClients, m int, names []string, sids map[string]string, total int) {
	t.Helper()
	js.WaitFor(t, "every client at the last broadcast", 30*time.Second, func() bool {
		got := js.Got(m, "seq")
		for _, name := range names {
			list := got[name]
			if len(list) == 0 || !strings.HasPrefix(list[len(list)-1], fmt.Sprintf("[%d,", total)) {
				return false
			}
		}
		return true
	})
	got := js.Got(m, "seq")
	for _, name := range names {
		var seqs []int
		for _, args := range got[name] {
			var a []json.RawMessage
			var n int
			if json.Unmarshal([]byte(args), &a) != nil || len(a) != 2 || json.Unmarshal(a[0], &n) != nil {
				t.Fatalf("client %s got seq %s", name, args)
			}
			seqs = append(seqs, n)
		}
		for i, n := range seqs {
			if n != i+1 {
				t.Fatalf("client %s got the broadcasts %v, want 1..%d once each in order", name, seqs, total)
			}
		}
		if len(seqs) != total {
			t.Fatalf("client %s got %d broadcasts, want %d", name, len(seqs), total)
		}
		conns := js.ConnectedEvents(m, name)
		if len(conns) != 1 || conns[0].Str("sid") != sids[name] || conns[0]["recovered"] != true {
			t.Errorf("client %s reconnected as %v, want one recovered connection as %s", name, conns, sids[name])
		}
	}
}
