package rediscluster

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/vmihailenco/msgpack/v5"
)

// Made by notepack.io 3.0.1 (the Node adapter's and emitter's codec) from
//
//	["emitter", {type: 2, data: ["hello", Buffer.from([1, 2, 3]), {a: 1.5, b: [true, null],
//	  n: -42, big: 2 ** 40, d: new Date(1700000000123), u: undefined, s: "é\u2028"}], nsp: "/"},
//	 {rooms: ["room1"], except: ["x"], flags: {volatile: true, timeout: 1500}}]
const notepackBroadcast = "93a7656d697474657283a47479706502a46461746193a568656c6c6fc40301020386a161cb3ff8000000000000a16292c3c0a16ed0d6a3626967cf0000010000000000a164d7ff1d5353006553f100a173a5c3a9e280a8a36e7370a12f83a5726f6f6d7391a5726f6f6d31a665786365707491a178a5666c61677382a8766f6c6174696c65c3a774696d656f7574cd05dc"

// Made by notepack.io from {uid: "abc", requestId: "r1", type: 9, packet: {x: Buffer.from("hi")}}.
const notepackAck = "84a3756964a3616263a9726571756573744964a27231a47479706509a67061636b657481a178c4026869"

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeNotepackBroadcast(t *testing.T) {
	msg, err := DecodeBroadcast(unhex(t, notepackBroadcast))
	if err != nil {
		t.Fatal(err)
	}
	p := msg.Packet
	wantData := `["hello",{"_placeholder":true,"num":0},{"a":1.5,"b":[true,null],"n":-42,"big":1099511627776,"d":"2023-11-14T22:13:20.123Z","s":"é\u2028"}]`
	if msg.UID != "emitter" || msg.Namespace != "/" || p.Type != parser.BinaryEvent || string(p.Data) != wantData ||
		len(p.Attachments) != 1 || !bytes.Equal(p.Attachments[0], []byte{1, 2, 3}) {
		t.Fatalf("got uid %q nsp %q type %v data %s attachments %v", msg.UID, msg.Namespace, p.Type, p.Data, p.Attachments)
	}
	if !reflect.DeepEqual(msg.Opts.Rooms, []string{"room1"}) || !reflect.DeepEqual(msg.Opts.Except, []string{"x"}) ||
		!msg.Opts.Flags.Volatile || msg.Opts.Flags.Timeout != 1500*time.Millisecond {
		t.Fatalf("opts %+v", msg.Opts)
	}
	// The packet must be one the Socket.IO encoder accepts.
	if _, _, err := parser.Encode(p); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeNotepackAck(t *testing.T) {
	msg, err := DecodeMessage(unhex(t, notepackAck))
	if err != nil {
		t.Fatal(err)
	}
	// The binary value of the acknowledgement stays binary.
	if msg.UID != "abc" || msg.ReqID() != "r1" || msg.Type != ReqBroadcastAck ||
		string(msg.Packet) != `{"x":{"_placeholder":true,"num":0}}` || len(msg.PacketAtts) != 1 || string(msg.PacketAtts[0]) != "hi" {
		t.Fatalf("got %+v packet %s", msg, msg.Packet)
	}
	arg, err := ArgOf(msg.Packet, msg.PacketAtts)
	if err != nil || arg.String() != `{"x":"aGk="}` || !arg.HasBinary() {
		t.Fatalf("argument %s, %v", arg, err)
	}
}

func TestBroadcastRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		args []any
	}{
		{"ok, text", []any{"a", 1, 2.5, true, nil, map[string]any{"k": []any{"v"}}}},
		{"ok, binary", []any{[]byte{0, 1, 2}, map[string]any{"b": []byte{}, "c": []any{[]byte("x")}}}},
		{"ok, large binary", []any{bytes.Repeat([]byte{7}, 70000)}},
		{"ok, unicode", []any{"é\u2028\x01\"\\", "日本"}},
		{"ok, numbers", []any{-1, 1 << 53, 1e300, -0.5, 9007199254740993.0}},
		{"ok, no arguments", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, atts, err := parser.MarshalEvent("ev", tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			p := &parser.Packet{Type: parser.Event, Namespace: "/", Data: data, Attachments: atts}
			sel := &rooms.Selection{Rooms: []rooms.Room{"r"}, Except: []rooms.Room{"e"}, Flags: rooms.Flags{Compress: true}}
			b, err := EncodeBroadcast("uid", "/", p, sel)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := DecodeBroadcast(b)
			if err != nil {
				t.Fatal(err)
			}
			if msg.UID != "uid" || msg.Namespace != "/" || !msg.Opts.Flags.Compress ||
				!reflect.DeepEqual(msg.Opts.Rooms, []string{"r"}) || !reflect.DeepEqual(msg.Opts.Except, []string{"e"}) {
				t.Fatalf("got %+v", msg)
			}
			if !sameJSON(t, msg.Packet.Data, data) {
				t.Fatalf("data %s, want %s", msg.Packet.Data, data)
			}
			if len(msg.Packet.Attachments) != len(atts) {
				t.Fatalf("%d attachments, want %d", len(msg.Packet.Attachments), len(atts))
			}
			for i := range atts {
				if !bytes.Equal(msg.Packet.Attachments[i], atts[i]) {
					t.Fatalf("attachment %d differs", i)
				}
			}
		})
	}
}

func sameJSON(t testing.TB, a, b []byte) bool {
	var x, y any
	da := json.NewDecoder(bytes.NewReader(a))
	da.UseNumber()
	db := json.NewDecoder(bytes.NewReader(b))
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	return reflect.DeepEqual(normalize(x), normalize(y))
}

// normalize makes numbers comparable by value.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalize(x[k])
		}
	}
	return v
}

func TestBroadcastRequestRoundTrip(t *testing.T) {
	data, atts, _ := parser.MarshalEvent("q", []byte{9})
	p := &parser.Packet{Type: parser.BinaryEvent, Namespace: "/x", Data: data, Attachments: atts}
	b, err := EncodeBroadcastRequest("u", "r", "/x", p, &rooms.Selection{Flags: rooms.Flags{Timeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if msg.UID != "u" || msg.ReqID() != "r" || msg.Type != ReqBroadcast || msg.BroadcastPacket == nil ||
		msg.BroadcastPacket.Namespace != "/x" || len(msg.BroadcastPacket.Attachments) != 1 || msg.BroadcastOpts.Flags.Timeout != 2*time.Second {
		t.Fatalf("got %+v", msg)
	}
	arg, err := parser.NewArg(json.RawMessage(`{"a":[1,"b",{"_placeholder":true,"num":0}]}`), [][]byte{{7, 0}})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := EncodeBroadcastAck("r", arg)
	if err != nil {
		t.Fatal(err)
	}
	msg, err = DecodeMessage(ack)
	if err != nil || msg.Type != ReqBroadcastAck || string(msg.Packet) != `{"a":[1,"b",{"_placeholder":true,"num":0}]}` ||
		len(msg.PacketAtts) != 1 || string(msg.PacketAtts[0]) != "\x07\x00" {
		t.Fatalf("ack: %+v %v", msg, err)
	}
}

// badInputs are messages that must be rejected without a panic.
var badInputs = []string{
	"",
	"\x93",                     // array of 3, nothing inside
	"\x90",                     // empty array
	"\xdd\xff\xff\xff\xff",     // array of 4 billion elements
	"\xdf\xff\xff\xff\xff",     // map of 4 billion entries
	"\x92\xdb\xff\xff\xff\xff", // a 4 GB string
	"\x92\xa1u\xc6\xff\xff\xff\xff",
	"\x92\xa1u\x81\xa4data\xc6\x7f\xff\xff\xff",
	"\x92\xa1u\x81\xa4data\xc9\x7f\xff\xff\xff\x01",                  // ext 32 too long
	"\x92\xa1u\x81\xa4type\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00",      // NaN type
	"\x92\xa1u\x81\xa4type\x7f",                                      // type 127
	"\x92\xa1u\x81\xc1\x00",                                          // reserved code
	"\x92\xa1u\x81\x80\x00",                                          // map key
	"\x92\xa1u\x81\xa4data" + strings.Repeat("\x91", 20000) + "\xc0", // too deep
	"\x92\xa1u\xa1x",
	"{",
}

func TestBadInputs(t *testing.T) {
	for _, in := range badInputs {
		if _, err := DecodeBroadcast([]byte(in)); err == nil {
			t.Errorf("decodeBroadcast(%q) accepted", in)
		}
		_, _ = DecodeMessage([]byte(in)) // must not panic
	}
}

func FuzzDecodeBroadcast(f *testing.F) {
	f.Add(unhex(f, notepackBroadcast))
	f.Add(unhex(f, notepackAck))
	for _, in := range badInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := DecodeBroadcast(b)
		if err != nil {
			return
		}
		p := msg.Packet
		if p.Data != nil && !json.Valid(p.Data) {
			t.Fatalf("invalid JSON %q from %x", p.Data, b)
		}
		if p.Data != nil {
			if _, err := parser.Reconstruct(p.Data, p.Attachments); err != nil && len(p.Attachments) > 0 {
				t.Fatalf("placeholders do not match attachments: %v", err)
			}
		}
	})
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add(unhex(f, notepackAck))
	sse, err := parser.NewArg(json.RawMessage(`["ev",{"_placeholder":true,"num":0},{"x":[{"_placeholder":true,"num":1}]}]`), [][]byte{{1}, {}})
	if err != nil {
		f.Fatal(err)
	}
	seed, err := EncodeFields([]MPField{{"uid", "u"}, {"requestId", "r"}, {"type", ReqServerSideEmit}, {"data", sse}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"uid":"x","requestId":"r","type":5,"opts":{"rooms":["a",1],"except":[]}}`))
	f.Add([]byte(`{"requestId":"r","sockets":[{"id":"s","handshake":{"headers":{"a":"b","c":["d"]}},"rooms":["s"]}]}`))
	for _, in := range badInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := DecodeMessage(b)
		if err != nil {
			return
		}
		for _, raw := range []json.RawMessage{msg.Data, msg.Packet, msg.Sockets} {
			if raw != nil && !json.Valid(raw) {
				t.Fatalf("invalid JSON %q", raw)
			}
		}
		if msg.Sockets != nil {
			_, _ = FromWireSockets(msg.Sockets)
		}
		// The arguments of server-side emits and acknowledgements, binary values kept.
		_, _ = ArgOf(msg.Packet, msg.PacketAtts)
		if _, err := ArgOf(msg.Data, msg.DataAtts); err == nil && len(msg.Data) > 0 && msg.Data[0] == '[' {
			if _, err := parser.SplitArgs(msg.Data, msg.DataAtts); err != nil {
				t.Fatalf("arguments %s with %d binary values: %v", msg.Data, len(msg.DataAtts), err)
			}
		}
	})
}

func FuzzJSONRoundTrip(f *testing.F) {
	for _, s := range []string{`null`, `[1,"a",{"b":[true,false]}]`, `{"_placeholder":true,"num":0}`, `1e400`, `-0`, `"\u2028"`, `[[[[]]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return
		}
		var buf bytes.Buffer
		if err := JSONToMsgpack(msgpack.NewEncoder(&buf), in, nil); err != nil {
			return // numbers out of range, deep nesting
		}
		out, err := NewMPReader(buf.Bytes()).JSON(nil, nil, 0)
		if err != nil {
			t.Fatalf("re-read %x: %v", buf.Bytes(), err)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q from %q", out, in)
		}
	})
}

func TestServerSideEmitBinaryRoundTrip(t *testing.T) {
	sse, err := parser.NewArg(json.RawMessage(`["ev","AQ==",{"_placeholder":true,"num":0},{"x":[{"_placeholder":true,"num":1}]}]`), [][]byte{{1}, {}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncodeFields([]MPField{{"uid", "u"}, {"requestId", "r"}, {"type", ReqServerSideEmit}, {"data", sse}})
	if err != nil {
		t.Fatal(err)
	}
	if b[0] == '{' {
		t.Fatal("a request with binary values is not MessagePack")
	}
	msg, err := DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	args, err := parser.SplitArgs(msg.Data, msg.DataAtts)
	if err != nil || len(args) != 4 {
		t.Fatalf("%s: %v %v", msg.Data, args, err)
	}
	// The string stays a string, the binary values stay binary.
	if args[1].IsBinary() || args[1].String() != `"AQ=="` || !args[2].IsBinary() || string(args[2].Bytes()) != "\x01" ||
		args[3].IsBinary() || !args[3].HasBinary() || args[3].String() != `{"x":[""]}` {
		t.Fatalf("arguments %v", args)
	}
}
