//go:build linux

package engineio

import (
	"runtime"
	"testing"
	"time"
)

// The reader's states move as readerstate.go describes: an event starts a reader when there is
// none, is recorded for a running one, and wakes a waiting one with one value on its channel.
func TestReaderStates(t *testing.T) {
	wc := &wsNetConn{wake: make(chan struct{}, 1)}
	if !wc.nudge() || wc.rstate.Load() != readerRunning {
		t.Fatalf("an event with no reader: state %d, want a reader started", wc.rstate.Load())
	}
	if wc.nudge() || wc.rstate.Load() != readerEvent {
		t.Fatalf("an event for a running reader: state %d, want %d", wc.rstate.Load(), readerEvent)
	}
	if wc.nudge() || wc.rstate.Load() != readerEvent {
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
	if wc.nudge() || wc.rstate.Load() != readerRunning || len(wc.wake) != 1 {
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
