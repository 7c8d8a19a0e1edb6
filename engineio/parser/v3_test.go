package parser_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio/parser"
	"github.com/echo-socketio/echo-socketio/internal/nodetest"
)

var typeByName = map[string]parser.Type{"open": parser.Open, "close": parser.Close, "ping": parser.Ping,
	"pong": parser.Pong, "message": parser.Message, "upgrade": parser.Upgrade, "noop": parser.Noop}

// TestV3Payloads checks the v3 payload codec against the payloads the official server's v3
// parser writes (testdata/v3.mjs): the text and binary framings encode to the same bytes and
// decode back to the same packets.
func TestV3Payloads(t *testing.T) {
	res := nodetest.RunFile(t, 60*time.Second, filepath.Join(nodetest.Root(t), "engineio", "parser", "testdata", "v3.mjs"))
	cases := res.All("case")
	if len(cases) < 7 {
		t.Fatalf("only %d cases:\n%s", len(cases), res.Stderr)
	}
	for _, c := range cases {
		t.Run(c.Str("name"), func(t *testing.T) {
			var packets []parser.Packet
			hasBinary := false
			for _, raw := range c["packets"].([]any) {
				m := raw.(map[string]any)
				p := parser.Packet{Type: typeByName[m["type"].(string)]}
				switch d := m["data"].(type) {
				case string:
					p.Data = []byte(d)
				case map[string]any:
					p.Data, _ = hex.DecodeString(d["hex"].(string))
					p.Binary, hasBinary = true, true
				}
				packets = append(packets, p)
			}
			text, _ := hex.DecodeString(c.Str("text"))
			if got := parser.AppendPayloadV3(nil, packets); !bytes.Equal(got, text) {
				t.Fatalf("text payload:\n got %q\nwant %q", got, text)
			}
			decoded, err := parser.DecodePayloadV3(text, 0)
			if err != nil {
				t.Fatalf("decode text payload: %v", err)
			}
			checkPackets(t, decoded, packets)
			if !hasBinary {
				return
			}
			bin, _ := hex.DecodeString(c.Str("binary"))
			if got := parser.AppendBinaryPayloadV3(nil, packets); !bytes.Equal(got, bin) {
				t.Fatalf("binary payload:\n got %x\nwant %x", got, bin)
			}
			decoded, err = parser.DecodeBinaryPayloadV3(bin, 0)
			if err != nil {
				t.Fatalf("decode binary payload: %v", err)
			}
			checkPackets(t, decoded, packets)
		})
	}
}

func checkPackets(t *testing.T, got, want []parser.Packet) {
	t.Helper()
	// An empty packet ("0:") is skipped; the table has none.
	if len(got) != len(want) {
		t.Fatalf("%d packets, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Type != want[i].Type || got[i].Binary != want[i].Binary || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("packet %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

var badV3Payloads = []struct {
	name string
	in   string
	want error
}{
	{"nok, empty", "", parser.ErrEmptyPacket},
	{"nok, no length", ":4hi", parser.ErrBadLength},
	{"nok, no colon", "34hi", parser.ErrBadLength},
	{"nok, length too long", "9:4hi", parser.ErrBadLength},
	{"nok, length splits a surrogate pair", "2:4🎉", parser.ErrBadLength},
	{"nok, huge length", "99999999999:4", parser.ErrBadLength},
	{"nok, trailing bytes", "3:4hix", parser.ErrBadLength},
	{"nok, unknown type", "2:9x", parser.ErrUnknownType},
	{"nok, bad base64", "4:b4!!", parser.ErrBadBase64},
	{"nok, base64 of another type", "4:b2AA", parser.ErrUnknownType},
	{"nok, too many packets", "1:21:21:2", parser.ErrTooManyPackets},
}

var badV3BinaryPayloads = []struct {
	name string
	in   []byte
	want error
}{
	{"nok, empty", nil, parser.ErrEmptyPacket},
	{"nok, unknown kind", []byte{2, 1, 0xff, '4'}, parser.ErrBadLength},
	{"nok, no length", []byte{0, 0xff, '4'}, parser.ErrBadLength},
	{"nok, digit out of range", []byte{0, 10, 0xff, '4'}, parser.ErrBadLength},
	{"nok, no terminator", []byte{0, 1, 2, 3}, parser.ErrBadLength},
	{"nok, length past the end", []byte{1, 9, 0xff, 4, 1}, parser.ErrBadLength},
	{"nok, too many digits", append([]byte{0}, bytes.Repeat([]byte{1}, 12)...), parser.ErrBadLength},
	{"nok, binary of another type", []byte{1, 2, 0xff, 2, 1}, parser.ErrUnknownType},
	{"nok, empty binary packet", []byte{1, 0, 0xff}, parser.ErrEmptyPacket},
	{"nok, too many packets", []byte{0, 1, 0xff, '2', 0, 1, 0xff, '2', 0, 1, 0xff, '2'}, parser.ErrTooManyPackets},
}

func TestV3Invalid(t *testing.T) {
	for _, c := range badV3Payloads {
		t.Run("text, "+c.name, func(t *testing.T) {
			if ps, err := parser.DecodePayloadV3([]byte(c.in), 2); !errors.Is(err, c.want) {
				t.Fatalf("got %v, %v; want %v", ps, err, c.want)
			}
		})
	}
	for _, c := range badV3BinaryPayloads {
		t.Run("binary, "+c.name, func(t *testing.T) {
			if ps, err := parser.DecodeBinaryPayloadV3(c.in, 2); !errors.Is(err, c.want) {
				t.Fatalf("got %v, %v; want %v", ps, err, c.want)
			}
		})
	}
}

func TestV3Websocket(t *testing.T) {
	frame, bin := parser.WebsocketFrameV3(nil, parser.Packet{Type: parser.Message, Data: []byte{1, 2}, Binary: true})
	if !bin || !bytes.Equal(frame, []byte{4, 1, 2}) {
		t.Fatalf("binary frame %v %v", frame, bin)
	}
	p, err := parser.DecodeBinaryFrameV3(frame)
	if err != nil || !p.Binary || !bytes.Equal(p.Data, []byte{1, 2}) {
		t.Fatalf("decoded %+v, %v", p, err)
	}
	if frame, bin = parser.WebsocketFrameV3(nil, parser.Packet{Type: parser.Message, Data: []byte("hi")}); bin || string(frame) != "4hi" {
		t.Fatalf("text frame %q %v", frame, bin)
	}
	for _, b := range [][]byte{nil, {2, 1}} {
		if _, err := parser.DecodeBinaryFrameV3(b); err == nil {
			t.Fatalf("frame %v accepted", b)
		}
	}
}

// FuzzDecodePayloadV3 checks that no payload makes the v3 decoders panic, and that what they
// accept encodes back to a payload that decodes to the same packets.
func FuzzDecodePayloadV3(f *testing.F) {
	for _, c := range badV3Payloads {
		f.Add([]byte(c.in), false)
	}
	for _, c := range badV3BinaryPayloads {
		f.Add(c.in, true)
	}
	f.Add([]byte("6:4hello2:4€1:2"), false)
	f.Add([]byte("6:b4AQI=3:4é🎉"), false)
	f.Add([]byte{0, 3, 0xff, '4', 'h', 'i', 1, 3, 0xff, 4, 1, 2}, true)
	f.Fuzz(func(t *testing.T, in []byte, binary bool) {
		decode := parser.DecodePayloadV3
		if binary {
			decode = parser.DecodeBinaryPayloadV3
		}
		ps, err := decode(in, 100)
		if err != nil {
			return
		}
		if len(ps) == 0 {
			return
		}
		pairs := []struct {
			enc func([]byte, []parser.Packet) []byte
			dec func([]byte, int) ([]parser.Packet, error)
		}{{parser.AppendPayloadV3, parser.DecodePayloadV3}, {parser.AppendBinaryPayloadV3, parser.DecodeBinaryPayloadV3}}
		for _, pair := range pairs {
			out := pair.enc(nil, ps)
			back, err := pair.dec(out, 100)
			if err != nil {
				t.Fatalf("re-encoded %q does not decode: %v", out, err)
			}
			checkPackets(t, back, ps)
		}
	})
}
