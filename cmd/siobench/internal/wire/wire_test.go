package wire_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

func TestParsePacket(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want wire.Packet
		err  error
	}{
		{"ok, connect", "0", wire.Packet{Type: '0', Namespace: "/", ID: wire.NoID, Data: []byte{}}, nil},
		{"ok, connect reply", `0{"sid":"abc"}`, wire.Packet{Type: '0', Namespace: "/", ID: wire.NoID, Data: []byte(`{"sid":"abc"}`)}, nil},
		{"ok, connect to namespace", "0/admin,", wire.Packet{Type: '0', Namespace: "/admin", ID: wire.NoID, Data: []byte{}}, nil},
		{"ok, bare namespace", "1/admin", wire.Packet{Type: '1', Namespace: "/admin", ID: wire.NoID}, nil},
		{"ok, event", `2["bcast","x"]`, wire.Packet{Type: '2', Namespace: "/", ID: wire.NoID, Data: []byte(`["bcast","x"]`)}, nil},
		{"ok, event with id", `212["echo","x"]`, wire.Packet{Type: '2', Namespace: "/", ID: 12, Data: []byte(`["echo","x"]`)}, nil},
		{"ok, ack with id zero", `30[]`, wire.Packet{Type: '3', Namespace: "/", ID: 0, Data: []byte(`[]`)}, nil},
		{"ok, ack in namespace", `3/chat,7["a"]`, wire.Packet{Type: '3', Namespace: "/chat", ID: 7, Data: []byte(`["a"]`)}, nil},
		{"ok, binary event", `51-["e",{"_placeholder":true,"num":0}]`, wire.Packet{Type: '5', Attachments: 1, Namespace: "/", ID: wire.NoID, Data: []byte(`["e",{"_placeholder":true,"num":0}]`)}, nil},
		{"ok, binary ack", `62-/x,9[]`, wire.Packet{Type: '6', Attachments: 2, Namespace: "/x", ID: 9, Data: []byte(`[]`)}, nil},
		{"ok, connect error", `4{"message":"no"}`, wire.Packet{Type: '4', Namespace: "/", ID: wire.NoID, Data: []byte(`{"message":"no"}`)}, nil},
		{"nok, empty", "", wire.Packet{}, wire.ErrEmpty},
		{"nok, unknown type", "7[]", wire.Packet{}, wire.ErrBadType},
		{"nok, letter type", "x", wire.Packet{}, wire.ErrBadType},
		{"nok, binary without dash", "51[]", wire.Packet{}, wire.ErrBadAttachment},
		{"nok, binary without count", "5-[]", wire.Packet{}, wire.ErrBadAttachment},
		{"nok, id too large", "399999999999999999999[]", wire.Packet{}, wire.ErrBadID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wire.ParsePacket([]byte(tt.in))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if got.Type != tt.want.Type || got.Attachments != tt.want.Attachments || got.Namespace != tt.want.Namespace ||
				got.ID != tt.want.ID || !bytes.Equal(got.Data, tt.want.Data) {
				t.Errorf("got %+v (data %q), want %+v (data %q)", got, got.Data, tt.want, tt.want.Data)
			}
		})
	}
}

func TestAppendPacketRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		typ  byte
		nsp  string
		id   int64
		data string
		want string
	}{
		{"ok, connect", wire.SIOConnect, "/", wire.NoID, "", "0"},
		{"ok, empty namespace is main", wire.SIOConnect, "", wire.NoID, "", "0"},
		{"ok, connect to namespace", wire.SIOConnect, "/admin", wire.NoID, "", "0/admin,"},
		{"ok, event with id", wire.SIOEvent, "/", 5, `["a"]`, `25["a"]`},
		{"ok, ack in namespace", wire.SIOAck, "/n", 0, `[]`, `3/n,0[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wire.AppendPacket(nil, tt.typ, tt.nsp, tt.id, []byte(tt.data))
			if string(got) != tt.want {
				t.Fatalf("AppendPacket = %q, want %q", got, tt.want)
			}
			p, err := wire.ParsePacket(got)
			if err != nil {
				t.Fatal(err)
			}
			nsp := tt.nsp
			if nsp == "" {
				nsp = "/"
			}
			if p.Type != tt.typ || p.Namespace != nsp || p.ID != tt.id || string(p.Data) != tt.data {
				t.Errorf("round trip gave %+v", p)
			}
		})
	}
}

func TestAppendEvent(t *testing.T) {
	tests := []struct {
		name  string
		id    int64
		event string
		args  []string
		want  string
	}{
		{"ok, no ack", wire.NoID, "bcast", []string{"x"}, `2["bcast","x"]`},
		{"ok, echo with id", 42, "echo", []string{"hello"}, `242["echo","hello"]`},
		{"ok, two arguments", 0, "bcast", []string{"room", "p"}, `20["bcast","room","p"]`},
		{"ok, no arguments", 3, "ping", nil, `23["ping"]`},
		{"ok, escapes", 1, "e", []string{"a\"b\\c\n\x01"}, `21["e","a\"b\\c\n\u0001"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(wire.AppendEvent(nil, tt.id, tt.event, tt.args...)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestAppendStringMatchesJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "tab\tnl\ncr\r", "\x00\x1f", "héllo ☃ 😀", "bad\xffutf8", "</script>"} {
		got := wire.AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("AppendString(%q) = %s is not JSON: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("AppendString(%q) decodes to %q, want %q", s, back, wantBack)
		}
	}
}

func TestStringArray(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
		ok   bool
	}{
		{"ok, empty", `[]`, []string{}, true},
		{"ok, one", `["a"]`, []string{"a"}, true},
		{"ok, two", `["a","bc"]`, []string{"a", "bc"}, true},
		{"ok, spaces", ` [ "a" , "b" ] `, []string{"a", "b"}, true},
		{"ok, escapes", `["a\"b","\u00e9"]`, []string{`a"b`, "é"}, true},
		{"ok, empty string", `[""]`, []string{""}, true},
		{"nok, number", `[1]`, nil, false},
		{"nok, object", `{"a":1}`, nil, false},
		{"nok, unterminated", `["a"`, nil, false},
		{"nok, trailing comma", `["a",]`, nil, false},
		{"nok, empty input", ``, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wire.StringArray([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("error %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEvent(t *testing.T) {
	name, args, err := wire.Event([]byte(`["bcast","p"]`))
	if err != nil || name != "bcast" || !reflect.DeepEqual(args, []string{"p"}) {
		t.Errorf("Event = %q, %q, %v", name, args, err)
	}
	if _, _, err := wire.Event([]byte(`[]`)); !errors.Is(err, wire.ErrNotEvent) {
		t.Errorf("Event([]) error %v, want ErrNotEvent", err)
	}
	if _, _, err := wire.Event([]byte(`[1]`)); err == nil {
		t.Errorf("Event([1]) accepted a numeric name")
	}
}

func TestPayloads(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"ok, empty", "", nil},
		{"ok, one packet", "40", []string{"40"}},
		{"ok, several", "4hello\x1e2\x1e4world", []string{"4hello", "2", "4world"}},
		{"ok, empty packet between", "2\x1e\x1e3", []string{"2", "", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := wire.SplitPayload([]byte(tt.in))
			var got []string
			for _, p := range parts {
				got = append(got, string(p))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("SplitPayload = %q, want %q", got, tt.want)
			}
			var bs [][]byte
			for _, s := range tt.want {
				bs = append(bs, []byte(s))
			}
			if back := string(wire.AppendPayload(nil, bs...)); back != tt.in {
				t.Errorf("AppendPayload = %q, want %q", back, tt.in)
			}
		})
	}
}

func TestParseOpen(t *testing.T) {
	tests := []struct {
		name string
		in   string
		sid  string
		ok   bool
	}{
		{"ok, full", `0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`, "lv_VI97HAXpY6yYWAAAC", true},
		{"ok, minimal", `0{"sid":"a"}`, "a", true},
		{"nok, empty", ``, "", false},
		{"nok, not open", `4{"sid":"a"}`, "", false},
		{"nok, bad json", `0{"sid":`, "", false},
		{"nok, no sid", `0{"pingInterval":1}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := wire.ParseOpen([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Fatalf("error %v, want ok=%v", err, tt.ok)
			}
			if o.SID != tt.sid {
				t.Errorf("sid %q, want %q", o.SID, tt.sid)
			}
		})
	}
}

func FuzzParsePacket(f *testing.F) {
	for _, s := range []string{"0", `212["echo","x"]`, "51-[]", "0/a,", "3/n,0[]", "5-", "399999999999999999999"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := wire.ParsePacket(b)
		if err != nil {
			return
		}
		if p.ID < wire.NoID || p.Attachments < 0 {
			t.Fatalf("bad packet %+v from %q", p, b)
		}
	})
}
