package msgpackparser_test

import (
	"bytes"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/internal/nodetest"
	"github.com/echo-socketio/echo-socketio/socketio/msgpackparser"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// TestNotepackTable checks the package against the bytes the official socket.io-msgpack-parser
// writes and reads, produced by testdata/notepack.mjs under Node: every case decodes to the JSON
// form Node's values turn into, and, unless the case is marked decodeOnly, that JSON form
// encodes back to exactly the bytes notepack.io wrote.
func TestNotepackTable(t *testing.T) {
	res := nodetest.RunFile(t, 60*time.Second, filepath.Join(nodetest.Root(t), "socketio", "msgpackparser", "testdata", "notepack.mjs"))
	cases := res.All("case")
	if len(cases) < 30 {
		t.Fatalf("only %d cases:\n%s", len(cases), res.Stderr)
	}
	for _, c := range cases {
		t.Run(c.Str("name"), func(t *testing.T) {
			wire, err := hex.DecodeString(c.Str("hex"))
			if err != nil {
				t.Fatal(err)
			}
			want := &parser.Packet{Type: parser.Type(c["type"].(float64)), Namespace: c.Str("nsp")}
			if id, ok := c["id"].(float64); ok {
				want.ID, want.HasID = uint64(id), true
			}
			if j, ok := c["json"].(string); ok {
				want.Data = []byte(j)
			}
			for _, a := range c["atts"].([]any) {
				b, _ := hex.DecodeString(a.(string))
				want.Attachments = append(want.Attachments, b)
			}
			if len(want.Attachments) > 0 {
				want.Type += parser.BinaryEvent - parser.Event
			}
			var d msgpackparser.Decoder
			got, err := d.Decode(wire)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			assertPacket(t, got, want)
			if c["decodeOnly"] == true {
				return
			}
			enc, err := msgpackparser.Encode(want)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(enc, wire) {
				t.Fatalf("encode:\n got %x\nwant %x", enc, wire)
			}
		})
	}
}

func assertPacket(t *testing.T, got, want *parser.Packet) {
	t.Helper()
	if got.Type != want.Type || got.Namespace != want.Namespace || got.HasID != want.HasID || got.ID != want.ID {
		t.Fatalf("header: got %s %q id %v/%d, want %s %q id %v/%d", got.Type, got.Namespace, got.HasID, got.ID, want.Type, want.Namespace, want.HasID, want.ID)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Fatalf("data:\n got %.300s\nwant %.300s", got.Data, want.Data)
	}
	if len(got.Attachments) != len(want.Attachments) {
		t.Fatalf("got %d attachments, want %d", len(got.Attachments), len(want.Attachments))
	}
	for i := range got.Attachments {
		if !bytes.Equal(got.Attachments[i], want.Attachments[i]) {
			t.Fatalf("attachment %d: got %x, want %x", i, got.Attachments[i], want.Attachments[i])
		}
	}
}

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }
