package parser_test

import (
	"testing"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

var eventFrame = []byte(`2["event",{"a":1,"b":"text"}]`)

// BenchmarkEncodeEvent appends the text frame of 2["event",{"a":1,"b":"text"}]
// to a reused buffer, as a writer with a pooled buffer does.
func BenchmarkEncodeEvent(b *testing.B) {
	p := &parser.Packet{Type: parser.Event, Data: raw(`["event",{"a":1,"b":"text"}]`)}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = parser.AppendPacket(buf[:0], p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeEventNewBuffer is BenchmarkEncodeEvent with Encode, which
// allocates the frame.
func BenchmarkEncodeEventNewBuffer(b *testing.B) {
	p := &parser.Packet{Type: parser.Event, Data: raw(`["event",{"a":1,"b":"text"}]`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parser.Encode(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalEvent builds the payload ["event",{"a":1,"b":"text"}] from
// a Go struct.
func BenchmarkMarshalEvent(b *testing.B) {
	type msg struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	v := msg{1, "text"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parser.MarshalEvent("event", v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	var d parser.Decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := d.DecodeText(eventFrame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEventNamespace(b *testing.B) {
	var d parser.Decoder
	frame := []byte(`2/admin,12["event",{"a":1,"b":"text"}]`)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := d.DecodeText(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinaryEvent(b *testing.B) {
	var d parser.Decoder
	frame := []byte(`51-["upload",{"_placeholder":true,"num":0}]`)
	att := make([]byte, 1024)
	b.ReportAllocs()
	for b.Loop() {
		d.DecodeText(frame)
		p, _, err := d.DecodeBinary(att)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := parser.Reconstruct(p.Data, p.Attachments); err != nil {
			b.Fatal(err)
		}
	}
}

// echoFrame is the frame of siobench's echo scenario: a request with a 64-byte payload.
var echoFrame = []byte(`212["echo","e-17-000000000042-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]`)

// BenchmarkEchoRequest decodes the echo request and encodes its acknowledgement with the
// arguments relayed as json.RawMessage, as the benchmark server's handler does: the parser's
// share of one echo ack.
func BenchmarkEchoRequest(b *testing.B) {
	var d parser.Decoder
	b.ReportAllocs()
	for b.Loop() {
		p, _, err := d.DecodeText(echoFrame)
		if err != nil {
			b.Fatal(err)
		}
		args, err := parser.SplitArgs(p.Data, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := parser.EncodeAck(p.Namespace, p.ID, args[1].JSON()); err != nil {
			b.Fatal(err)
		}
	}
}
