package parser_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// roundTrips are packets with their text frames; encoding the packet gives
// the frame, and decoding the frame (plus attachments) gives the packet.
var roundTrips = []struct {
	name string
	p    parser.Packet
	text string
}{
	{"ok, CONNECT", parser.Packet{Type: parser.Connect, Namespace: "/"}, `0`},
	{"ok, CONNECT namespace with sid", parser.Packet{Type: parser.Connect, Namespace: "/admin",
		Data: raw(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}, `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`},
	{"ok, DISCONNECT", parser.Packet{Type: parser.Disconnect, Namespace: "/"}, `1`},
	{"ok, DISCONNECT namespace", parser.Packet{Type: parser.Disconnect, Namespace: "/admin"}, `1/admin,`},
	{"ok, EVENT", parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["foo"]`)}, `2["foo"]`},
	{"ok, EVENT namespace", parser.Packet{Type: parser.Event, Namespace: "/admin", Data: raw(`["bar"]`)}, `2/admin,["bar"]`},
	{"ok, EVENT ack id", parser.Packet{Type: parser.Event, Namespace: "/", ID: 12, HasID: true, Data: raw(`["foo"]`)}, `212["foo"]`},
	{"ok, EVENT namespace and ack id", parser.Packet{Type: parser.Event, Namespace: "/admin", ID: 12, HasID: true,
		Data: raw(`["ev",1]`)}, `2/admin,12["ev",1]`},
	{"ok, EVENT unicode and emoji", parser.Packet{Type: parser.Event, Namespace: "/😀", ID: 1, HasID: true,
		Data: raw(`["héllo wörld","日本語","😀👍🏽",{"\u00e9":"\ud83d\ude00"}]`)},
		`2/😀,1["héllo wörld","日本語","😀👍🏽",{"\u00e9":"\ud83d\ude00"}]`},
	{"ok, EVENT deep nesting", parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["d",` + deep(5000) + `]`)},
		`2["d",` + deep(5000) + `]`},
	{"ok, EVENT number name", parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`[1,"a",{}]`)}, `2[1,"a",{}]`},
	{"ok, ACK", parser.Packet{Type: parser.Ack, Namespace: "/admin", ID: 13, HasID: true, Data: raw(`["bar"]`)}, `3/admin,13["bar"]`},
	{"ok, ACK empty", parser.Packet{Type: parser.Ack, Namespace: "/", ID: 0, HasID: true, Data: raw(`[]`)}, `30[]`},
	{"ok, ACK largest id", parser.Packet{Type: parser.Ack, Namespace: "/", ID: parser.MaxAckID, HasID: true, Data: raw(`[]`)},
		`39007199254740991[]`},
	{"ok, CONNECT_ERROR object", parser.Packet{Type: parser.ConnectError, Namespace: "/",
		Data: raw(`{"message":"Not authorized"}`)}, `4{"message":"Not authorized"}`},
	{"ok, CONNECT_ERROR string", parser.Packet{Type: parser.ConnectError, Namespace: "/a", Data: raw(`"Unauthorized"`)}, `4/a,"Unauthorized"`},
	{"ok, BINARY_EVENT", parser.Packet{Type: parser.BinaryEvent, Namespace: "/",
		Data: raw(`["baz",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3, 4}}},
		`51-["baz",{"_placeholder":true,"num":0}]`},
	{"ok, BINARY_EVENT two attachments", parser.Packet{Type: parser.BinaryEvent, Namespace: "/admin",
		Data: raw(`["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), Attachments: [][]byte{{1, 2}, {3, 4}}},
		`52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`},
	{"ok, BINARY_EVENT empty attachment and ack id", parser.Packet{Type: parser.BinaryEvent, Namespace: "/", ID: 7, HasID: true,
		Data: raw(`["e",{"f":[{"_placeholder":true,"num":0}]}]`), Attachments: [][]byte{{}}},
		`51-7["e",{"f":[{"_placeholder":true,"num":0}]}]`},
	{"ok, BINARY_ACK", parser.Packet{Type: parser.BinaryAck, Namespace: "/", ID: 15, HasID: true,
		Data: raw(`["bar",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3, 4}}},
		`61-15["bar",{"_placeholder":true,"num":0}]`},
	{"ok, BINARY_ACK namespace", parser.Packet{Type: parser.BinaryAck, Namespace: "/admin", ID: 1, HasID: true,
		Data: raw(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{[]byte("bin")}},
		`61-/admin,1[{"_placeholder":true,"num":0}]`},
}

func TestRoundTrip(t *testing.T) {
	for _, tt := range roundTrips {
		t.Run(tt.name, func(t *testing.T) {
			text, att, err := parser.Encode(&tt.p)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if string(text) != tt.text {
				t.Fatalf("Encode = %.80q, want %.80q", text, tt.text)
			}
			var d parser.Decoder
			p, complete, err := d.DecodeText(text)
			if err != nil {
				t.Fatalf("DecodeText: %v", err)
			}
			for i, a := range att {
				if complete {
					t.Fatal("complete before the attachments")
				}
				if p, complete, err = d.DecodeBinary(bytes.Clone(a)); err != nil {
					t.Fatalf("DecodeBinary %d: %v", i, err)
				}
			}
			if !complete {
				t.Fatal("not complete after the attachments")
			}
			if !reflect.DeepEqual(*p, tt.p) {
				t.Fatalf("decoded %+v, want %+v", *p, tt.p)
			}
		})
	}
}

func TestEncodePromotesBinary(t *testing.T) {
	p := parser.Packet{Type: parser.Event, Data: raw(`["up",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{9}}}
	text, att, err := parser.Encode(&p)
	if err != nil || string(text) != `51-["up",{"_placeholder":true,"num":0}]` || len(att) != 1 {
		t.Fatalf("Encode = %q, %v, %v", text, att, err)
	}
	p = parser.Packet{Type: parser.Ack, ID: 3, HasID: true, Data: raw(` [{"_placeholder":true,"num":0}] `), Attachments: [][]byte{{9}}}
	text, _, err = parser.Encode(&p)
	if err != nil || string(text) != `61-3[{"_placeholder":true,"num":0}]` {
		t.Fatalf("Encode = %q, %v", text, err)
	}
}

func TestAppendPacket(t *testing.T) {
	buf := []byte("4") // an Engine.IO message prefix
	buf, err := parser.AppendPacket(buf, &parser.Packet{Type: parser.Event, Data: raw(`["event",{"a":1}]`)})
	if err != nil || string(buf) != `42["event",{"a":1}]` {
		t.Fatalf("AppendPacket = %q, %v", buf, err)
	}
	buf, err = parser.AppendPacket(buf[:1], &parser.Packet{Type: parser.Event, Data: raw(`{}`)})
	if err == nil || string(buf) != "4" {
		t.Fatalf("AppendPacket on error = %q, %v; want dst unchanged and an error", buf, err)
	}
}

func TestEncodeNOK(t *testing.T) {
	tests := []struct {
		name string
		p    parser.Packet
		want error
	}{
		{"nok, unknown type", parser.Packet{Type: 7, Data: raw(`["a"]`)}, parser.ErrUnknownType},
		{"nok, namespace with comma", parser.Packet{Type: parser.Event, Namespace: "/a,b", Data: raw(`["hello"]`)}, parser.ErrInvalidNamespace},
		{"nok, namespace without slash", parser.Packet{Type: parser.Event, Namespace: "admin", Data: raw(`["hello"]`)}, parser.ErrInvalidNamespace},
		{"nok, namespace not UTF-8", parser.Packet{Type: parser.Event, Namespace: "/\xff", Data: raw(`["hello"]`)}, parser.ErrInvalidNamespace},
		{"nok, ack id too large", parser.Packet{Type: parser.Event, ID: parser.MaxAckID + 1, HasID: true, Data: raw(`["a"]`)}, parser.ErrInvalidAckID},
		{"nok, ack id on CONNECT", parser.Packet{Type: parser.Connect, ID: 1, HasID: true}, parser.ErrInvalidAckID},
		{"nok, ACK without ack id", parser.Packet{Type: parser.Ack, Data: raw(`[]`)}, parser.ErrInvalidAckID},
		{"nok, CONNECT array", parser.Packet{Type: parser.Connect, Data: raw(`[]`)}, parser.ErrInvalidPayload},
		{"nok, DISCONNECT payload", parser.Packet{Type: parser.Disconnect, Data: raw(`{}`)}, parser.ErrInvalidPayload},
		{"nok, EVENT without payload", parser.Packet{Type: parser.Event}, parser.ErrInvalidPayload},
		{"nok, EVENT reserved", parser.Packet{Type: parser.Event, Data: raw(`["disconnect"]`)}, parser.ErrInvalidPayload},
		{"nok, EVENT invalid JSON", parser.Packet{Type: parser.Event, Data: raw(`["a",]`)}, parser.ErrInvalidPayload},
		{"nok, EVENT blank payload", parser.Packet{Type: parser.Event, Data: raw(`  `)}, parser.ErrInvalidPayload},
		{"nok, CONNECT_ERROR number", parser.Packet{Type: parser.ConnectError, Data: raw(`1`)}, parser.ErrInvalidPayload},
		{"nok, BINARY_EVENT without attachments", parser.Packet{Type: parser.BinaryEvent, Data: raw(`["a"]`)}, parser.ErrInvalidAttachments},
		{"nok, CONNECT with attachments", parser.Packet{Type: parser.Connect, Attachments: [][]byte{{1}}}, parser.ErrInvalidAttachments},
		{"nok, placeholder out of range", parser.Packet{Type: parser.Event, Data: raw(`["a",{"_placeholder":true,"num":1}]`),
			Attachments: [][]byte{{1}}}, parser.ErrInvalidAttachments},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, att, err := parser.Encode(&tt.p)
			if !errors.Is(err, tt.want) || text != nil || att != nil {
				t.Fatalf("Encode = %q, %v, %v; want error %v", text, att, err, tt.want)
			}
		})
	}
}

func TestTypeString(t *testing.T) {
	if s := parser.BinaryAck.String(); s != "BINARY_ACK" {
		t.Fatalf("String() = %q", s)
	}
	if s := parser.Type(9).String(); s != "Type(9)" {
		t.Fatalf("String() = %q", s)
	}
}

func TestIsReservedEvent(t *testing.T) {
	for _, n := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if !parser.IsReservedEvent(n) {
			t.Errorf("IsReservedEvent(%q) = false", n)
		}
	}
	for _, n := range []string{"", "message", "Connect", "connected", "error"} {
		if parser.IsReservedEvent(n) {
			t.Errorf("IsReservedEvent(%q) = true", n)
		}
	}
}
