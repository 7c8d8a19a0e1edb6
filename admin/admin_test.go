package admin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"

	"github.com/echo-socketio/echo-socketio/admin"
	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/socketio"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const password = "s3cret-Pa55"

func hash(t testing.TB) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// newServer returns an instrumented server with a chat-like main namespace, on a test HTTP
// server.
func newServer(t *testing.T, sopts socketio.Options, opts admin.Options) (*socketio.Server, *httptest.Server) {
	t.Helper()
	srv := socketio.NewServer(sopts)
	srv.Use(func(s *socketio.Socket) error { s.Set("role", "guest"); return nil })
	srv.OnConnection(func(s *socketio.Socket) {
		s.On("join", func(room string, ack socketio.Ack) { s.Join(room); _ = ack() })
		s.On("profile", func(name string, ack socketio.Ack) { s.Set("name", name); _ = ack() })
		s.On("hello", func(_ map[string]string, ack socketio.Ack) { _ = s.Emit("welcome", "friend"); _ = ack() })
	})
	if opts.StatsInterval == 0 {
		opts.StatsInterval = 200 * time.Millisecond
	}
	a, err := admin.Instrument(srv, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		a.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	return srv, hs
}

func features(e nodetest.Event) []string {
	var out []string
	list, _ := e["supportedFeatures"].([]any)
	for _, f := range list {
		s, _ := f.(string)
		out = append(out, s)
	}
	return out
}

func TestAdminProtocol(t *testing.T) {
	_, hs := newServer(t, socketio.Options{}, admin.Options{Auth: &admin.BasicAuth{Username: "admin", PasswordHash: hash(t)}, ServerID: "go-1"})
	res := nodetest.Run(t, 45*time.Second, "admin-client.mjs", "URL="+hs.URL, "PASSWORD="+password)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\n%s", append(args, res.Describe())...)
	}
	if e := res.Find("wrong_password"); e == nil || e.Str("message") != "invalid credentials" {
		fail("a wrong password was not refused")
	}
	if e := res.Find("session"); e == nil || len(e.Str("id")) != 16 {
		fail("no session ID")
	}
	want := []string{"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS", "ALL_EVENTS"}
	if e := res.Find("config"); e == nil || !slices.Equal(features(e), want) {
		fail("config: want %v", want)
	}
	all := res.Find("all_sockets")
	if socks, _ := all["sockets"].([]any); len(socks) != 1 { // the UI's own socket
		fail("all_sockets: want the admin socket")
	}
	stats := res.Find("server_stats")
	if stats == nil || stats.Str("serverId") != "go-1" || stats["clientsCount"] != float64(2) {
		fail("server_stats")
	}
	var nsps []string
	for _, n := range stats["namespaces"].([]any) {
		m := n.(map[string]any)
		nsps = append(nsps, fmt.Sprint(m["name"], "=", m["socketsCount"]))
	}
	slices.Sort(nsps)
	if !slices.Equal(nsps, []string{"/=1", "/admin=1"}) {
		fail("server_stats namespaces %v", nsps)
	}
	seen := res.Find("seen")
	user := seen.Str("user")
	got := map[string]bool{}
	for _, e := range seen["events"].([]any) {
		ev := e.([]any)
		switch ev[0] {
		case "socket_connected":
			s := ev[1].(map[string]any)
			if s["id"] == user && s["nsp"] == "/" && s["transport"] == "websocket" && len(s["clientId"].(string)) == 12 &&
				fmt.Sprint(s["data"]) == "map[role:guest]" {
				got["connected"] = true
			}
		case "socket_updated":
			u := ev[1].(map[string]any)
			if u["id"] == user && u["nsp"] == "/" && fmt.Sprint(u["data"]) == "map[name:alice role:guest]" && u["transport"] == nil {
				got["updated"] = true
			}
		case "room_joined":
			if ev[1] == "/" && ev[2] == "lobby" && ev[3] == user {
				got["joined"] = true
			}
			if ev[1] == "/" && ev[2] == "vip" && ev[3] == user {
				got["made to join"] = true
			}
		case "room_left":
			if ev[1] == "/" && ev[2] == "lobby" && ev[3] == user {
				got["left"] = true
			}
		case "event_received":
			args, _ := ev[3].([]any)
			if ev[1] == "/" && ev[2] == user && len(args) == 2 && args[0] == "hello" {
				got["received"] = true
			}
		case "event_sent":
			args, _ := ev[3].([]any)
			if ev[1] == "/" && ev[2] == user && len(args) == 2 && args[0] == "welcome" && args[1] == "friend" {
				got["sent"] = true
			}
		case "socket_disconnected":
			if ev[1] == "/" && ev[2] == user && ev[3] == "client namespace disconnect" {
				got["disconnected"] = true
			}
		}
	}
	for _, k := range []string{"connected", "updated", "made to join", "joined", "left", "received", "sent", "disconnected"} {
		if !got[k] {
			fail("the UI was not told: %s", k)
		}
	}
	if e := res.Find("session_login"); e == nil || e["config"] == nil || e["config"].(map[string]any)["error"] != nil {
		fail("login with the session ID")
	}
}

func TestReadOnlyProductionMode(t *testing.T) {
	_, hs := newServer(t, socketio.Options{}, admin.Options{Auth: &admin.BasicAuth{Username: "admin", PasswordHash: hash(t)}, ReadOnly: true, Production: true})
	res := nodetest.Run(t, 45*time.Second, "admin-client.mjs", "URL="+hs.URL, "PASSWORD="+password)
	if e := res.Find("config"); e == nil || !slices.Equal(features(e), []string{"AGGREGATED_EVENTS"}) {
		t.Fatalf("config of a read-only production instrumentation:\n%s", res.Describe())
	}
	if res.Find("all_sockets") != nil {
		t.Fatalf("all_sockets in production mode:\n%s", res.Describe())
	}
	if evs, _ := res.Find("seen")["events"].([]any); len(evs) != 0 {
		t.Fatalf("per-socket events in production mode:\n%s", res.Describe())
	}
	var types []string
	for _, e := range res.Find("seen")["aggregated"].([]any) {
		types = append(types, e.(string))
	}
	for _, want := range []string{"rawConnection", "rawDisconnection", "packetsIn", "packetsOut", "bytesIn", "bytesOut"} {
		if !slices.Contains(types, want) {
			t.Fatalf("aggregated events %v lack %s:\n%s", types, want, res.Describe())
		}
	}
}

// TestReadOnly runs the development mode read-only: the UI still gets every event, but its
// actions do nothing.
func TestReadOnly(t *testing.T) {
	_, hs := newServer(t, socketio.Options{}, admin.Options{Auth: &admin.BasicAuth{Username: "admin", PasswordHash: hash(t)}, ReadOnly: true})
	res := nodetest.Run(t, 45*time.Second, "admin-client.mjs", "URL="+hs.URL, "PASSWORD="+password)
	if e := res.Find("config"); e == nil || !slices.Equal(features(e), []string{"AGGREGATED_EVENTS", "ALL_EVENTS"}) {
		t.Fatalf("config of a read-only instrumentation:\n%s", res.Describe())
	}
	var joined []string
	for _, e := range res.Find("seen")["events"].([]any) {
		if ev := e.([]any); ev[0] == "room_joined" {
			joined = append(joined, fmt.Sprint(ev[2]))
		}
	}
	if !slices.Contains(joined, "lobby") || slices.Contains(joined, "vip") {
		t.Fatalf("rooms joined %v: want the user's own join (lobby) and not the UI's (vip):\n%s", joined, res.Describe())
	}
}

func TestInstrumentNeedsAuth(t *testing.T) {
	srv := socketio.NewServer(socketio.Options{})
	if _, err := admin.Instrument(srv, admin.Options{}); err == nil || !strings.HasPrefix(err.Error(), "admin: ") {
		t.Fatalf("no auth: %v", err)
	}
	if _, err := admin.Instrument(srv, admin.Options{Auth: &admin.BasicAuth{Username: "a", PasswordHash: "plain"}}); err == nil {
		t.Fatal("a password that is no bcrypt hash was accepted")
	}
}

func TestUIHandler(t *testing.T) {
	hs := httptest.NewServer(admin.UIHandler("/admin-ui/"))
	defer hs.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(hs.URL + "/admin-ui")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/admin-ui/" {
		t.Fatalf("bare prefix: %s %q", res.Status, res.Header.Get("Location"))
	}
	for path, want := range map[string]string{"/admin-ui/": "<title>Socket.IO Admin UI</title>", "/admin-ui/LICENSE": "MIT"} {
		res, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Fatalf("%s: %s, want %q in the body", path, res.Status, want)
		}
	}
	if v := admin.UIVersion(); v != "0.5.1" {
		t.Fatalf("UIVersion %q", v)
	}
}
