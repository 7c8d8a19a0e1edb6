package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/metrics"
	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// page is one reading of /metrics.
type page map[string]*dto.MetricFamily

// scrape reads the /metrics page of the server at base.
func scrape(t testing.TB, base string) page {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", res.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// find returns the sample of metric name whose labels include the given pairs (name, value,
// name, value...), or nil.
func (p page) find(name string, labels ...string) *dto.Metric {
	fam := p[name]
	if fam == nil {
		return nil
	}
next:
	for _, m := range fam.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			if !hasLabel(m, labels[i], labels[i+1]) {
				continue next
			}
		}
		return m
	}
	return nil
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// get returns the value of a sample (see find): a counter's or gauge's value, a histogram's
// sample count. A missing sample reads 0.
func (p page) get(name string, labels ...string) float64 {
	m := p.find(name, labels...)
	switch {
	case m == nil:
		return 0
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return 0
}

// sum returns the sum of a histogram's sample (see find), or 0.
func (p page) sum(name string, labels ...string) float64 {
	return p.find(name, labels...).GetHistogram().GetSampleSum()
}

// newServer returns a server with metrics, mounted with its /metrics page on a test HTTP
// server.
func newServer(t *testing.T, opts socketio.Options) (*socketio.Server, *httptest.Server) {
	t.Helper()
	srv := socketio.NewServer(opts)
	m, err := metrics.New(srv, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	mux.Handle("/socket.io/", srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	return srv, hs
}

func TestMetricsFollowTheOfficialClients(t *testing.T) {
	var opts socketio.Options
	opts.Engine.AllowRequest = func(r *http.Request) error {
		if r.URL.Query().Get("refuse") != "" {
			return errors.New("refused by the application")
		}
		return nil
	}
	srv, hs := newServer(t, opts)
	var mu sync.Mutex
	pages := map[string]page{}
	srv.OnConnection(func(s *socketio.Socket) {
		s.Join("room")
		s.On("checkpoint", func(name string, ack socketio.Ack) {
			p := scrape(t, hs.URL)
			mu.Lock()
			pages[name] = p
			mu.Unlock()
			_ = ack()
		})
		s.On("echo", func(v string, ack socketio.Ack) { _ = ack(v) })
		other := func() *socketio.Socket {
			for _, o := range srv.Sockets() {
				if o.ID() != s.ID() {
					return o
				}
			}
			return nil
		}
		s.On("ask-b", func(ack socketio.Ack) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r, err := other().EmitWithAck(ctx, "ask")
			var answer string
			if err == nil {
				err = r.Decode(&answer)
			}
			_ = ack(answer, err != nil)
		})
		s.On("ask-b-timeout", func(ack socketio.Ack) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			_, err := other().EmitWithAck(ctx, "ignore")
			_ = ack(errors.Is(err, socketio.ErrAckTimeout))
		})
		s.On("bcast", func(ack socketio.Ack) { _ = ack(srv.To("room").Emit("news", "hello") == nil) })
		s.On("wait-sockets", func(n int, ack socketio.Ack) {
			deadline := time.Now().Add(10 * time.Second)
			for len(srv.Sockets()) != n && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			_ = ack()
		})
	})
	before := scrape(t, hs.URL)
	res := nodetest.Run(t, 40*time.Second, "metrics-client.mjs", "URL="+hs.URL)
	if e := res.Find("connected"); e == nil || e.Str("transport") != "websocket" {
		t.Fatalf("client A did not upgrade:\n%s", res.Describe())
	}
	if e := res.Find("ask"); e == nil || e["reply"] != "yes" {
		t.Fatalf("ask:\n%s", res.Describe())
	}
	if e := res.Find("timeout"); e == nil || e["reply"] != true {
		t.Fatalf("ack timeout:\n%s", res.Describe())
	}
	connected, traffic, after := pages["connected"], pages["traffic"], pages["after"]
	if connected == nil || traffic == nil || after == nil {
		t.Fatalf("checkpoints missing:\n%s", res.Describe())
	}
	nsp := []string{"namespace", "/"}
	checks := []struct {
		what      string
		from, to  page
		name      string
		labels    []string
		delta     float64
		atLeastOK bool // delta is a lower bound (byte and message counts include pings and headers)
	}{
		{"sockets connected", before, connected, "socketio_sockets", nsp, 2, false},
		{"connections", before, connected, "socketio_connections_total", nsp, 2, false},
		{"sessions", before, connected, "engineio_sessions", nil, 2, false},
		{"upgrades", before, connected, "engineio_upgrades_total", nil, 1, false},
		{"events received", connected, traffic, "socketio_events_received_total", nsp, 5, false},    // checkpoint, echo, ask-b, ask-b-timeout, bcast
		{"direct events sent", connected, traffic, "socketio_events_sent_total", nsp, 2 + 2, false}, // ask, ignore, and the broadcast to 2 sockets
		{"broadcasts", connected, traffic, "socketio_broadcasts_total", nsp, 1, false},
		{"broadcast deliveries", connected, traffic, "socketio_broadcast_deliveries_total", nsp, 2, false},
		{"acks received", connected, traffic, "socketio_acks_received_total", nsp, 1, false},
		{"ack timeouts", connected, traffic, "socketio_ack_timeouts_total", nsp, 1, false},
		{"bytes received", connected, traffic, "engineio_received_bytes_total", nil, 1000, true},
		{"bytes sent", connected, traffic, "engineio_sent_bytes_total", nil, 1000, true},
		{"messages received", connected, traffic, "engineio_messages_received_total", nil, 5, true},
		{"messages sent", connected, traffic, "engineio_messages_sent_total", nil, 5 + 4, true},
		{"handshakes refused", traffic, after, "engineio_handshake_refusals_total", []string{"reason", "Forbidden"}, 1, false},
		{"sockets after a disconnect", traffic, after, "socketio_sockets", nsp, -1, false},
		{"disconnections", traffic, after, "socketio_disconnections_total", []string{"namespace", "/", "reason", "client namespace disconnect"}, 1, false},
	}
	for _, c := range checks {
		got := c.to.get(c.name, c.labels...) - c.from.get(c.name, c.labels...)
		if got != c.delta && !(c.atLeastOK && got >= c.delta) {
			t.Errorf("%s: %s%v changed by %v, want %v", c.what, c.name, c.labels, got, c.delta)
		}
	}
}

func TestHandshakeRefusals(t *testing.T) {
	_, hs := newServer(t, socketio.Options{})
	for _, q := range []string{"EIO=3&transport=polling", "EIO=4&transport=carrier-pigeon", "EIO=3&transport=polling"} {
		res, err := http.Get(hs.URL + "/socket.io/?" + q)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: %s, want 400", q, res.Status)
		}
	}
	p := scrape(t, hs.URL)
	if got := p.get("engineio_handshake_refusals_total", "reason", "Unsupported protocol version"); got != 2 {
		t.Errorf("unsupported protocol refusals = %v, want 2", got)
	}
	if got := p.get("engineio_handshake_refusals_total", "reason", "Transport unknown"); got != 1 {
		t.Errorf("unknown transport refusals = %v, want 1", got)
	}
}

func TestSlowConsumerDrops(t *testing.T) {
	var opts socketio.Options
	opts.Engine.MaxQueuedPackets = 4
	srv, hs := newServer(t, opts)
	connected := make(chan struct{}, 1)
	srv.OnConnection(func(*socketio.Socket) { connected <- struct{}{} })
	sid := handshake(t, hs.URL)
	post(t, hs.URL, sid, "40")
	if body := poll(t, hs.URL, sid); !strings.HasPrefix(body, "40{") {
		t.Fatalf("CONNECT answer %q", body)
	}
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("the polling client did not connect")
	}
	// The client no longer polls: 4 packets fit in its queue.
	for range 10 {
		if err := srv.Volatile().Emit("tick"); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Emit("important"); err != nil {
		t.Fatal(err)
	}
	p := scrape(t, hs.URL)
	if got := p.get("socketio_slow_consumer_drops_total", "namespace", "/", "action", "volatile_dropped"); got != 6 {
		t.Errorf("volatile drops = %v, want 6", got)
	}
	if got := p.get("socketio_slow_consumer_drops_total", "namespace", "/", "action", "disconnected"); got != 1 {
		t.Errorf("slow consumers disconnected = %v, want 1", got)
	}
}

// failingAdapter is the in-memory adapter whose AddSockets fails, as a cluster adapter's does
// when its backend is down.
type failingAdapter struct{ rooms.Adapter }

func (failingAdapter) AddSockets(context.Context, rooms.Selection, ...rooms.Room) error {
	return errors.New("backend unavailable")
}

func TestAdapterRequests(t *testing.T) {
	srv, hs := newServer(t, socketio.Options{
		Adapter: func(n rooms.Namespace) rooms.Adapter { return failingAdapter{rooms.NewMemory(n)} },
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := srv.FetchSockets(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Of("/").SocketsJoin(ctx, "r"); err == nil {
		t.Fatal("SocketsJoin did not fail")
	}
	p := scrape(t, hs.URL)
	for _, c := range []struct {
		name, op string
		want     float64
	}{
		{"socketio_adapter_request_duration_seconds", "fetchSockets", 1},
		{"socketio_adapter_request_duration_seconds", "addSockets", 1},
		{"socketio_adapter_errors_total", "addSockets", 1},
		{"socketio_adapter_errors_total", "fetchSockets", 0},
	} {
		if got := p.get(c.name, "namespace", "/", "op", c.op); got != c.want {
			t.Errorf("%s{op=%q} = %v, want %v", c.name, c.op, got, c.want)
		}
	}
}

func TestRegisteringTwiceFails(t *testing.T) {
	m, err := metrics.New(socketio.NewServer(socketio.Options{}), metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.New(socketio.NewServer(socketio.Options{}), metrics.Options{Registry: m.Registry()}); err == nil || !strings.HasPrefix(err.Error(), "metrics: ") {
		t.Fatalf("second registration: %v", err)
	}
}

func handshake(t testing.TB, base string) string {
	t.Helper()
	res, err := http.Get(base + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	const prefix = `0{"sid":"`
	if !strings.HasPrefix(string(b), prefix) {
		t.Fatalf("handshake %q", b)
	}
	return string(b[len(prefix) : len(prefix)+20])
}

func post(t testing.TB, base, sid, body string) {
	t.Helper()
	res, err := http.Post(base+"/socket.io/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
}

func poll(t testing.TB, base, sid string) string {
	t.Helper()
	res, err := http.Get(base + "/socket.io/?EIO=4&transport=polling&sid=" + sid)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
