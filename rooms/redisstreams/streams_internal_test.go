package redisstreams

import (
	"encoding/base64"
	"encoding/json"
	"github.com/echo-socketio/echo-socketio/rooms/internal/rediscluster"
	"slices"
	"testing"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// nodeStreamSession is a session as @socket.IO/redis-streams-adapter 0.3.1 stores it:
// {sid:"abc",pid:"p1",rooms:["abc","r"],data:{name:"n",bin:<Buffer 01 02>}}.
const nodeStreamSession = "hKNzaWSjYWJjo3BpZKJwMaVyb29tc5KjYWJjoXKkZGF0YYKkbmFtZaFuo2JpbsQCAQI="

func TestStreamSessionCodec(t *testing.T) {
	s, err := decodeSession(nodeStreamSession)
	if err != nil {
		t.Fatal(err)
	}
	if s.SID != "abc" || s.PID != "p1" || !slices.Equal(s.Rooms, []rooms.Room{"abc", "r"}) || s.Data["name"] != "n" || s.Data["bin"] != "AQI=" {
		t.Fatalf("Node session read as %+v", s)
	}
	in := sockets.Session{SID: "x", PID: "y", Rooms: []rooms.Room{"x", "1"}, Data: map[string]any{"a": []any{1.0, "b"}, "c": nil}}
	text, err := encodeSession(&in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeSession(text)
	if err != nil || jsonText(out) != jsonText(in) {
		t.Fatalf("round trip: %+v, %v; want %+v", out, err, in)
	}
}

func jsonText(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestStreamEntryCodec(t *testing.T) {
	sel := rooms.Selection{Rooms: []rooms.Room{"r"}, Except: []rooms.Room{"x"}}
	for _, p := range []*parser.Packet{
		{Type: parser.Event, Namespace: "/", Data: []byte(`["ev",1,{"a":"b"}]`)},
		{Type: parser.BinaryEvent, Namespace: "/", Data: []byte(`["ev",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2}}},
	} {
		data, isMsgpack, err := rediscluster.EncodeBroadcastData("/", "", p, &sel)
		if err != nil {
			t.Fatal(err)
		}
		v := entryValues("u", "/", rediscluster.MsgBroadcast, data, isMsgpack)
		m := map[string]any{}
		for i := 0; i < len(v); i += 2 {
			m[v[i].(string)] = v[i+1]
		}
		msg, err := decodeEntry(m, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if msg.UID != "u" || msg.Type != rediscluster.MsgBroadcast || string(msg.Packet.Data) != string(p.Data) || len(msg.Packet.Attachments) != len(p.Attachments) ||
			!slices.Equal(msg.Opts.Rooms, []string{"r"}) || !slices.Equal(msg.Opts.Except, []string{"x"}) {
			t.Fatalf("entry %v read as %+v %+v", m, msg, msg.Packet)
		}
	}
	if _, err := decodeEntry(map[string]any{"nsp": "/", "type": "3", "data": "{" + string(make([]byte, 100))}, 50); err == nil {
		t.Fatal("an entry over the size bound was read")
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add("3", `{"packet":{"type":2,"data":["ev",1],"nsp":"/"},"opts":{"rooms":["a"],"except":[],"flags":{}}}`)
	f.Add("4", `{"opts":{"rooms":["a"],"except":[]},"rooms":["b"]}`)
	bin, err := rediscluster.EncodeClusterBroadcast("0123456789abcdef", "/", "abcd", &parser.Packet{Type: parser.BinaryEvent, Namespace: "/",
		Data: []byte(`["ev",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3}}}, &rooms.Selection{Rooms: []rooms.Room{"r1"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("3", base64.StdEncoding.EncodeToString(bin))
	f.Add("x", "")
	f.Fuzz(func(t *testing.T, typ, data string) {
		msg, err := decodeEntry(map[string]any{"uid": "u", "nsp": "/", "type": typ, "data": data}, 1<<16)
		if err != nil {
			return
		}
		if p := msg.Packet; p != nil && p.Data != nil && !json.Valid(p.Data) {
			t.Fatalf("invalid packet JSON %q", p.Data)
		}
	})
}

func FuzzDecodeSession(f *testing.F) {
	f.Add(nodeStreamSession)
	f.Add("")
	f.Add("gA==")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := decodeSession(text)
		if err != nil {
			return
		}
		if s.SID == "" || s.PID == "" {
			t.Fatalf("session without IDs: %+v", s)
		}
		if _, err := encodeSession(&s); err != nil {
			t.Fatalf("re-encode %+v: %v", s, err)
		}
	})
}
