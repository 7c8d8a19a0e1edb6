package redisadapter_test

import (
	"context"
	"encoding/json"
	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// TestSocketIONoStickySessions runs three Go servers with Engine.IO forwarding and the Redis
// adapter behind a load balancer that sends every HTTP request and every websocket to a random
// server. Official clients (three on long-polling only, one that upgrades to websocket) each
// emit 1,000 events with acknowledgements, which the servers broadcast to the room of all
// clients: every client gets every acknowledgement, and every client's 1,000 broadcasts once
// each, in order.
func TestSocketIONoStickySessions(t *testing.T) {
	const n = 1000
	srv := redistest.Start(t)
	ids := []string{"n1", "n2", "n3"}
	listeners := map[string]net.Listener{}
	peers := map[string]string{}
	for _, id := range ids {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listeners[id] = l
		peers[id] = "http://" + l.Addr().String()
	}
	errs := &redistest.ErrLog{}
	var backends []*url.URL
	var servers []*socketio.Server
	var forwarded atomic.Int64 // requests a server got from another one
	for _, id := range ids {
		sio := socketio.NewServer(socketio.Options{
			Adapter: redisadapter.New(srv.Client(t), redisadapter.Options{OnError: errs.Add}),
			Engine:  engineio.Options{Forwarding: &engineio.Forwarding{NodeID: id, Peers: peers}},
		})
		sio.OnConnection(func(s *socketio.Socket) {
			var auth struct {
				Name  string   `json:"name"`
				Rooms []string `json:"rooms"`
			}
			_ = s.Auth(&auth)
			s.Join(auth.Rooms...)
			s.On("ready", func(ack socketio.Ack) { _ = ack(true) })
			s.On("msg", func(i int, ack socketio.Ack) {
				_ = ack(i)
				_ = sio.To("all").Emit("echo", auth.Name, i)
			})
		})
		count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get(engineio.ForwardedHeader) != "" {
				forwarded.Add(1)
			}
			sio.ServeHTTP(w, r)
		})
		hs := &http.Server{Handler: count, ReadHeaderTimeout: 10 * time.Second}
		l := listeners[id]
		go func() { _ = hs.Serve(l) }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = sio.Shutdown(ctx)
			_ = hs.Close()
		})
		u, _ := url.Parse(peers[id])
		backends = append(backends, u)
		servers = append(servers, sio)
	}
	// The load balancer: a random server for each request and each websocket.
	var picks [3]atomic.Int64
	lb := httptest.NewServer(&httputil.ReverseProxy{
		ErrorLog: log.New(io.Discard, "", 0), // clients that leave cancel their requests
		Rewrite: func(pr *httputil.ProxyRequest) {
			i := rand.IntN(len(backends))
			picks[i].Add(1)
			pr.SetURL(backends[i])
		},
	})
	t.Cleanup(func() { lb.CloseClientConnections(); lb.Close() })

	js := redistest.StartClientsScript(t, srv, "lb.mjs")
	clients := []struct {
		name       string
		transports []string
	}{{"p1", []string{"polling"}}, {"p2", []string{"polling"}}, {"p3", []string{"polling"}}, {"u1", []string{"polling", "websocket"}}}
	var senders []string
	for _, c := range clients {
		senders = append(senders, c.name)
	}
	for i, c := range clients {
		line, _ := json.Marshal(map[string]any{"cmd": "run", "id": float64(1000 + i), "name": c.name, "url": lb.URL,
			"transports": c.transports, "n": n, "senders": senders})
		if _, err := js.Stdin.Write(append(line, '\n')); err != nil {
			t.Fatal(err)
		}
	}
	js.WaitFor(t, "every client ready", 30*time.Second, func() bool {
		return len(js.Find(func(e nodetest.Event) bool { return e.Name() == "ready" })) == len(clients)
	})
	// One server tells the room to start: the broadcast reaches the clients of every server.
	if err := servers[0].To("all").Emit("go"); err != nil {
		t.Fatal(err)
	}
	var results []nodetest.Event
	js.WaitFor(t, "every client done", 240*time.Second, func() bool {
		results = js.Find(func(e nodetest.Event) bool { return e.Name() == "done" })
		return len(results) == len(clients)
	})
	for _, r := range results {
		name := clients[int(r["id"].(float64))-1000].name
		if e := r.Str("error"); e != "" {
			t.Fatalf("client %s: %s", name, e)
		}
		if r["acks"] != float64(n) {
			t.Errorf("client %s: %v acknowledgements, want %d", name, r["acks"], n)
		}
		got, _ := r["got"].(map[string]any)
		for _, s := range senders {
			if got[s] != float64(n) {
				t.Errorf("client %s: %v broadcasts of %s, want %d", name, got[s], s, n)
			}
		}
		if errs, _ := r["errors"].([]any); len(errs) > 0 {
			t.Errorf("client %s: %v", name, errs)
		}
		if want := map[string]string{"u1": "websocket"}[name]; want != "" && r.Str("transport") != want {
			t.Errorf("client %s ended on %s, want %s", name, r.Str("transport"), want)
		} else if want == "" && r.Str("transport") != "polling" {
			t.Errorf("client %s ended on %s", name, r.Str("transport"))
		}
	}
	t.Logf("requests and websockets per server: %d, %d, %d; forwarded to the session's server: %d",
		picks[0].Load(), picks[1].Load(), picks[2].Load(), forwarded.Load())
	if forwarded.Load() == 0 {
		t.Error("no request was forwarded: the test did not exercise forwarding")
	}
	if list := errs.List(); len(list) > 0 {
		t.Errorf("adapters reported %v", list)
	}
}
