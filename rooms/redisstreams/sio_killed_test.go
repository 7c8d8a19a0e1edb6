package redisstreams_test

import (
	"bufio"
	"fmt"
	"github.com/echo-socketio/echo-socketio/internal/redistest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/rooms/redisstreams"
)

// nodeProcess is a Go server of the cluster in a process of its own (internal/clusternode),
// which a test can kill.
type nodeProcess struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	logs *redistest.SyncBuffer
}

// buildClusterNode builds internal/clusternode into a temporary directory.
func buildClusterNode(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "clusternode")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/echo-socketio/echo-socketio/internal/clusternode")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building internal/clusternode: %v\n%s", err, out)
	}
	return bin
}

// startNodeProcess starts bin on a free port with the environment env, and waits until it
// listens.
func startNodeProcess(t *testing.T, bin string, env ...string) *nodeProcess {
	t.Helper()
	p := &nodeProcess{done: make(chan struct{}), logs: &redistest.SyncBuffer{}}
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(os.Environ(), append([]string{"PORT=0"}, env...)...)
	p.cmd.Stderr = p.logs
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	port := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "listening" {
				port <- f[1]
			}
		}
		_ = p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	select {
	case pt := <-port:
		p.url = "http://127.0.0.1:" + pt
	case <-p.done:
		t.Fatalf("clusternode ended before listening: %s", p.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("clusternode did not listen within 30 s: %s", p.logs.String())
	}
	return p
}

// TestSocketIOStreamsNodeKilled runs three Go servers with the streams adapter and recovery as
// processes of their own behind a load balancer that sends each connection to a random live
// server, and a fourth, in the test, that broadcasts a numbered event to the room of the
// clients every few milliseconds. The clients (official ones) all start on the first
// server, which is killed (SIGKILL) in the middle of the broadcasts: each client reconnects
// through the load balancer to one of the two others and recovers there with its ID, and
// gets every broadcast once, in order. The sessions of the connected sockets are kept in Redis
// while they are connected, and deleted when they leave for good.
func TestSocketIOStreamsNodeKilled(t *testing.T) {
	const clients, total, killAt = 6, 300, 100
	bin := buildClusterNode(t)
	srv := redistest.Start(t)
	env := []string{"REDIS_ADDR=" + srv.Addr, "ADAPTER=streams", "RECOVERY=1"}
	procs := []*nodeProcess{startNodeProcess(t, bin, env...), startNodeProcess(t, bin, env...), startNodeProcess(t, bin, env...)}
	emitter := newStreamsSioNode(t, srv, "E", redisstreams.Options{RequestsTimeout: 3 * time.Second, BlockTime: 500 * time.Millisecond})
	js := redistest.StartClientsScript(t, srv, "streams.mjs")
	js.WaitFor(t, "four servers", 15*time.Second, func() bool {
		n, err := emitter.Adapter.ServerCount(redistest.CtxT(t, 5*time.Second))
		return err == nil && n == 4
	})
	lb := startProxy(t)
	lb.point(procs[0].url)
	names := make([]string, clients)
	sids := map[string]string{}
	for i := range names {
		names[i] = fmt.Sprintf("c%d", i)
		sids[names[i]] = js.Call(t, "rconnect", map[string]any{"name": names[i], "url": lb.url(), "rooms": []string{"load"}}).Str("sid")
	}
	// The sessions of the connected sockets are in Redis before anything goes wrong.
	waitSessions(t, js, srv, clients)
	lb.spread(procs[0].url, procs[1].url, procs[2].url)
	m := js.Mark()
	if err := emitter.IO.To("load").Emit("hello"); err != nil {
		t.Fatal(err)
	}
	js.WaitGot(t, m, "hello", names...)

	killed := make(chan struct{})
	sent := make(chan error, 1)
	go func() {
		for i := 1; i <= total; i++ {
			if err := emitter.IO.To("load").Emit("seq", i); err != nil {
				sent <- err
				return
			}
			if i == killAt {
				close(killed)
			}
			time.Sleep(3 * time.Millisecond)
		}
		sent <- nil
	}()
	<-killed
	if err := procs[0].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-procs[0].done
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	checkRecoveredSeqs(t, js, m, names, sids, total)
	// The clients are on the two live servers now, in their room.
	infos, err := emitter.Adapter.FetchSockets(redistest.CtxT(t, 10*time.Second), rooms.Selection{Rooms: []rooms.Room{"load"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids, want []string
	for _, s := range infos {
		ids = append(ids, string(s.ID))
	}
	for _, sid := range sids {
		want = append(want, sid)
	}
	if slices.Sort(ids); !slices.Equal(ids, redistest.SortedStrings(want...)) {
		t.Errorf("the room load holds %v, want %v", ids, redistest.SortedStrings(want...))
	}
	// Sockets that leave for good (here a server-side disconnection) take their kept sessions
	// with them.
	waitSessions(t, js, srv, clients)
	if err := emitter.IO.In("load").DisconnectSockets(redistest.CtxT(t, 10*time.Second), false); err != nil {
		t.Fatal(err)
	}
	waitSessions(t, js, srv, 0)
	if errs := emitter.Errs.List(); len(errs) > 0 {
		t.Errorf("the emitter reported %v", errs)
	}
	for i, p := range procs[1:] {
		if l := p.logs.String(); strings.Contains(l, "adapter:") {
			t.Errorf("server %d reported: %s", i+2, l)
		}
	}
}
