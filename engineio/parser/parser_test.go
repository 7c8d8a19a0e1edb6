package parser_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/echo-socketio/echo-socketio/engineio/parser"
)

func TestPacketRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		p    parser.Packet
		text string
	}{
		{"ok, open", parser.Packet{Type: parser.Open, Data: []byte(`{"sid":"x"}`)}, `0{"sid":"x"}`},
		{"ok, close", parser.Packet{Type: parser.Close}, "1"},
		{"ok, ping", parser.Packet{Type: parser.Ping}, "2"},
		{"ok, ping probe", parser.Packet{Type: parser.Ping, Data: []byte("probe")}, "2probe"},
		{"ok, pong probe", parser.Packet{Type: parser.Pong, Data: []byte("probe")}, "3probe"},
		{"ok, message", parser.Packet{Type: parser.Message, Data: []byte("hello")}, "4hello"},
		{"ok, empty message", parser.Packet{Type: parser.Message}, "4"},
		{"ok, unicode message", parser.Packet{Type: parser.Message, Data: []byte("héllo €🎉")}, "4héllo €🎉"},
		{"ok, upgrade", parser.Packet{Type: parser.Upgrade}, "5"},
		{"ok, noop", parser.Packet{Type: parser.Noop}, "6"},
		{"ok, binary", parser.Packet{Type: parser.Message, Data: []byte{1, 2, 3, 4}, Binary: true}, "bAQIDBA=="},
		{"ok, empty binary", parser.Packet{Type: parser.Message, Data: []byte{}, Binary: true}, "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := string(parser.AppendPacket(nil, tc.p))
			if got != tc.text {
				t.Fatalf("encode: got %q, want %q", got, tc.text)
			}
			p, err := parser.DecodePacket([]byte(got))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if p.Type != tc.p.Type || p.Binary != tc.p.Binary || !bytes.Equal(p.Data, tc.p.Data) {
				t.Fatalf("decode: got %+v, want %+v", p, tc.p)
			}
		})
	}
}

func TestDecodePacketInvalid(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want error
	}{
		{"nok, empty", "", parser.ErrEmptyPacket},
		{"nok, letter type", "abc", parser.ErrUnknownType},
		{"nok, type 7", "7", parser.ErrUnknownType},
		{"nok, type 9", "9hello", parser.ErrUnknownType},
		{"nok, below zero", "/", parser.ErrUnknownType},
		{"nok, bad base64", "b!!!", parser.ErrBadBase64},
		{"nok, truncated base64", "bAQIDB", parser.ErrBadBase64},
		{"nok, separator as type", "\x1e", parser.ErrUnknownType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parser.DecodePacket([]byte(tc.in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestWebsocketFrame(t *testing.T) {
	frame, bin := parser.WebsocketFrame(nil, parser.Packet{Type: parser.Message, Data: []byte{0, 1}, Binary: true})
	if !bin || !bytes.Equal(frame, []byte{0, 1}) {
		t.Fatalf("binary frame: got %v %v", frame, bin)
	}
	frame, bin = parser.WebsocketFrame(nil, parser.Packet{Type: parser.Message, Data: []byte("hi")})
	if bin || string(frame) != "4hi" {
		t.Fatalf("text frame: got %q %v", frame, bin)
	}
	p := parser.DecodeBinaryFrame([]byte{9, 8})
	if p.Type != parser.Message || !p.Binary || !bytes.Equal(p.Data, []byte{9, 8}) {
		t.Fatalf("decode binary frame: %+v", p)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	cases := []struct {
		name    string
		packets []parser.Packet
		payload string
	}{
		{"ok, one", []parser.Packet{{Type: parser.Message, Data: []byte("hello")}}, "4hello"},
		{"ok, spec example", []parser.Packet{
			{Type: parser.Message, Data: []byte("hello")},
			{Type: parser.Ping},
			{Type: parser.Message, Data: []byte("world")},
		}, "4hello\x1e2\x1e4world"},
		{"ok, binary", []parser.Packet{
			{Type: parser.Message, Data: []byte("hello")},
			{Type: parser.Message, Data: []byte{1, 2, 3, 4}, Binary: true},
		}, "4hello\x1ebAQIDBA=="},
		{"ok, empty messages", []parser.Packet{{Type: parser.Message}, {Type: parser.Message}}, "4\x1e4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := parser.AppendPayload(nil, tc.packets)
			if string(got) != tc.payload {
				t.Fatalf("encode: got %q, want %q", got, tc.payload)
			}
			if n := parser.PayloadLen(tc.packets); n != len(got) {
				t.Fatalf("PayloadLen = %d, want %d", n, len(got))
			}
			ps, err := parser.DecodePayload(got, 0)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if len(ps) != len(tc.packets) {
				t.Fatalf("decode: %d packets, want %d", len(ps), len(tc.packets))
			}
			for i := range ps {
				w := tc.packets[i]
				if ps[i].Type != w.Type || ps[i].Binary != w.Binary || !bytes.Equal(ps[i].Data, w.Data) {
					t.Fatalf("packet %d: got %+v, want %+v", i, ps[i], w)
				}
			}
		})
	}
}

func TestDecodePayloadInvalid(t *testing.T) {
	cases := []struct {
		name string
		in   string
		max  int
		want error
	}{
		{"nok, empty", "", 0, parser.ErrEmptyPacket},
		{"nok, trailing separator", "4a\x1e", 0, parser.ErrEmptyPacket},
		{"nok, leading separator", "\x1e4a", 0, parser.ErrEmptyPacket},
		{"nok, bad packet in the middle", "4a\x1eabc\x1e4b", 0, parser.ErrUnknownType},
		{"nok, bad base64", "4a\x1eb%%", 0, parser.ErrBadBase64},
		{"nok, over the packet limit", "4\x1e4\x1e4", 2, parser.ErrTooManyPackets},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := parser.DecodePayload([]byte(tc.in), tc.max)
			if !errors.Is(err, tc.want) || ps != nil {
				t.Fatalf("got %v, %v; want %v", ps, err, tc.want)
			}
		})
	}
}

func TestDecodePayloadManyPackets(t *testing.T) {
	payload := strings.Repeat("4x\x1e", 99999) + "4x"
	ps, err := parser.DecodePayload([]byte(payload), 0)
	if err != nil || len(ps) != 100000 {
		t.Fatalf("got %d packets, %v", len(ps), err)
	}
	if _, err := parser.DecodePayload([]byte(payload), 1000); !errors.Is(err, parser.ErrTooManyPackets) {
		t.Fatalf("limit: got %v", err)
	}
}

func TestTypeString(t *testing.T) {
	if parser.Message.String() != "message" || parser.Noop.String() != "noop" || parser.Type(9).String() != "Type(9)" {
		t.Fatal("unexpected type names")
	}
}

func FuzzDecodePacket(f *testing.F) {
	for _, s := range []string{"", "0{}", "1", "2probe", "3", "4hello", "5", "6", "abc", "7", "b", "bAQIDBA==", "b!!", "\x1e"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parser.DecodePacket(b)
		if err != nil {
			return
		}
		// A decoded packet re-encodes to a packet that decodes to the same thing.
		q, err := parser.DecodePacket(parser.AppendPacket(nil, p))
		if err != nil {
			t.Fatalf("re-decode of %q: %v", b, err)
		}
		if q.Type != p.Type || q.Binary != p.Binary || !bytes.Equal(q.Data, p.Data) {
			t.Fatalf("round trip of %q: %+v != %+v", b, q, p)
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{"", "4hello\x1e2\x1e4world", "4hello\x1ebAQIDBA==", "\x1e", "4a\x1e", "4a\x1eabc", strings.Repeat("4\x1e", 1000) + "4"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := parser.DecodePayload(b, 1000)
		if err != nil {
			return
		}
		if len(ps) == 0 || len(ps) > 1000 {
			t.Fatalf("%d packets", len(ps))
		}
		out := parser.AppendPayload(nil, ps)
		if len(out) != parser.PayloadLen(ps) {
			t.Fatalf("PayloadLen mismatch")
		}
		qs, err := parser.DecodePayload(out, 1000)
		if err != nil || len(qs) != len(ps) {
			t.Fatalf("re-decode: %v, %d != %d", err, len(qs), len(ps))
		}
	})
}

func BenchmarkAppendPacket(b *testing.B) {
	p := parser.Packet{Type: parser.Message, Data: []byte(`2["event",{"a":1,"b":"text"}]`)}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = parser.AppendPacket(buf[:0], p)
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	payload := []byte("42[\"event\",{\"a\":1}]\x1e2\x1e42[\"event\",{\"a\":2}]")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parser.DecodePayload(payload, 0); err != nil {
			b.Fatal(err)
		}
	}
}
