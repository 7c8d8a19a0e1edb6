//go:build linux

package engineio

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio/parser"
)

// TestDirectWriteAfterClose checks the guard of the writes that go straight to the file
// descriptor: once the connection is closed, its descriptor may belong to another
// connection (the kernel hands out the lowest free number), and a write of the closed one
// must fail without a byte reaching the new one.
func TestDirectWriteAfterClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accept := func() (net.Conn, net.Conn) {
		t.Helper()
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		server, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		return client, server
	}
	fdOf := func(c net.Conn) int {
		t.Helper()
		raw, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		fd := -1
		if err := raw.Control(func(f uintptr) { fd = int(f) }); err != nil {
			t.Fatal(err)
		}
		return fd
	}
	msg := NewPrepared([]byte("a message"), false)
	batch := []outPacket{{pkt: msg.pkt, prep: msg}}

	clientA, serverA := accept()
	defer clientA.Close()
	wc := newWSNetConn(serverA, newPoller())
	wc.plain = true
	if wc.wfd < 0 {
		t.Fatal("a TCP connection with a poller has no descriptor to write")
	}
	// Before the close the frame goes out without blocking.
	if sent, err := wc.writeFrames(batch, 4, time.Second, true); err != nil || !sent {
		t.Fatalf("write before close: sent %v, err %v", sent, err)
	}
	want := msg.plainFrame(4)
	got := make([]byte, len(want))
	_ = clientA.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := readFull(clientA, got); err != nil || string(got) != string(want) {
		t.Fatalf("client read %q, %v; want %q", got, err, want)
	}
	fdA := wc.wfd
	if err := wc.Close(); err != nil {
		t.Fatal(err)
	}

	// A new connection takes the descriptor number that was freed (the lowest free one), at
	// one of its ends.
	clientB, serverB := accept()
	defer clientB.Close()
	defer serverB.Close()
	if fdOf(clientB) != fdA && fdOf(serverB) != fdA {
		t.Logf("no end of the new connection took descriptor %d", fdA)
	}
	for _, b := range [][]outPacket{batch, {{pkt: parser.Packet{Type: parser.Message, Data: []byte("x")}}}} {
		sent, err := wc.writeFrames(b, 4, time.Second, true)
		if sent || !errors.Is(err, net.ErrClosed) {
			t.Fatalf("write after close: sent %v, err %v; want net.ErrClosed", sent, err)
		}
	}
	for _, end := range []net.Conn{clientB, serverB} {
		_ = end.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		var one [1]byte
		if n, err := end.Read(one[:]); n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the connection that took the descriptor read %d bytes (%v)", n, err)
		}
	}
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
