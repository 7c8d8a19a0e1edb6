package engineio_test

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio"
)

// TestCloseWhileSending closes websocket sessions in every way (the client goes away, Abort,
// Close, the server's shutdown) while goroutines send to them with Send and SendPrepared, and
// opens new connections meanwhile, which take the file descriptors the closed ones freed.
// Sends write to the descriptor directly: a write that reached a descriptor after its
// connection closed would show as a message of another session, or as a corrupt stream, on
// the client that now owns it. Each client checks that it reads its open packet first, then
// only its own session's messages, in order.
func TestCloseWhileSending(t *testing.T) {
	const (
		total    = 240 // connections over the test
		parallel = 24  // open at once
	)
	srv := engineio.NewServer(engineio.Options{MaxQueuedPackets: 64, WriteTimeout: 5 * time.Second})
	var senders sync.WaitGroup
	var sessions atomic.Int64
	srv.OnConnection(func(c *engineio.Conn) {
		n := sessions.Add(1)
		senders.Add(2)
		// Two senders per session; their messages are numbered per sender, so each client
		// checks the order of each.
		for s := range 2 {
			go func() {
				defer senders.Done()
				prefix := c.ID() + ":" + strconv.Itoa(s) + ":"
				for i := 0; ; i++ {
					data := []byte(prefix + strconv.Itoa(i))
					var err error
					if i%2 == 0 {
						err = c.Send(data, false)
					} else {
						err = c.SendPrepared(engineio.NewPrepared(data, false))
					}
					switch {
					case errors.Is(err, engineio.ErrClosed):
						return
					case errors.Is(err, engineio.ErrQueueFull):
						time.Sleep(time.Millisecond)
						i-- // not queued: send it again
					case err != nil:
						t.Errorf("send: %v", err)
						return
					}
					if s == 0 && i == 50 {
						switch n % 4 {
						case 1:
							c.Abort()
						case 2:
							c.Close()
						}
					}
				}
			}()
		}
	})
	hs := newHTTPServer(t, srv)
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/?EIO=4&transport=websocket"

	var clients sync.WaitGroup
	slots := make(chan struct{}, parallel)
	var bad, received atomic.Int64
	for k := range total {
		slots <- struct{}{}
		clients.Add(1)
		go func() {
			defer clients.Done()
			defer func() { <-slots }()
			ws, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			defer ws.Close()
			_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, open, err := ws.ReadMessage()
			if err != nil {
				return // closed before the open packet was written (Abort and Shutdown drop the queue)
			}
			if !strings.HasPrefix(string(open), `0{"sid":"`) {
				bad.Add(1)
				t.Errorf("first message %q (%v); want the open packet", open, err)
				return
			}
			sid, _, _ := strings.Cut(strings.TrimPrefix(string(open), `0{"sid":"`), `"`)
			next := [2]int{}
			for read := 0; ; read++ {
				if k < total-parallel && (read == 200 || k%4 == 0 && read == 30) {
					return // the client goes away; the last ones stay until the shutdown
				}
				_, msg, err := ws.ReadMessage()
				if err != nil {
					return // the server closed the session
				}
				if string(msg) == "2" { // a ping
					continue
				}
				parts := strings.Split(strings.TrimPrefix(string(msg), "4"), ":")
				if len(parts) != 3 || msg[0] != '4' || parts[0] != sid {
					bad.Add(1)
					t.Errorf("session %s read %q", sid, msg)
					return
				}
				s, _ := strconv.Atoi(parts[1])
				i, _ := strconv.Atoi(parts[2])
				if s < 0 || s > 1 || i != next[s] {
					bad.Add(1)
					t.Errorf("session %s read %q; want message %d of sender %d", sid, msg, next[s&1], s)
					return
				}
				next[s]++
				received.Add(1)
			}
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); sessions.Load() < total; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions opened; want %d", sessions.Load(), total)
		}
	}
	ctx, cancel := contextWithTimeout(10 * time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil { // closes the last sessions while they send
		t.Errorf("shutdown: %v", err)
	}
	waitGroup(t, &clients, 60*time.Second, "clients")
	waitGroup(t, &senders, 30*time.Second, "senders")
	if got := sessions.Load(); got != total {
		t.Errorf("%d sessions; want %d", got, total)
	}
	if bad.Load() > 0 {
		t.Fatalf("%d clients read what was not theirs", bad.Load())
	}
	if received.Load() < total*10 {
		t.Errorf("the clients read %d messages in all; want most of the %d sent before the closes", received.Load(), total*30)
	}
}

// waitGroup waits for wg, failing the test after timeout.
func waitGroup(t *testing.T, wg *sync.WaitGroup, timeout time.Duration, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("%s did not finish within %v", what, timeout)
	}
}
