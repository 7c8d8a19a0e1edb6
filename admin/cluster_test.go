package admin_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/echo-socketio/echo-socketio/admin"
	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"github.com/echo-socketio/echo-socketio/rooms/redisadapter"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// newClusterServer returns a server named id, instrumented, on the Redis at addr.
func newClusterServer(t *testing.T, addr, id, passwordHash string) *httptest.Server {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() }) // after the server's shutdown, registered later
	srv, hs := newServer(t,
		socketio.Options{Adapter: redisadapter.New(rdb, redisadapter.Options{RequestsTimeout: 5 * time.Second})},
		admin.Options{Auth: &admin.BasicAuth{Username: "admin", PasswordHash: passwordHash}, ServerID: id})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, n := range []string{"/", "/admin"} {
		if err := srv.Of(n).Ready(ctx); err != nil {
			t.Fatalf("server %s, namespace %s: %v", id, n, err)
		}
	}
	return hs
}

// TestClusterViews runs the UI against server A of a two-server cluster on one Redis, with
// a user on server B: the UI lists B's socket (through FetchSockets), gets both servers'
// statistics, is told when B's socket changes its data, and its join action reaches B.
func TestClusterViews(t *testing.T) {
	addr := redistest.Start(t).Addr
	h := hash(t)
	a := newClusterServer(t, addr, "A", h)
	b := newClusterServer(t, addr, "B", h)
	res := nodetest.Run(t, 60*time.Second, "admin-cluster.mjs", "URL_A="+a.URL, "URL_B="+b.URL, "PASSWORD="+password)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\n%s", append(args, res.Describe())...)
	}
	all := res.Find("all_sockets")
	if all == nil {
		fail("no all_sockets")
	}
	user := all.Str("user")
	var found bool
	var listed []string
	for _, v := range all["sockets"].([]any) {
		s := v.(map[string]any)
		listed = append(listed, fmt.Sprint(s["nsp"], " ", s["id"]))
		if s["id"] != user {
			continue
		}
		found = true
		rs := fmt.Sprint(s["rooms"])
		if s["nsp"] != "/" || s["transport"] != "websocket" || len(fmt.Sprint(s["clientId"])) != 12 ||
			fmt.Sprint(s["data"]) != "map[role:guest]" || (rs != "[lobby "+user+"]" && rs != "["+user+" lobby]") {
			fail("server B's socket as server A lists it: %v", s)
		}
	}
	if !found || len(listed) != 2 { // the user on B and the UI's own socket on A
		fail("all_sockets %v: want the user's socket on B and the UI's", listed)
	}
	if e := res.Find("servers"); e == nil || fmt.Sprint(e["ids"]) != "[A B]" {
		fail("server_stats from A and B")
	}
	var updated, joined bool
	for _, v := range res.Find("seen")["events"].([]any) {
		ev := v.([]any)
		switch ev[0] {
		case "socket_updated":
			u := ev[1].(map[string]any)
			updated = updated || u["id"] == user && u["nsp"] == "/" && fmt.Sprint(u["data"]) == "map[name:alice role:guest]"
		case "room_joined":
			joined = joined || slices.Equal(ev[1:4], []any{"/", "vip", user})
		}
	}
	if !updated || !joined {
		fail("the UI on A was not told of the data change (%v) or the join (%v) on B", updated, joined)
	}
}
