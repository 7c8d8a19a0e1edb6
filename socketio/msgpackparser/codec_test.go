package msgpackparser_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/echo-socketio/echo-socketio/socketio/msgpackparser"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// mp builds MessagePack by hand for the tables.
func mp(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case byte:
			b = append(b, v)
		case int:
			b = append(b, byte(v))
		case string:
			b = append(b, 0xa0|byte(len(v)))
			b = append(b, v...)
		case []byte:
			b = append(b, v...)
		}
	}
	return b
}

var (
	kType = "type"
	kNsp  = "nsp"
	kData = "data"
	kID   = "id"
)

var badMessages = []struct {
	name string
	in   []byte
	want error
}{
	{"nok, empty", nil, msgpackparser.ErrMalformed},
	{"nok, not a map", mp(0x91, 0x02), msgpackparser.ErrMalformed},
	{"nok, truncated map", mp(0x83, kType, 2), msgpackparser.ErrMalformed},
	{"nok, no type", mp(0x81, kNsp, "/"), parser.ErrUnknownType},
	{"nok, type 5", mp(0x82, kType, 5, kNsp, "/"), parser.ErrUnknownType},
	{"nok, negative type", mp(0x82, kType, 0xff, kNsp, "/"), parser.ErrUnknownType},
	{"nok, fractional type", mp(0x82, kType, 0xcb, []byte{0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, kNsp, "/"), parser.ErrUnknownType},
	{"nok, type as string", mp(0x82, kType, "2", kNsp, "/"), parser.ErrUnknownType},
	{"nok, no namespace", mp(0x81, kType, 0), parser.ErrInvalidNamespace},
	{"nok, namespace without slash", mp(0x82, kType, 0, kNsp, "chat"), parser.ErrInvalidNamespace},
	{"nok, namespace with comma", mp(0x82, kType, 0, kNsp, "/a,b"), parser.ErrInvalidNamespace},
	{"nok, namespace not a string", mp(0x82, kType, 0, kNsp, 1), parser.ErrInvalidNamespace},
	{"nok, namespace not UTF-8", mp(0x82, kType, 0, kNsp, 0xa2, byte('/'), 0xff), parser.ErrInvalidNamespace},
	{"nok, event without data", mp(0x82, kType, 2, kNsp, "/"), parser.ErrInvalidPayload},
	{"nok, event data not an array", mp(0x83, kType, 2, kNsp, "/", kData, "ev"), parser.ErrInvalidPayload},
	{"nok, event data empty", mp(0x83, kType, 2, kNsp, "/", kData, 0x90), parser.ErrInvalidPayload},
	{"nok, reserved event name", mp(0x83, kType, 2, kNsp, "/", kData, 0x91, "connect"), parser.ErrInvalidPayload},
	{"nok, event name null", mp(0x83, kType, 2, kNsp, "/", kData, 0x91, 0xc0), parser.ErrInvalidPayload},
	{"nok, disconnect with data", mp(0x83, kType, 1, kNsp, "/", kData, 0x80), parser.ErrInvalidPayload},
	{"nok, connect data an array", mp(0x83, kType, 0, kNsp, "/", kData, 0x90), parser.ErrInvalidPayload},
	{"nok, connect error data a number", mp(0x83, kType, 4, kNsp, "/", kData, 1), parser.ErrInvalidPayload},
	{"nok, ack without id", mp(0x83, kType, 3, kNsp, "/", kData, 0x90), parser.ErrInvalidAckID},
	{"nok, connect with id", mp(0x83, kType, 0, kNsp, "/", kID, 1), parser.ErrInvalidAckID},
	{"nok, negative id", mp(0x84, kType, 3, kNsp, "/", kData, 0x90, kID, 0xff), parser.ErrInvalidAckID},
	{"nok, id too large", mp(0x84, kType, 3, kNsp, "/", kData, 0x90, kID, 0xcf, []byte{0, 0x20, 0, 0, 0, 0, 0, 0}), parser.ErrInvalidAckID},
	{"nok, trailing bytes", mp(0x82, kType, 0, kNsp, "/", 0xc0), msgpackparser.ErrMalformed},
	{"nok, array longer than the message", mp(0x83, kType, 2, kNsp, "/", kData, 0xdd, []byte{0xff, 0xff, 0xff, 0xff}), msgpackparser.ErrMalformed},
	{"nok, map longer than the message", mp(0xdf, []byte{0x7f, 0xff, 0xff, 0xff}), msgpackparser.ErrMalformed},
	{"nok, string longer than the message", mp(0x83, kType, 2, kNsp, "/", kData, 0x91, 0xdb, []byte{0xff, 0xff, 0xff, 0xff}), msgpackparser.ErrMalformed},
	{"nok, bin longer than the message", mp(0x83, kType, 2, kNsp, "/", kData, 0x92, "e", 0xc6, []byte{0xff, 0xff, 0xff, 0xff}), msgpackparser.ErrMalformed},
	{"nok, unknown prefix", mp(0x83, kType, 2, kNsp, "/", kData, 0x92, "e", 0xc1), msgpackparser.ErrMalformed},
	{"nok, map key that is an array", mp(0x83, kType, 2, kNsp, "/", kData, 0x92, "e", 0x81, 0x90, 1), msgpackparser.ErrMalformed},
	{"nok, event name that is a float32 NaN", mp(0x83, kType, 2, kNsp, "/", kData, 0x92, 0xca, []byte{0xff, 0xff, 0x30, 0x30}, 1), parser.ErrInvalidPayload},
	{"nok, event name that is a float64 infinity", mp(0x83, kType, 2, kNsp, "/", kData, 0x91, 0xcb, []byte{0x7f, 0xf0, 0, 0, 0, 0, 0, 0}), parser.ErrInvalidPayload},
	{"nok, map key that is a float", mp(0x83, kType, 2, kNsp, "/", kData, 0x92, "e", 0x81, 0xca, []byte{0x3f, 0xc0, 0, 0}, 1), msgpackparser.ErrMalformed},
	{"nok, placeholder-like map", mp(0x83, kType, 2, kNsp, "/", kData, 0x92, "e", 0x82, "_placeholder", 0xc3, "num", 0), parser.ErrInvalidPayload},
	{"nok, timestamp of the wrong length", mp(0x83, kType, 2, kNsp, "/", kData, 0x92, "e", 0xc7, 2, 0xff, 0, 0), msgpackparser.ErrMalformed},
	{"nok, binary in a connect", mp(0x83, kType, 0, kNsp, "/", kData, 0x81, "a", 0xc4, 1, 7), parser.ErrInvalidAttachments},
	{"nok, too many binary values", tooManyBinaries(11), parser.ErrTooManyAttachments},
	{"nok, nested too deep", deep(10002), msgpackparser.ErrMalformed},
}

func tooManyBinaries(n int) []byte {
	b := mp(0x83, kType, 2, kNsp, "/", kData, 0xdc, 0, byte(n+1), "e")
	for range n {
		b = append(b, 0xc4, 1, 9)
	}
	return b
}

func deep(n int) []byte {
	b := mp(0x83, kType, 2, kNsp, "/", kData, 0x92, "e")
	b = append(b, bytes.Repeat([]byte{0x91}, n)...)
	return append(b, 0xc0)
}

func TestDecodeInvalid(t *testing.T) {
	for _, c := range badMessages {
		t.Run(c.name, func(t *testing.T) {
			var d msgpackparser.Decoder
			p, err := d.Decode(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, %v; want an error wrapping %v", p, err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "msgpackparser: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	d := msgpackparser.Decoder{MaxAttachments: 11}
	if _, err := d.Decode(tooManyBinaries(11)); err != nil {
		t.Fatalf("11 binaries with MaxAttachments 11: %v", err)
	}
	d = msgpackparser.Decoder{MaxAttachments: -1}
	if _, err := d.Decode(tooManyBinaries(1)); !errors.Is(err, parser.ErrTooManyAttachments) {
		t.Fatalf("binary with MaxAttachments -1: %v", err)
	}
	d = msgpackparser.Decoder{MaxNamespaceLength: 3}
	if _, err := d.Decode(mp(0x82, kType, 0, kNsp, "/abc")); !errors.Is(err, parser.ErrInvalidNamespace) {
		t.Fatalf("long namespace: %v", err)
	}
	var def msgpackparser.Decoder
	if _, err := def.Decode(deep(9990)); err != nil {
		t.Fatalf("9990 levels: %v", err)
	}
}

// TestRoundTrip encodes packets built by the JSON parser's marshalling and decodes them back.
func TestRoundTrip(t *testing.T) {
	type file struct {
		Name  string   `json:"name"`
		Data  []byte   `json:"data"`
		Parts [][]byte `json:"parts"`
	}
	cases := []struct {
		name  string
		event string
		args  []any
		id    uint64
		hasID bool
	}{
		{"ok, plain", "chat", []any{"hi", 1, 2.5, true, nil, map[string]int{"a": 1}}, 0, false},
		{"ok, binary everywhere", "upload", []any{[]byte{1, 2}, file{"f", []byte{3}, [][]byte{{4}, {}, {5, 6}}}, []any{[]byte{7}}}, 3, true},
		{"ok, large binary", "big", []any{bytes.Repeat([]byte{0xab}, 70000)}, 0, false},
		{"ok, big integers", "ints", []any{int64(-1 << 63), uint64(1<<64 - 1), 1 << 53, -(1 << 53)}, 0, false},
		{"ok, long strings and escapes", "s", []any{strings.Repeat("é", 40000), "a\"b\\c\n\u2028<>&"}, 0, false},
		{"ok, many members", "m", []any{make([]int, 20), map[string]int{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9, "j": 10, "k": 11, "l": 12, "m": 13, "n": 14, "o": 15, "p": 16, "q": 17}}, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, atts, err := parser.MarshalEvent(c.event, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			p := &parser.Packet{Type: parser.Event, Namespace: "/x", Data: data, Attachments: atts, ID: c.id, HasID: c.hasID}
			if len(atts) > 0 {
				p.Type = parser.BinaryEvent
			}
			wire, err := msgpackparser.Encode(p)
			if err != nil {
				t.Fatal(err)
			}
			d := msgpackparser.Decoder{MaxAttachments: 100}
			got, err := d.Decode(wire)
			if err != nil {
				t.Fatalf("decode %x: %v", wire, err)
			}
			var gotV, wantV any
			if err := json.Unmarshal(got.Data, &gotV); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &wantV); err != nil {
				t.Fatal(err)
			}
			if gj, wj := mustJSON(gotV), mustJSON(wantV); gj != wj {
				t.Fatalf("data:\n got %.300s\nwant %.300s", gj, wj)
			}
			p.Data = got.Data // compared by value above
			assertPacket(t, got, p)
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestEncodeInvalid(t *testing.T) {
	cases := []struct {
		name string
		p    parser.Packet
		want error
	}{
		{"nok, unknown type", parser.Packet{Type: 9}, parser.ErrUnknownType},
		{"nok, ack id too large", parser.Packet{Type: parser.Ack, Data: []byte(`[]`), ID: parser.MaxAckID + 1, HasID: true}, parser.ErrInvalidAckID},
		{"nok, invalid JSON", parser.Packet{Type: parser.Event, Data: []byte(`["a",]`)}, parser.ErrInvalidPayload},
		{"nok, truncated JSON", parser.Packet{Type: parser.Event, Data: []byte(`["a"`)}, parser.ErrInvalidPayload},
		{"nok, trailing JSON", parser.Packet{Type: parser.Event, Data: []byte(`["a"] 1`)}, parser.ErrInvalidPayload},
		{"nok, placeholder without attachment", parser.Packet{Type: parser.BinaryEvent, Data: []byte(`["a",{"_placeholder":true,"num":1}]`), Attachments: [][]byte{{1}}}, parser.ErrInvalidAttachments},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := msgpackparser.Encode(&c.p); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want an error wrapping %v", err, c.want)
			}
		})
	}
}

// FuzzDecode checks that no input makes the decoder panic or hang, and that every packet it
// accepts encodes and decodes back to the same packet.
func FuzzDecode(f *testing.F) {
	for _, c := range badMessages {
		if len(c.in) < 4096 {
			f.Add(c.in)
		}
	}
	for _, s := range []string{
		"83a47479706502a46461746192a6627566666572c403010203a36e7370a12f",
		"84a47479706503a46461746191c402ff00a2696400a36e7370a12f",
		"83a47479706502a46461746194a464617465d7000000000000000000d7000000018bcfe5687bd700ffffffffffffffffa36e7370a12f",
		"83a47479706502a46461746193a17582a161d40000a16201d40000a36e7370a12f",
		"83a47479706502a36e7370a12fa46461746193a165c800010007c900000002000809",
		"83a47479706502a36e7370a12fa46461746192a165c70cff000000000000000000000001",
		"83a47479706500a46461746183a5746f6b656ea3616263a3706964a170a66f6666736574a3312d30a36e7370a62f61646d696e",
	} {
		b, _ := hexDecode(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var d msgpackparser.Decoder
		p, err := d.Decode(in)
		if err != nil {
			return
		}
		wire, err := msgpackparser.Encode(p)
		if err != nil {
			t.Fatalf("encode of decoded %+v: %v", p, err)
		}
		q, err := d.Decode(wire)
		if err != nil {
			t.Fatalf("decode of re-encoded %x: %v", wire, err)
		}
		if q.Type != p.Type || q.Namespace != p.Namespace || q.ID != p.ID || q.HasID != p.HasID || len(q.Attachments) != len(p.Attachments) {
			t.Fatalf("round trip changed %+v into %+v", p, q)
		}
		var a, b any
		if json.Unmarshal(p.Data, &a) != nil && len(p.Data) > 0 {
			t.Fatalf("decoded data is not JSON: %s", p.Data)
		}
		_ = json.Unmarshal(q.Data, &b)
		if mustJSON(a) != mustJSON(b) {
			t.Fatalf("round trip changed %s into %s", p.Data, q.Data)
		}
	})
}

// FuzzEncode checks that no data makes the encoder panic, and that what it writes for valid
// JSON decodes. (The encoder reads data it is given by the server, which is valid JSON; it
// is not required to reject every invalid document.)
func FuzzEncode(f *testing.F) {
	for _, s := range []string{`1`, `"a\u00e9\ud83c\udf89"`, `{"a":[1,2.5,-0,1e400,null,true]}`, `[[],{},[{}]]`,
		`{"_placeholder":true,"num":0}`, `{"_placeholder":true}`, `123456789012345678901234567890`, `-9223372036854775809`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := append(append([]byte("["), data...), ']')
		p := &parser.Packet{Type: parser.BinaryAck, ID: 1, HasID: true, Data: in, Attachments: [][]byte{{1}}}
		wire, err := msgpackparser.Encode(p)
		if err != nil || !json.Valid(in) {
			return
		}
		var d msgpackparser.Decoder
		if _, err := d.Decode(wire); err != nil && !errors.Is(err, parser.ErrInvalidPayload) {
			t.Fatalf("decode of the encoding of %s: %v", in, err)
		}
	})
}
