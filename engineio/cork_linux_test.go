//go:build linux

package engineio

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio/parser"
)

// TestCorkedHandshakeResponse checks that the response to a handshake's upgrade waits for the
// first frame and leaves with it, and that a control frame or a close sends it when no frame
// came.
func TestCorkedHandshakeResponse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const response = "HTTP/1.1 101 Switching Protocols\r\n\r\n"
	open := parser.Packet{Type: parser.Open, Data: []byte(`{"sid":"x"}`)}
	frame := appendFrame(nil, open, 4)
	ping := []byte{0x89, 0} // an empty ping frame, as a control frame Write

	for _, tc := range []struct {
		name string
		next func(wc *wsNetConn) error
		want string // after the response
		eof  bool
	}{
		{"first frame", func(wc *wsNetConn) error {
			sent, err := wc.writeFrames([]outPacket{{pkt: open}}, 4, time.Second, true)
			if err == nil && !sent {
				err = wc.flush()
			}
			return err
		}, string(frame), false},
		{"control frame", func(wc *wsNetConn) error { _, err := wc.Write(ping); return err }, string(ping), false},
		{"close", func(wc *wsNetConn) error { return wc.Close() }, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			server, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			wc := newWSNetConn(server, newPoller())
			defer wc.Close()
			wc.plain, wc.corked = true, true
			if n, err := wc.Write([]byte(response)); n != len(response) || err != nil {
				t.Fatalf("Write of the response: %d, %v", n, err)
			}
			_ = client.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			var one [1]byte
			if n, err := client.Read(one[:]); n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the response left before the first frame: read %d bytes (%v)", n, err)
			}
			if err := tc.next(wc); err != nil {
				t.Fatal(err)
			}
			want := response + tc.want
			got := make([]byte, len(want))
			_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.ReadFull(client, got); err != nil || string(got) != want {
				t.Fatalf("client read %q, %v; want %q", got, err, want)
			}
			if tc.eof {
				if n, err := client.Read(one[:]); n > 0 || err != io.EOF {
					t.Fatalf("after the response: %d bytes, %v; want EOF", n, err)
				}
			}
		})
	}
}
