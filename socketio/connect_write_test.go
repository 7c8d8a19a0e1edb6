package socketio_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// The CONNECT answer leaves in a write of its own, before the connection hook runs, as on the
// official server: a client that reads one message at a time sees it alone, then the hook's
// first events. On polling this holds when a poll is pending as the CONNECT is handled, as the
// official clients keep one; the official server batches otherwise, and so does this one.
func TestConnectAnswerOwnWrite(t *testing.T) {
	io := socketio.NewServer(socketio.Options{})
	io.OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("hello", "world")
		_ = s.Emit("second")
	})
	pw := &pendingWatcher{next: io, watch: map[string]chan struct{}{}}
	srv := httptest.NewServer(pw)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = io.Shutdown(ctx)
		srv.CloseClientConnections()
		srv.Close()
	})
	connectRE := regexp.MustCompile(`^40\{"sid":"[^"]+"\}$`)

	t.Run("ok, polling: the CONNECT answer is alone in the pending poll's response", func(t *testing.T) {
		for i := range 10 {
			sid := pollingHandshake(t, srv.URL)
			base := srv.URL + "/socket.io/?EIO=4&transport=polling&sid=" + sid
			pending := pw.expect(sid)
			got := make(chan string, 1)
			go func() { got <- httpBody(t, http.MethodGet, base, "") }()
			select {
			case <-pending:
			case <-time.After(10 * time.Second):
				t.Fatal("the poll never waited")
			}
			httpBody(t, http.MethodPost, base, "40")
			first := <-got
			if !connectRE.MatchString(first) {
				t.Fatalf("connection %d: first response %q, want the CONNECT answer alone", i, first)
			}
			// The hook's two events follow, in order, in the next poll or (when that poll came
			// between the hook's two emits) in the next two.
			var events []string
			for polls := 0; len(events) < 2 && polls < 2; polls++ {
				events = append(events, strings.Split(httpBody(t, http.MethodGet, base, ""), "\x1e")...)
			}
			if want := []string{`42["hello","world"]`, `42["second"]`}; strings.Join(events, "|") != strings.Join(want, "|") {
				t.Fatalf("connection %d: the polls after the CONNECT answer brought %q, want %q", i, events, want)
			}
			httpBody(t, http.MethodPost, base, "1") // the client closes the session
		}
	})
	t.Run("ok, websocket: the CONNECT answer comes first", func(t *testing.T) {
		for i := range 10 {
			c := dialRaw(t, srv)
			c.send("40")
			if first := c.read(); !connectRE.MatchString(first) {
				t.Fatalf("connection %d: first message %q", i, first)
			}
			if second := c.read(); second != `42["hello","world"]` {
				t.Fatalf("connection %d: second message %q", i, second)
			}
		}
	})
}

// pendingWatcher tells when the server waits on a poll of a watched session: the poll asks
// for its request's Done channel only once it is registered and has nothing to send.
type pendingWatcher struct {
	next http.Handler

	mu    sync.Mutex
	watch map[string]chan struct{}
}

// expect returns a channel closed when the next poll of session sid waits.
func (w *pendingWatcher) expect(sid string) <-chan struct{} {
	ch := make(chan struct{})
	w.mu.Lock()
	w.watch[sid] = ch
	w.mu.Unlock()
	return ch
}

func (w *pendingWatcher) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	sid := r.URL.Query().Get("sid")
	w.mu.Lock()
	ch := w.watch[sid]
	if r.Method == http.MethodGet && ch != nil {
		delete(w.watch, sid)
		r = r.WithContext(&doneSignal{Context: r.Context(), asked: ch})
	}
	w.mu.Unlock()
	w.next.ServeHTTP(rw, r)
}

// doneSignal closes asked the first time its Done method is called.
type doneSignal struct {
	context.Context
	once  sync.Once
	asked chan struct{}
}

func (d *doneSignal) Done() <-chan struct{} {
	d.once.Do(func() { close(d.asked) })
	return d.Context.Done()
}

// pollingHandshake opens a polling session and returns its ID.
func pollingHandshake(t *testing.T, base string) string {
	t.Helper()
	open := httpBody(t, http.MethodGet, base+"/socket.io/?EIO=4&transport=polling", "")
	m := regexp.MustCompile(`"sid":"([^"]+)"`).FindStringSubmatch(open)
	if m == nil {
		t.Fatalf("handshake %q", open)
	}
	return m[1]
}

// httpBody makes a request and returns the body of its 200 response. It may run on another
// goroutine than the test's: it reports failures with Error.
func httpBody(t *testing.T, method, url, body string) string {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return ""
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("%s %s: %d %q %v", method, url, res.StatusCode, b, err)
	}
	return string(b)
}
