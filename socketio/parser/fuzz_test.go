package parser_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// seedTexts returns every text frame of the tables, bad and good, except
// the few very long ones, which slow fuzzing down and are covered by the
// table tests.
func seedTexts() []string {
	var s []string
	for _, b := range badTexts {
		s = append(s, b.in)
	}
	for _, r := range roundTrips {
		s = append(s, r.text)
	}
	s = slices.DeleteFunc(s, func(x string) bool { return len(x) > 1024 })
	s = append(s,
		`42["event",{"a":1,"b":"text"}]`,
		`51-["hello",{"_placeholder":true,"num":"splice"}]`,
		`51-["hello",{"_placeholder":true,"num":1}]`,
		`51-["hello",{"_placeholder":true,"num":-1}]`,
		`52-["hello",{"_placeholder":true,"num":0.5}]`,
		`53-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`,
	)
	return s
}

// decodeAll feeds text and frames to a fresh decoder and returns the
// complete packet, if any.
func decodeAll(t *testing.T, text []byte, frames [][]byte) (*parser.Packet, error) {
	var d parser.Decoder
	p, complete, err := d.DecodeText(text)
	if err != nil {
		if p != nil || complete {
			t.Fatalf("packet %+v returned with error %v", p, err)
		}
		return nil, err
	}
	if complete {
		if p == nil || d.Waiting() != 0 {
			t.Fatalf("complete packet %+v, waiting %d", p, d.Waiting())
		}
		checkNoMoreFrames(t, &d, frames)
		return p, nil
	}
	if p != nil || d.Waiting() <= 0 {
		t.Fatalf("incomplete packet %+v, waiting %d", p, d.Waiting())
	}
	for i, f := range frames {
		p, complete, err = d.DecodeBinary(f)
		if err != nil {
			return nil, err
		}
		if complete {
			checkNoMoreFrames(t, &d, frames[i+1:])
			break
		}
	}
	if !complete {
		return nil, nil
	}
	if d.Waiting() != 0 {
		t.Fatal("decoder still waiting after a complete packet")
	}
	return p, nil
}

// checkNoMoreFrames checks that frames after a complete packet are refused.
func checkNoMoreFrames(t *testing.T, d *parser.Decoder, frames [][]byte) {
	for _, f := range frames {
		if p, complete, err := d.DecodeBinary(f); !errors.Is(err, parser.ErrUnexpectedBinary) || p != nil || complete {
			t.Fatalf("extra frame: %v, %v, %v", p, complete, err)
		}
	}
}

// checkRoundTrip encodes p and checks that it decodes back to p.
func checkRoundTrip(t *testing.T, p *parser.Packet) {
	text, att, err := parser.Encode(p)
	if err != nil {
		t.Fatalf("decoded packet %+v does not encode: %v", p, err)
	}
	q, err := decodeAll(t, text, att)
	if err != nil || q == nil {
		t.Fatalf("re-encoded %q does not decode: %v", text, err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Fatalf("round trip changed the packet:\n%+v\n%+v", p, q)
	}
	if p.Type.IsBinary() {
		data, err := parser.Reconstruct(p.Data, p.Attachments)
		if err != nil || !json.Valid(data) {
			t.Fatalf("complete packet does not reconstruct: %s, %v", data, err)
		}
	}
}

func FuzzDecodeText(f *testing.F) {
	for _, s := range seedTexts() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		in := bytes.Clone(text)
		p, err := decodeAll(t, text, nil)
		if !bytes.Equal(in, text) {
			t.Fatal("DecodeText modified its input")
		}
		var d parser.Decoder
		var into parser.Packet
		complete, errTo := d.DecodeTextTo(text, &into)
		if (errTo == nil) != (err == nil) || (complete && (p == nil || !reflect.DeepEqual(&into, p))) {
			t.Fatalf("DecodeTextTo = %+v, %v, %v; DecodeText = %+v, %v", into, complete, errTo, p, err)
		}
		if err == nil && p != nil {
			if p.Namespace == "" || p.Namespace[0] != '/' {
				t.Fatalf("namespace %q", p.Namespace)
			}
			if p.Data != nil && !json.Valid(p.Data) {
				t.Fatalf("invalid JSON payload %q accepted", p.Data)
			}
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	for _, s := range seedTexts() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		p, err := decodeAll(t, text, nil)
		if err != nil || p == nil {
			return
		}
		checkRoundTrip(t, p)
	})
}

func FuzzDecodeBinarySequence(f *testing.F) {
	for _, s := range seedTexts() {
		f.Add([]byte(s), []byte{1, 2, 3}, []byte("world"), []byte{}, uint8(3))
	}
	f.Add([]byte{}, []byte("world"), []byte{}, []byte{}, uint8(1)) // binary frame with no packet
	f.Add([]byte(`51-["a",{"_placeholder":true,"num":0}]`), []byte{1}, []byte{2}, []byte{}, uint8(3))
	f.Fuzz(func(t *testing.T, text, a, b, c []byte, n uint8) {
		frames := [][]byte{a, b, c}[:n%4]
		if len(text) == 0 {
			var d parser.Decoder
			for _, fr := range frames {
				if p, complete, err := d.DecodeBinary(fr); err == nil || p != nil || complete {
					t.Fatal("binary frame accepted without a packet")
				}
			}
			return
		}
		p, err := decodeAll(t, text, frames)
		if err != nil || p == nil {
			return
		}
		if p.Type.IsBinary() && len(p.Attachments) == 0 {
			t.Fatal("binary packet without attachments")
		}
		checkRoundTrip(t, p)
	})
}

func FuzzReconstruct(f *testing.F) {
	f.Add([]byte(`["a",{"_placeholder":true,"num":0}]`), uint8(1))
	f.Add([]byte(`["hello",{"_placeholder":true,"num":"splice"}]`), uint8(1))
	f.Add([]byte(`["hello",{"_placeholder":true,"num":-1}]`), uint8(1))
	f.Add([]byte(`["hello",{"_placeholder":true,"num":1}]`), uint8(1))
	f.Add([]byte(`["hello",{"_placeholder":true,"num":0.5}]`), uint8(2))
	f.Add([]byte(`[{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]`), uint8(1))
	f.Add([]byte(`[{"_placeholde\u0072":true,"num":1e0}]`), uint8(2))
	for _, s := range seedTexts() {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		att := make([][]byte, n%12)
		for i := range att {
			att[i] = []byte{byte(i)}
		}
		in := bytes.Clone(data)
		// The helpers for decoded payloads must not panic on any input.
		parser.SplitArray(data, nil)
		parser.EventName(data)
		out, err := parser.Reconstruct(data, att)
		if !bytes.Equal(in, data) {
			t.Fatal("Reconstruct modified its input")
		}
		if err != nil {
			if out != nil {
				t.Fatal("output returned with an error")
			}
			return
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Reconstruct(%q) = %q, not valid JSON", data, out)
		}
		// No placeholder is left: a second pass needs no attachment.
		again, err := parser.Reconstruct(out, nil)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("placeholders left in %q: %q, %v", out, again, err)
		}
	})
}
