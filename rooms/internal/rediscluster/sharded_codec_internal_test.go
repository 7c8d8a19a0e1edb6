package rediscluster

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// Messages of the Node sharded adapter as notepack.io encodes them (those with binary):
// a BROADCAST with acknowledgements and a FETCH_SOCKETS_RESPONSE.
const (
	notepackClusterBroadcast = "84a47479706503a46461746183a67061636b657483a47479706502a46461746194a26576a178c40301020381a16ecb3ff8000000000000a36e7370a12fa46f70747383a5726f6f6d7391a27231a665786365707491a165a5666c61677382a8766f6c6174696c65c3a774696d656f757464a9726571756573744964a461626364a3756964b030313233343536373839616263646566a36e7370a12f"
	notepackClusterFetch     = "84a47479706508a46461746182a9726571756573744964a461626364a7736f636b6574739184a26964a27331a968616e647368616b6589a76865616465727381a161a162a669737375656401a474696d65a174a761646472657373a178a778646f6d61696ec2a6736563757265c2a375726ca12fa5717565727980a46175746880a5726f6f6d7392a27331a172a46461746181a162c401ffa3756964a175a36e7370a12f"
)

func TestDecodeClusterNotepack(t *testing.T) {
	msg, err := DecodeCluster(unhex(t, notepackClusterBroadcast))
	if err != nil {
		t.Fatal(err)
	}
	p := msg.Packet
	if msg.UID != "0123456789abcdef" || msg.nsp != "/" || msg.Type != MsgBroadcast || msg.RequestID == nil || *msg.RequestID != "abcd" ||
		p == nil || p.Type != parser.BinaryEvent || string(p.Data) != `["ev","x",{"_placeholder":true,"num":0},{"n":1.5}]` ||
		len(p.Attachments) != 1 || !bytes.Equal(p.Attachments[0], []byte{1, 2, 3}) {
		t.Fatalf("broadcast %+v packet %+v", msg, p)
	}
	sel := msg.Selection()
	if len(sel.Rooms) != 1 || sel.Rooms[0] != "r1" || len(sel.Except) != 1 || !sel.Flags.Volatile || sel.Flags.Timeout != 100*time.Millisecond {
		t.Fatalf("selection %+v", sel)
	}
	msg, err = DecodeCluster(unhex(t, notepackClusterFetch))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Type != cmFetchSocketsResponse || !msg.isResponse() || *msg.RequestID != "abcd" {
		t.Fatalf("fetch response %+v", msg)
	}
	socks, err := FromWireSockets(msg.sockets)
	if err != nil || len(socks) != 1 || socks[0].ID != "s1" || string(socks[0].Data) != `{"b":"/w=="}` || socks[0].Handshake.Headers.Get("a") != "b" {
		t.Fatalf("sockets %+v, %v", socks, err)
	}
}

func TestClusterBroadcastRoundTrip(t *testing.T) {
	sel := rooms.Selection{Rooms: []rooms.Room{"a", "b"}, Except: []rooms.Room{"c"}, Flags: rooms.Flags{Volatile: true, Compress: true, Timeout: time.Second}}
	tests := []struct {
		name      string
		p         *parser.Packet
		requestID string
		wantJSON  bool
	}{
		{"ok, JSON", &parser.Packet{Type: parser.Event, Data: json.RawMessage(`["ev",1,{"x":null}]`)}, "", true},
		{"ok, JSON with a request ID", &parser.Packet{Type: parser.Event, Data: json.RawMessage(`["ev"]`)}, "r1", true},
		{"ok, binary", &parser.Packet{Type: parser.BinaryEvent, Data: json.RawMessage(`["ev",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1}]]`),
			Attachments: [][]byte{{1, 2}, {}}}, "", false},
		{"ok, binary with a request ID", &parser.Packet{Type: parser.BinaryEvent, Data: json.RawMessage(`["ev",{"_placeholder":true,"num":0}]`),
			Attachments: [][]byte{{0xff}}}, "r2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeClusterBroadcast("uid", "/nsp", tt.requestID, tt.p, &sel)
			if err != nil {
				t.Fatal(err)
			}
			if (b[0] == '{') != tt.wantJSON {
				t.Fatalf("encoding %q", b)
			}
			msg, err := DecodeCluster(b)
			if err != nil {
				t.Fatal(err)
			}
			if msg.UID != "uid" || msg.nsp != "/nsp" || msg.Type != MsgBroadcast || (msg.RequestID != nil) != (tt.requestID != "") {
				t.Fatalf("decoded %+v", msg)
			}
			p := msg.Packet
			if p.Type != tt.p.Type || string(p.Data) != string(tt.p.Data) || len(p.Attachments) != len(tt.p.Attachments) || p.Namespace != "/nsp" {
				t.Fatalf("packet %+v, want %+v", p, tt.p)
			}
			got := msg.Selection()
			if len(got.Rooms) != 2 || got.Except[0] != "c" || got.Flags != sel.Flags {
				t.Fatalf("selection %+v", got)
			}
		})
	}
}

func FuzzDecodeCluster(f *testing.F) {
	f.Add(unhex(f, notepackClusterBroadcast))
	f.Add(unhex(f, notepackClusterFetch))
	f.Add([]byte(`{"uid":"u","nsp":"/","type":3,"data":{"packet":{"type":2,"data":["ev",1],"nsp":"/"},"opts":{"rooms":["a",1],"except":[],"flags":{"timeout":5}}}}`))
	f.Add([]byte(`{"uid":"u","nsp":"/","type":8,"data":{"requestId":"r","sockets":[{"id":"s","handshake":{"headers":{"a":"b"}},"rooms":["s"]}]}}`))
	f.Add([]byte(`{"uid":"u","nsp":"/","type":9,"data":{"packet":["ev",{"a":[1]}],"requestId":"r"}}`))
	f.Add([]byte(`{"uid":"u","nsp":"/","type":4,"data":{"opts":{"rooms":["a"],"except":[]},"rooms":["b"]}}`))
	for _, in := range badInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := DecodeCluster(b)
		if err != nil {
			return
		}
		for _, raw := range []json.RawMessage{msg.value, msg.sockets} {
			if raw != nil && !json.Valid(raw) {
				t.Fatalf("invalid JSON %q", raw)
			}
		}
		if p := msg.Packet; p != nil && p.Data != nil {
			if !json.Valid(p.Data) {
				t.Fatalf("invalid packet JSON %q", p.Data)
			}
			if len(p.Attachments) > 0 {
				if _, err := parser.Reconstruct(p.Data, p.Attachments); err != nil {
					t.Fatalf("placeholders do not match attachments: %v", err)
				}
			}
		}
		if msg.sockets != nil {
			_, _ = FromWireSockets(msg.sockets)
		}
		if _, err := ArgOf(msg.value, msg.valueAtts); err == nil && len(msg.value) > 0 && msg.value[0] == '[' {
			if _, err := parser.SplitArgs(msg.value, msg.valueAtts); err != nil {
				t.Fatalf("arguments %s with %d binary values: %v", msg.value, len(msg.valueAtts), err)
			}
		}
		_ = msg.Selection()
	})
}
