//go:build linux

package engineio

import (
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The reader's states move as readerstate.go describes: an event starts a reader when there is
// none, is recorded for a running one, and wakes a waiting one with one value on its channel.
func TestReaderStates(t *testing.T) {
	wc := &wsNetConn{wake: make(chan struct{}, 1)}
	if !wc.signal(true) || wc.rstate.Load() != readerRunning {
		t.Fatalf("an event with no reader: state %d, want a reader started", wc.rstate.Load())
	}
	if wc.signal(true) || wc.rstate.Load() != readerEvent {
		t.Fatalf("an event for a running reader: state %d, want %d", wc.rstate.Load(), readerEvent)
	}
	if wc.signal(true) || wc.rstate.Load() != readerEvent {
		t.Fatalf("a second event for a running reader: state %d, want %d", wc.rstate.Load(), readerEvent)
	}
	if !wc.leaveReader() || wc.rstate.Load() != readerRunning {
		t.Fatalf("a reader leaving after an event: state %d, want it to read again", wc.rstate.Load())
	}
	if wc.leaveReader() || wc.rstate.Load() != readerNone {
		t.Fatalf("a reader leaving: state %d, want %d", wc.rstate.Load(), readerNone)
	}
	wc.wakeReader()
	if wc.rstate.Load() != readerNone || len(wc.wake) != 0 {
		t.Fatalf("a Close with no reader: state %d, %d wake-ups", wc.rstate.Load(), len(wc.wake))
	}
	wc.rstate.Store(readerWaiting)
	if wc.signal(true) || wc.rstate.Load() != readerRunning || len(wc.wake) != 1 {
		t.Fatalf("an event for a waiting reader: state %d, %d wake-ups; want %d, 1", wc.rstate.Load(), len(wc.wake), readerRunning)
	}
	<-wc.wake
	wc.rstate.Store(readerWaiting)
	wc.wakeReader()
	if wc.rstate.Load() != readerRunning || len(wc.wake) != 1 {
		t.Fatalf("a Close for a waiting reader: state %d, %d wake-ups; want %d, 1", wc.rstate.Load(), len(wc.wake), readerRunning)
	}
}

// An edge-triggered event can reach the poller after the reader already read its data: the
// reader it starts finds nothing to read, lingers and leaves, so the idle connection owns no
// goroutine, and the session is read on.
func TestEventWithNothingToRead(t *testing.T) {
	_, url, session := firstReadServer(t, 30*time.Millisecond)
	ws := dialOpen(t, url)
	echo(t, ws, "40")
	c := session()
	idle := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !c.watched() || c.wc.rstate.Load() != readerNone; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the connection still has a reader (state %d)", what, c.wc.rstate.Load())
			}
		}
	}
	idle("after the first message")
	base := runtime.NumGoroutine()
	c.wc.readable() // an event with no data
	idle("after an event with nothing to read")
	for deadline := time.Now().Add(20 * time.Second); runtime.NumGoroutine() > base; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before the event", runtime.NumGoroutine(), base)
		}
	}
	echo(t, ws, "4after the event")
	echo(t, ws, "4again")
	idle("after the messages")
}

// The poller wakes the readers of the connections it finds readable in the order their data
// arrived. With one P, a burst of messages written to 32 sessions in turn, whose readers all
// wait, is handled in that order (but for the reader woken last, which the scheduler runs
// first); readers waiting in a read of their own, woken by the runtime's network poller,
// handled such a burst in no particular order.
func TestReadersWokenInArrivalOrder(t *testing.T) {
	const n = 32
	var (
		mu       sync.Mutex
		sessions []*Conn
		order    []int
	)
	handled := make(chan struct{}, 4*n)
	srv := NewServer(Options{})
	srv.linger = time.Minute
	srv.OnConnection(func(c *Conn) {
		mu.Lock()
		sessions = append(sessions, c)
		mu.Unlock()
		c.OnMessage(func(data []byte, _ bool) {
			if i, err := strconv.Atoi(string(data)); err == nil {
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
			}
			handled <- struct{}{}
		})
	})
	url := serveWebsocket(t, srv)
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		conns[i] = dialOpen(t, url)
	}
	wait := func(k int) {
		t.Helper()
		timeout := time.After(20 * time.Second)
		for range k {
			select {
			case <-handled:
			case <-timeout:
				t.Fatal("messages not handled within 20 s")
			}
		}
	}
	send := func(ws *websocket.Conn, msg string) {
		t.Helper()
		if err := ws.WriteMessage(websocket.TextMessage, []byte("4"+msg)); err != nil { // a message packet
			t.Fatal(err)
		}
	}
	// The first message is read by the handshake's goroutine, the second by a reader the
	// poller starts, which then waits for the next one (a minute here).
	for _, m := range []string{"first", "second"} {
		for _, ws := range conns {
			send(ws, m)
		}
		wait(n)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		waiting := 0
		mu.Lock()
		for _, c := range sessions {
			if c.wc.rstate.Load() == readerWaiting {
				waiting++
			}
		}
		mu.Unlock()
		if waiting == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d readers wait for a message", waiting, n)
		}
	}

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for i, ws := range conns { // loopback writes: the data is on the server's side in this order
		send(ws, strconv.Itoa(i))
	}
	wait(n)
	mu.Lock()
	got := slices.Clone(order)
	mu.Unlock()
	// The longest part of the burst handled in order (a longest increasing subsequence) is
	// n-1 when the poller found it in one wait, a little less when it took several (the
	// reader woken last in one wait can run after those of the next); about 2√n (11) for a
	// random order, 1 for the reverse.
	if l := longestIncreasing(got); l < n/2 {
		t.Fatalf("messages of %d sessions handled in the order %v, want the order they arrived", n, got)
	}
}

// longestIncreasing returns the length of the longest increasing subsequence of s.
func longestIncreasing(s []int) int {
	var tails []int
	for _, x := range s {
		i, _ := slices.BinarySearch(tails, x)
		if i == len(tails) {
			tails = append(tails, x)
		} else {
			tails[i] = x
		}
	}
	return len(tails)
}
