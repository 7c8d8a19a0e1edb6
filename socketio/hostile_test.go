package socketio_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// hostileClient speaks Engine.IO by hand over either transport. Frames are Engine.IO
// messages: text ("42[...]") or binary (a frame starting with binaryMark).
type hostileClient struct {
	t         *testing.T
	base, sid string
	ws        *websocket.Conn
	pending   []string
}

const binaryMark = "\x00bin:" // a frame starting with it is sent as binary, without the mark

func dialHostile(t *testing.T, srv *httptest.Server, transport string) *hostileClient {
	t.Helper()
	c := &hostileClient{t: t, base: srv.URL}
	if transport == "websocket" {
		d := dialRaw(t, srv)
		c.ws = d.ws
		return c
	}
	c.sid = pollHandshake(t, srv.URL)
	return c
}

func (c *hostileClient) url() string {
	return c.base + "/socket.io/?EIO=4&transport=polling&sid=" + c.sid
}

// send sends frames; on polling, all in one POST. It reports whether the server took them.
func (c *hostileClient) send(frames ...string) bool {
	if c.ws != nil {
		for _, f := range frames {
			mt, data := websocket.TextMessage, []byte(f)
			if b, ok := strings.CutPrefix(f, binaryMark); ok {
				mt, data = websocket.BinaryMessage, []byte(b)
			}
			_ = c.ws.SetWriteDeadline(time.Now().Add(20 * time.Second))
			if err := c.ws.WriteMessage(mt, data); err != nil {
				return false
			}
		}
		return true
	}
	parts := make([]string, len(frames))
	for i, f := range frames {
		if b, ok := strings.CutPrefix(f, binaryMark); ok {
			f = "b" + base64.StdEncoding.EncodeToString([]byte(b))
		}
		parts[i] = f
	}
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Post(c.url(), "text/plain;charset=UTF-8", strings.NewReader(strings.Join(parts, "\x1e")))
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// next returns the next Engine.IO message from the server, answering pings, or "" when the
// session is closed.
func (c *hostileClient) next() string {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if time.Now().After(deadline) {
			c.t.Fatal("no message from the server in time")
		}
		if len(c.pending) > 0 {
			m := c.pending[0]
			c.pending = c.pending[1:]
			switch m {
			case "2":
				c.send("3")
				continue
			case "6":
				continue
			case "1":
				return ""
			}
			return m
		}
		if c.ws != nil {
			_ = c.ws.SetReadDeadline(deadline)
			mt, m, err := c.ws.ReadMessage()
			if err != nil {
				if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
					c.t.Fatal("no message from the server in time")
				}
				return ""
			}
			if mt == websocket.BinaryMessage {
				m = append([]byte(binaryMark), m...)
			}
			c.pending = append(c.pending, string(m))
			continue
		}
		client := &http.Client{Timeout: 25 * time.Second}
		res, err := client.Get(c.url())
		if err != nil {
			return ""
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return ""
		}
		c.pending = append(c.pending, strings.Split(string(b), "\x1e")...)
	}
}

// closed waits until the server closes the session.
func (c *hostileClient) closed() {
	c.t.Helper()
	for {
		m := c.next()
		if m == "" {
			return
		}
	}
}

func (c *hostileClient) close() {
	if c.ws != nil {
		c.ws.Close()
		return
	}
	c.send("1")
}

// hostileServer is the server the hostile clients attack: handlers that echo, join rooms and
// take their time, and hooks that record what the server reports.
type hostileServer struct {
	io   *socketio.Server
	srv  *httptest.Server
	stop chan struct{}

	mu      sync.Mutex
	reasons []socketio.DisconnectReason
	errs    []error
	panics  []error
}

func newHostileServer(t *testing.T, opts socketio.Options) *hostileServer {
	t.Helper()
	h := &hostileServer{io: socketio.NewServer(opts), stop: make(chan struct{})}
	h.io.OnError(func(err error) {
		h.mu.Lock()
		h.panics = append(h.panics, err)
		h.mu.Unlock()
	})
	setup := func(s *socketio.Socket) {
		s.On("echo", func(args []json.RawMessage, ack socketio.Ack) {
			vals := make([]any, len(args))
			for i, a := range args {
				vals[i] = a
			}
			_ = ack(vals...)
		})
		s.On("ev", func(int) {})
		s.On("bin", func(b []byte, ack socketio.Ack) { _ = ack(len(b)) })
		s.On("join", func(room string) { s.Join(room) })
		s.On("stuck", func() {
			select {
			case <-h.stop:
			case <-time.After(time.Minute):
			}
		})
		s.On("slow", func() {
			select {
			case <-h.stop:
			case <-time.After(20 * time.Millisecond):
			}
		})
		s.OnError(func(err error) {
			h.mu.Lock()
			h.errs = append(h.errs, err)
			h.mu.Unlock()
		})
		s.OnDisconnect(func(r socketio.DisconnectReason) {
			h.mu.Lock()
			h.reasons = append(h.reasons, r)
			h.mu.Unlock()
		})
	}
	h.io.OnConnection(setup)
	h.io.Of("/other").OnConnection(setup)
	h.srv = httptest.NewServer(h.io)
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() { close(h.stop) })
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = h.io.Shutdown(ctx)
		h.srv.CloseClientConnections()
		h.srv.Close()
	})
	return h
}

// outcome is what a hostile input must end with.
type outcome int

const (
	survives    outcome = iota + 1 // the socket still answers an acknowledged echo afterwards
	closedNow                      // the server closes the session
	answered                       // the server answers with the case's want, then still echoes
	forcedClose                    // the session closes and the socket leaves with "forced close", as in Node
)

type hostileCase struct {
	name    string
	connect bool     // send a CONNECT to "/" first
	frames  []string // sent after the CONNECT
	want    string   // the answer, for answered
	end     outcome
	// wsEnd and pollEnd, when set, replace end for one transport.
	wsEnd, pollEnd outcome
	opts           socketio.Options
}

func bigNest(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

func manyFrames(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func hostileCases() []hostileCase {
	kib := strings.Repeat("x", 1024)
	return []hostileCase{
		// Malformed Socket.IO packets.
		{name: "nok, unterminated event", connect: true, frames: []string{`42["some","data"`}, end: forcedClose},
		{name: "nok, event with an object payload", connect: true, frames: []string{`42{}`}, end: forcedClose},
		{name: "nok, event with a non-string name", connect: true, frames: []string{`42[true,"foo"]`}, end: forcedClose},
		{name: "nok, event with a null name", connect: true, frames: []string{`42[null]`}, end: forcedClose},
		{name: "nok, empty event array", connect: true, frames: []string{`42[]`}, end: forcedClose},
		{name: "nok, reserved event name", connect: true, frames: []string{`42["disconnect"]`}, end: forcedClose},
		{name: "nok, unknown packet type", connect: true, frames: []string{`49`}, end: forcedClose},
		{name: "nok, empty Engine.IO message", connect: true, frames: []string{`4`}, end: forcedClose},
		{name: "nok, CONNECT_ERROR from a client", connect: true, frames: []string{`44{"message":"x"}`}, end: forcedClose},
		{name: "nok, second CONNECT on a namespace", connect: true, frames: []string{`40`}, end: forcedClose},
		{name: "nok, event for a namespace not joined", connect: true, frames: []string{`42/other,["echo"]`}, end: forcedClose},
		{name: "nok, ack for a namespace not joined", connect: true, frames: []string{`43/other,1[]`}, end: forcedClose},
		{name: "nok, event before CONNECT", frames: []string{`42["ev",1]`}, end: closedNow},
		{name: "nok, ack before CONNECT", frames: []string{`431[1]`}, end: closedNow},
		{name: "nok, CONNECT with a string payload", frames: []string{`40"invalid"`}, end: closedNow},
		{name: "nok, CONNECT with an array payload", frames: []string{`40[1]`}, end: closedNow},
		{name: "nok, ack id over 64 bits", connect: true, frames: []string{`4299999999999999999999999["echo"]`}, end: forcedClose},
		{name: "nok, namespace without a comma", connect: true, frames: []string{`42/other["echo"]`}, end: forcedClose},
		{name: "nok, namespace over the length limit", connect: true, frames: []string{`42/` + strings.Repeat("n", 100_000) + `,["echo"]`}, end: forcedClose},
		{name: "nok, deep nesting", connect: true, frames: []string{`42["echo",` + bigNest(100_000) + `]`}, end: forcedClose},
		// Binary attachments.
		{name: "nok, binary event without attachment count", connect: true, frames: []string{`45["bin"]`}, end: forcedClose},
		{name: "nok, attachment count not a number", connect: true, frames: []string{`45a-["bin"]`}, end: forcedClose},
		{name: "nok, attachment-count bomb", connect: true, frames: []string{`4599999999-["bin"]`}, end: forcedClose},
		{name: "nok, attachments over MaxAttachments", connect: true, frames: []string{`4511-["bin"]`}, end: forcedClose},
		{name: "nok, binary frame without a packet", connect: true, frames: []string{binaryMark + "\x01\x02"}, end: forcedClose},
		{name: "nok, text packet while attachments are due", connect: true, frames: []string{`451-["bin",{"_placeholder":true,"num":0}]`, `42["ev",1]`}, end: forcedClose},
		{name: "nok, attachment-size bomb", connect: true, opts: socketio.Options{MaxAttachments: 2},
			frames: []string{`452-["bin",{"_placeholder":true,"num":0}]`, binaryMark + strings.Repeat("b", 2_000_000)}, end: closedNow,
			pollEnd: survives}, // the POST over maxHttpBufferSize is refused with 413, the session goes on
		{name: "nok, placeholder out of range", connect: true, frames: []string{`451-0["bin",{"_placeholder":true,"num":7}]`, binaryMark + "ab"}, end: forcedClose},
		{name: "ok, binary event", connect: true, frames: []string{`451-0["bin",{"_placeholder":true,"num":0}]`, binaryMark + "abc"}, want: `430[3]`, end: answered},
		// Input that is odd but valid: the socket stays.
		{name: "ok, unknown ack id", connect: true, frames: []string{`43123[]`}, end: survives},
		{name: "ok, ack id reused", connect: true, frames: []string{`437[]`, `437[]`, `437["again"]`}, end: survives},
		{name: "ok, event without handler", connect: true, frames: []string{`42["nobody",1,2,3]`}, end: survives},
		{name: "ok, arguments of the wrong type", connect: true, frames: []string{`42["ev","not a number"]`}, end: survives},
		{name: "ok, numeric event name", connect: true, frames: []string{`42[42,"x"]`}, end: survives},
		{name: "ok, long event name", connect: true, frames: []string{`42["` + strings.Repeat("e", 500_000) + `"]`}, end: survives},
		{name: "ok, many arguments", connect: true, frames: []string{`421["echo"` + strings.Repeat(`,1`, 50_000) + `]`}, end: survives},
		{name: "ok, invalid UTF-8 in an argument", connect: true, frames: []string{"421[\"echo\",\"\xff\xfe\"]"}, want: "431[\"\ufffd\ufffd\"]", end: answered,
			wsEnd: closedNow}, // RFC 6455 fails a text frame that is not UTF-8; a polling body is decoded with U+FFFD, as in Node
		{name: "nok, disconnect from a namespace not joined", connect: true, frames: []string{`41/other,`}, end: forcedClose},
		{name: "ok, CONNECT to an unknown namespace", connect: true, frames: []string{`40/nope,`}, want: `44/nope,{"message":"Invalid namespace"}`, end: answered},
		{name: "ok, CONNECT with a large auth payload", connect: true, frames: []string{`40/other,{"k":"` + strings.Repeat("a", 500_000) + `"}`}, want: `40/other,{"sid":"`, end: answered},
		// Floods: bounded by the inbox, the caps and the handlers.
		{name: "ok, event flood against a slow handler", connect: true, opts: socketio.Options{MaxInboxPackets: 4},
			frames: manyFrames(100, func(int) string { return `42["slow","` + kib + `"]` }), end: survives},
		{name: "ok, ack-id flood", connect: true, frames: manyFrames(3000, func(i int) string { return `42` + strconv.Itoa(i+1000) + `["echo"]` }), end: survives},
		{name: "ok, join flood", connect: true, frames: manyFrames(3000, func(i int) string { return `42["join","r` + strconv.Itoa(i) + `"]` }), end: survives},
		{name: "ok, CONNECT flood across unknown namespaces", connect: true, frames: manyFrames(500, func(i int) string { return `40/n` + strconv.Itoa(i) + `,` }), end: survives},
		{name: "ok, inbox bound in bytes", connect: true, opts: socketio.Options{MaxInboxBytes: 4096},
			frames: manyFrames(50, func(int) string { return `42["slow","` + kib + `"]` }), end: survives},
		{name: "nok, inbox full past the timeout", connect: true, opts: socketio.Options{MaxInboxPackets: 1, InboxTimeout: 100 * time.Millisecond},
			frames: manyFrames(200, func(int) string { return `42["stuck"]` }), end: closedNow},
	}
}

// TestHostileInput runs every hostile input over both transports: each must end as its case
// says, with no panic, no hang and no goroutine left behind (checked by TestMain), and the
// server's heap bounded.
func TestHostileInput(t *testing.T) {
	const heapBound = 96 << 20
	for _, tc := range hostileCases() {
		for _, transport := range []string{"websocket", "polling"} {
			t.Run(tc.name+", "+transport, func(t *testing.T) {
				base := liveHeap()
				h := newHostileServer(t, tc.opts)
				c := dialHostile(t, h.srv, transport)
				defer c.close()
				if tc.connect {
					c.send("40")
					if m := c.next(); !strings.HasPrefix(m, `40{"sid":"`) {
						t.Fatalf("CONNECT answered %q", m)
					}
				}
				c.send(tc.frames...)
				end := tc.end
				if tc.wsEnd != 0 && transport == "websocket" {
					end = tc.wsEnd
				}
				if tc.pollEnd != 0 && transport == "polling" {
					end = tc.pollEnd
				}
				switch end {
				case closedNow:
					c.closed()
				case forcedClose:
					c.closed()
					waitUntil(t, "the disconnect hook", 10*time.Second, func() bool {
						h.mu.Lock()
						defer h.mu.Unlock()
						return len(h.reasons) == 1
					})
					h.mu.Lock()
					r := h.reasons[0]
					h.mu.Unlock()
					if r != socketio.ReasonForcedClose {
						t.Fatalf("reason %q", r)
					}
				case answered:
					m := c.next()
					if !strings.HasPrefix(m, tc.want) {
						t.Fatalf("answer %q, want %q", m, tc.want)
					}
					fallthrough
				case survives:
					if !c.send(`42999999["echo","still"]`) {
						t.Fatal("the server refused the probe")
					}
					for {
						m := c.next()
						if m == `43999999["still"]` {
							break
						}
						if m == "" || !strings.HasPrefix(m, "43") && !strings.HasPrefix(m, "44") && !strings.HasPrefix(m, "40") {
							t.Fatalf("probe answered %q", m)
						}
					}
				}
				if growth := int64(liveHeap()) - int64(base); growth > heapBound {
					t.Fatalf("heap grew by %d MiB", growth>>20)
				}
				h.mu.Lock()
				defer h.mu.Unlock()
				for _, err := range h.panics {
					var pe *socketio.PanicError
					if errors.As(err, &pe) {
						t.Fatalf("panic: %v\n%s", pe, pe.Stack)
					}
				}
			})
		}
	}
}
