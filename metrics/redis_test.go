package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"github.com/echo-socketio/echo-socketio/metrics"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// TestAdapterRequestsOnRedis times the requests of the Redis adapter between two servers and
// counts their errors once Redis is gone.
func TestAdapterRequestsOnRedis(t *testing.T) {
	rs := redistest.Start(t)
	node := func() *socketio.Server {
		rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1, DialTimeout: time.Second})
		srv := socketio.NewServer(socketio.Options{Adapter: redisadapter.New(rdb, redisadapter.Options{RequestsTimeout: 3 * time.Second})})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			_ = rdb.Close()
		})
		return srv
	}
	a := node()
	m, err := metrics.New(a, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	ms := httptest.NewServer(mux)
	defer ms.Close()
	_ = node() // server B, which answers A's requests

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := a.FetchSockets(ctx); err != nil {
		t.Fatalf("FetchSockets with two servers: %v", err)
	}
	if err := a.SocketsJoin(ctx, "r"); err != nil {
		t.Fatalf("SocketsJoin with two servers: %v", err)
	}
	p := scrape(t, ms.URL)
	for _, op := range []string{"fetchSockets", "addSockets"} {
		if got := p.get("socketio_adapter_request_duration_seconds", "namespace", "/", "op", op); got != 1 {
			t.Errorf("%s requests timed = %v, want 1", op, got)
		}
		if got := p.sum("socketio_adapter_request_duration_seconds", "namespace", "/", "op", op); got <= 0 {
			t.Errorf("%s request duration sum = %v, want more than 0", op, got)
		}
		if got := p.get("socketio_adapter_errors_total", "namespace", "/", "op", op); got != 0 {
			t.Errorf("%s errors = %v before the outage", op, got)
		}
	}

	rs.Stop()
	if _, err := a.FetchSockets(ctx); err == nil {
		t.Fatal("FetchSockets did not fail without Redis")
	}
	if err := a.SocketsJoin(ctx, "r"); err == nil {
		t.Fatal("SocketsJoin did not fail without Redis")
	}
	p = scrape(t, ms.URL)
	for _, op := range []string{"fetchSockets", "addSockets"} {
		if got := p.get("socketio_adapter_request_duration_seconds", "namespace", "/", "op", op); got != 2 {
			t.Errorf("%s requests timed = %v, want 2", op, got)
		}
		if got := p.get("socketio_adapter_errors_total", "namespace", "/", "op", op); got != 1 {
			t.Errorf("%s errors = %v after the outage, want 1", op, got)
		}
	}
}
