package parser_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

func TestDecodeTextOK(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want parser.Packet
	}{
		{"ok, CONNECT main namespace", `0`, parser.Packet{Type: parser.Connect, Namespace: "/"}},
		{"ok, CONNECT namespace", `0/admin,`, parser.Packet{Type: parser.Connect, Namespace: "/admin"}},
		{"ok, CONNECT namespace without comma", `0/admin`, parser.Packet{Type: parser.Connect, Namespace: "/admin"}},
		{"ok, CONNECT with auth", `0/admin,{"token":"123"}`,
			parser.Packet{Type: parser.Connect, Namespace: "/admin", Data: raw(`{"token":"123"}`)}},
		{"ok, CONNECT with sid", `0{"sid":"oSO0OpakMV_3jnilAAAA"}`,
			parser.Packet{Type: parser.Connect, Namespace: "/", Data: raw(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}},
		{"ok, DISCONNECT", `1`, parser.Packet{Type: parser.Disconnect, Namespace: "/"}},
		{"ok, DISCONNECT namespace", `1/admin,`, parser.Packet{Type: parser.Disconnect, Namespace: "/admin"}},
		{"ok, EVENT", `2["foo"]`, parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["foo"]`)}},
		{"ok, EVENT namespace and ack id", `2/admin,12["ev",1]`,
			parser.Packet{Type: parser.Event, Namespace: "/admin", ID: 12, HasID: true, Data: raw(`["ev",1]`)}},
		{"ok, EVENT ack id 0", `20["ev"]`,
			parser.Packet{Type: parser.Event, Namespace: "/", ID: 0, HasID: true, Data: raw(`["ev"]`)}},
		{"ok, EVENT ack id with leading zeros", `2007["ev"]`,
			parser.Packet{Type: parser.Event, Namespace: "/", ID: 7, HasID: true, Data: raw(`["ev"]`)}},
		{"ok, EVENT largest ack id", `29007199254740991["ev"]`,
			parser.Packet{Type: parser.Event, Namespace: "/", ID: parser.MaxAckID, HasID: true, Data: raw(`["ev"]`)}},
		{"ok, EVENT number as name", `2[1,"a",{}]`,
			parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`[1,"a",{}]`)}},
		{"ok, EVENT name close to reserved", `2["connected"]`,
			parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["connected"]`)}},
		{"ok, EVENT white space trimmed", "2 [\"a\" , 1 ] \n",
			parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a" , 1 ]`)}},
		{"ok, EVENT unicode and emoji", `2/ünï,["héllo","😀",{"k":"\u00e9"}]`,
			parser.Packet{Type: parser.Event, Namespace: "/ünï", Data: raw(`["héllo","😀",{"k":"\u00e9"}]`)}},
		{"ok, EVENT deep nesting", `2["a",` + deep(9000) + `]`,
			parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a",` + deep(9000) + `]`)}},
		{"ok, EVENT placeholder in a plain packet stays an object", `2["a",{"_placeholder":true,"num":0}]`,
			parser.Packet{Type: parser.Event, Namespace: "/", Data: raw(`["a",{"_placeholder":true,"num":0}]`)}},
		{"ok, ACK", `3/admin,13["bar"]`,
			parser.Packet{Type: parser.Ack, Namespace: "/admin", ID: 13, HasID: true, Data: raw(`["bar"]`)}},
		{"ok, ACK empty", `312[]`,
			parser.Packet{Type: parser.Ack, Namespace: "/", ID: 12, HasID: true, Data: raw(`[]`)}},
		{"ok, CONNECT_ERROR object", `4{"message":"Not authorized"}`,
			parser.Packet{Type: parser.ConnectError, Namespace: "/", Data: raw(`{"message":"Not authorized"}`)}},
		{"ok, CONNECT_ERROR string", `4/admin,"Unauthorized"`,
			parser.Packet{Type: parser.ConnectError, Namespace: "/admin", Data: raw(`"Unauthorized"`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d parser.Decoder
			p, complete, err := d.DecodeText([]byte(tt.in))
			if err != nil || !complete {
				t.Fatalf("DecodeText(%.60q) = %v, %v, %v", tt.in, p, complete, err)
			}
			if !reflect.DeepEqual(*p, tt.want) {
				t.Fatalf("DecodeText(%.60q) = %+v, want %+v", tt.in, *p, tt.want)
			}
		})
	}
}

func TestDecodeTextNOK(t *testing.T) {
	for _, tt := range badTexts {
		t.Run(tt.name, func(t *testing.T) {
			var d parser.Decoder
			p, complete, err := d.DecodeText([]byte(tt.in))
			if err == nil {
				t.Fatalf("DecodeText(%.60q) = %+v, %v, nil; want an error", tt.in, p, complete)
			}
			if p != nil || complete {
				t.Fatalf("DecodeText(%.60q) returned a packet with error %v", tt.in, err)
			}
			if !strings.HasPrefix(err.Error(), "socketio/parser: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			if d.Waiting() != 0 {
				t.Fatalf("decoder waits for %d attachments after an error", d.Waiting())
			}
		})
	}
}

func TestDecodeTextErrorKinds(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"nok, payload", `0[]`, parser.ErrInvalidPayload},
		{"nok, reserved", `2["connect"]`, parser.ErrInvalidPayload},
		{"nok, type", `999`, parser.ErrUnknownType},
		{"nok, count", `5a-`, parser.ErrInvalidAttachments},
		{"nok, zero count", `50-`, parser.ErrInvalidAttachments},
		{"nok, too many", `511-["a"]`, parser.ErrTooManyAttachments},
		{"nok, ack id", `2123456789012345678901["a"]`, parser.ErrInvalidAckID},
		{"nok, namespace", "2/\xff,[\"a\"]", parser.ErrInvalidNamespace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d parser.Decoder
			_, _, err := d.DecodeText([]byte(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecodeText(%q) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestDecoderLimits(t *testing.T) {
	t.Run("ok, raised MaxAttachments", func(t *testing.T) {
		d := parser.Decoder{MaxAttachments: 11}
		if _, _, err := d.DecodeText([]byte(`511-["a"]`)); err != nil {
			t.Fatal(err)
		}
		if d.Waiting() != 11 {
			t.Fatalf("Waiting() = %d, want 11", d.Waiting())
		}
	})
	t.Run("nok, lowered MaxAttachments", func(t *testing.T) {
		d := parser.Decoder{MaxAttachments: 2}
		in := `53-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`
		if _, _, err := d.DecodeText([]byte(in)); !errors.Is(err, parser.ErrTooManyAttachments) {
			t.Fatalf("error = %v, want ErrTooManyAttachments", err)
		}
	})
	t.Run("nok, binary disabled", func(t *testing.T) {
		d := parser.Decoder{MaxAttachments: -1}
		if _, _, err := d.DecodeText([]byte(`51-["a"]`)); !errors.Is(err, parser.ErrTooManyAttachments) {
			t.Fatalf("error = %v, want ErrTooManyAttachments", err)
		}
	})
	t.Run("nok, namespace too long", func(t *testing.T) {
		d := parser.Decoder{MaxNamespaceLength: 8}
		if _, _, err := d.DecodeText([]byte(`2/123456789,["a"]`)); !errors.Is(err, parser.ErrInvalidNamespace) {
			t.Fatalf("error = %v, want ErrInvalidNamespace", err)
		}
		if _, _, err := d.DecodeText([]byte(`2/1234567,["a"]`)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("nok, default namespace limit", func(t *testing.T) {
		var d parser.Decoder
		in := "2/" + strings.Repeat("a", parser.DefaultMaxNamespaceLength) + `,["a"]`
		if _, _, err := d.DecodeText([]byte(in)); !errors.Is(err, parser.ErrInvalidNamespace) {
			t.Fatalf("error = %v, want ErrInvalidNamespace", err)
		}
	})
}

func TestDecodeBinary(t *testing.T) {
	t.Run("ok, one attachment", func(t *testing.T) {
		var d parser.Decoder
		p, complete, err := d.DecodeText([]byte(`51-["baz",{"_placeholder":true,"num":0}]`))
		if p != nil || complete || err != nil {
			t.Fatalf("DecodeText = %v, %v, %v; want nil, false, nil", p, complete, err)
		}
		p, complete, err = d.DecodeBinary([]byte{1, 2, 3, 4})
		if err != nil || !complete {
			t.Fatalf("DecodeBinary = %v, %v, %v", p, complete, err)
		}
		want := parser.Packet{Type: parser.BinaryEvent, Namespace: "/",
			Data: raw(`["baz",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3, 4}}}
		if !reflect.DeepEqual(*p, want) {
			t.Fatalf("packet = %+v, want %+v", *p, want)
		}
		// The decoder is ready for the next packet.
		if _, complete, err := d.DecodeText([]byte(`2["x"]`)); err != nil || !complete {
			t.Fatalf("next DecodeText: %v, %v", complete, err)
		}
	})
	t.Run("ok, two attachments, namespace and ack id", func(t *testing.T) {
		var d parser.Decoder
		if _, _, err := d.DecodeText([]byte(`62-/admin,15["bar",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`)); err != nil {
			t.Fatal(err)
		}
		if d.Waiting() != 2 {
			t.Fatalf("Waiting() = %d", d.Waiting())
		}
		if p, complete, err := d.DecodeBinary([]byte("a")); p != nil || complete || err != nil {
			t.Fatalf("first DecodeBinary = %v, %v, %v", p, complete, err)
		}
		p, complete, err := d.DecodeBinary([]byte("b"))
		if err != nil || !complete {
			t.Fatalf("second DecodeBinary = %v, %v, %v", p, complete, err)
		}
		if p.Type != parser.BinaryAck || p.Namespace != "/admin" || !p.HasID || p.ID != 15 || len(p.Attachments) != 2 {
			t.Fatalf("packet = %+v", *p)
		}
		data, err := parser.Reconstruct(p.Data, p.Attachments)
		if err != nil {
			t.Fatal(err)
		}
		var args []any
		if err := json.Unmarshal(data, &args); err != nil {
			t.Fatal(err)
		}
		if want := []any{"bar", "Yg==", "YQ=="}; !reflect.DeepEqual(args, want) {
			t.Fatalf("reconstructed %v, want %v", args, want)
		}
	})
	t.Run("ok, unused attachment", func(t *testing.T) {
		var d parser.Decoder
		if _, _, err := d.DecodeText([]byte(`52-["a",{"_placeholder":true,"num":1}]`)); err != nil {
			t.Fatal(err)
		}
		d.DecodeBinary([]byte("x"))
		if _, complete, err := d.DecodeBinary([]byte("y")); err != nil || !complete {
			t.Fatalf("DecodeBinary: %v, %v", complete, err)
		}
	})
	t.Run("ok, Reset drops the packet", func(t *testing.T) {
		var d parser.Decoder
		d.DecodeText([]byte(`51-["hello"]`))
		d.Reset()
		if _, complete, err := d.DecodeText([]byte(`2["hello"]`)); err != nil || !complete {
			t.Fatalf("DecodeText after Reset: %v, %v", complete, err)
		}
	})

	nok := []struct {
		name   string
		text   string
		frames [][]byte
		want   error
	}{
		{"nok, binary frame without packet", "", [][]byte{[]byte("world")}, parser.ErrUnexpectedBinary},
		{"nok, binary frame after a text packet", `2["a"]`, [][]byte{{1}}, parser.ErrUnexpectedBinary},
		{"nok, binary frame too many", `51-["a",{"_placeholder":true,"num":0}]`, [][]byte{{1}, {2}}, parser.ErrUnexpectedBinary},
		{"nok, placeholder num is a string", `51-["hello",{"_placeholder":true,"num":"splice"}]`, [][]byte{[]byte("world")}, parser.ErrInvalidAttachments},
		{"nok, placeholder num out of range", `51-["hello",{"_placeholder":true,"num":1}]`, [][]byte{[]byte("world")}, parser.ErrInvalidAttachments},
		{"nok, placeholder num negative", `51-["hello",{"_placeholder":true,"num":-1}]`, [][]byte{[]byte("world")}, parser.ErrInvalidAttachments},
		{"nok, placeholder num fractional", `52-["hello",{"_placeholder":true,"num":0.5}]`, [][]byte{{1}, {2}}, parser.ErrInvalidAttachments},
		{"nok, placeholder num missing", `51-["hello",{"_placeholder":true}]`, [][]byte{{1}}, parser.ErrInvalidAttachments},
		{"nok, placeholder num null", `51-["hello",{"_placeholder":true,"num":null}]`, [][]byte{{1}}, parser.ErrInvalidAttachments},
		{"nok, placeholder num huge", `51-["hello",{"_placeholder":true,"num":1e400}]`, [][]byte{{1}}, parser.ErrInvalidAttachments},
		{"nok, placeholder nested deep", `51-["hello",[[{"x":{"_placeholder":true,"num":3}}]]]`, [][]byte{{1}}, parser.ErrInvalidAttachments},
	}
	for _, tt := range nok {
		t.Run(tt.name, func(t *testing.T) {
			var d parser.Decoder
			if tt.text != "" {
				if _, _, err := d.DecodeText([]byte(tt.text)); err != nil {
					t.Fatalf("DecodeText: %v", err)
				}
			}
			var err error
			for _, f := range tt.frames {
				var p *parser.Packet
				if p, _, err = d.DecodeBinary(f); err != nil {
					if p != nil {
						t.Fatal("packet returned with an error")
					}
					break
				}
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("nok, text frame while waiting for attachments", func(t *testing.T) {
		var d parser.Decoder
		d.DecodeText([]byte(`51-["hello",{"_placeholder":true,"num":0}]`))
		if _, _, err := d.DecodeText([]byte(`2["hello"]`)); !errors.Is(err, parser.ErrUnexpectedText) {
			t.Fatalf("error = %v, want ErrUnexpectedText", err)
		}
		if d.Waiting() != 0 {
			t.Fatal("decoder still waiting after the error")
		}
	})
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }
