package parser_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// jsonArray returns what encoding/json writes for args as one JSON array, as an Encoder
// writes it, without the trailing newline.
func jsonArray(args []any) ([]byte, error) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(args); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// checkRawMessage checks that MarshalArgs writes the json.RawMessage m, alone and between
// other values, as encoding/json does, and fails where encoding/json fails.
func checkRawMessage(t *testing.T, m json.RawMessage) {
	t.Helper()
	for _, args := range [][]any{{m}, {"a", m, 1}} {
		want, werr := jsonArray(args)
		got, att, err := parser.MarshalArgs(args...)
		switch {
		case werr != nil:
			if !errors.Is(err, parser.ErrUnsupportedValue) || got != nil {
				t.Fatalf("MarshalArgs(%q) = %q, %v; encoding/json fails: %v", m, got, err, werr)
			}
		case err != nil || !bytes.Equal(got, want) || att != nil:
			t.Fatalf("MarshalArgs(%q) = %q, %v, %v; want %q", m, got, att, err, want)
		}
	}
}

func TestMarshalArgsRawMessage(t *testing.T) {
	for _, m := range []string{
		`{"x":[1,2]}`, `"plain"`, `12`, `-1.5e3`, `true`, `null`, `[]`, `{}`,
		`"x\"y\\z\u00e9"`, `"héllo 😀"`, `"a\u2028b"`, "\"a\u2028b\"", "\"a\u2029b\"",
		"\"\xe2\x82\xac\"", // U+20AC, whose encoding also starts with 0xE2
		`"<b>&</b>"`, ` {"x" : 1 } `, "[1,\n2]", "\"bad \xff utf-8\"",
		``, `{`, `1 2`, `"open`, `[1,]`, `nul`, `{"a":1}x`, `01`,
	} {
		checkRawMessage(t, json.RawMessage(m))
	}
	checkRawMessage(t, nil)
	deep := bytes.Repeat([]byte("["), 10001)
	deep = append(deep, bytes.Repeat([]byte("]"), 10001)...)
	checkRawMessage(t, deep)
}

func FuzzMarshalRawMessage(f *testing.F) {
	for _, s := range []string{`{"x":[1,2]}`, `"a<b"`, ` 1 `, "\"\xe2\x80\xa8\"", `[1,]`, `"\u00e9"`} {
		f.Add([]byte(s))
	}
	for _, s := range seedTexts() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, m []byte) {
		if m == nil {
			m = []byte{}
		}
		checkRawMessage(t, json.RawMessage(m))
	})
}

func TestEncodeAck(t *testing.T) {
	raw := json.RawMessage(`{"n":1}`)
	arg, err := parser.NewArg(json.RawMessage(`[{"_placeholder":true,"num":0}]`), [][]byte{{9}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		nsp  string
		id   uint64
		args []any
	}{
		{"ok, no argument", "/", 0, nil},
		{"ok, values", "", 7, []any{"x", 1, raw, map[string]int{"a": 1}}},
		{"ok, namespace", "/chat", parser.MaxAckID, []any{nil, true}},
		{"ok, binary", "/b", 12, []any{[]byte{1, 2}, "x", []byte{3}}},
		{"ok, binary arg after bytes", "/", 3, []any{[]byte{1}, arg}},
		{"ok, plain arg", "/", 3, []any{parser.Arg{}, raw}},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, atts, err := parser.MarshalArgs(c.args...)
			if err != nil {
				t.Fatal(err)
			}
			wantText, wantAtts, err := parser.Encode(&parser.Packet{Type: parser.Ack, Namespace: c.nsp, ID: c.id, HasID: true, Data: data, Attachments: atts})
			if err != nil {
				t.Fatal(err)
			}
			text, gotAtts, err := parser.EncodeAck(c.nsp, c.id, c.args...)
			if err != nil || !bytes.Equal(text, wantText) || len(gotAtts) != len(wantAtts) {
				t.Fatalf("EncodeAck = %q, %q, %v; want %q, %q", text, gotAtts, err, wantText, wantAtts)
			}
			for i := range gotAtts {
				if !bytes.Equal(gotAtts[i], wantAtts[i]) {
					t.Fatalf("attachment %d = %q, want %q", i, gotAtts[i], wantAtts[i])
				}
			}
		})
	}
}

func TestEncodeAckNOK(t *testing.T) {
	// SplitArgs does not check the JSON text of the arguments it makes from a payload.
	bad, err := parser.SplitArgs(json.RawMessage(`[{"a":},2]`), nil)
	if err != nil {
		t.Fatalf("SplitArgs: %v", err)
	}
	for _, c := range []struct {
		name string
		nsp  string
		id   uint64
		args []any
		want error
	}{
		{"nok, namespace without slash", "chat", 1, nil, parser.ErrInvalidNamespace},
		{"nok, comma in namespace", "/a,b", 1, nil, parser.ErrInvalidNamespace},
		{"nok, id too large", "/", parser.MaxAckID + 1, nil, parser.ErrInvalidAckID},
		{"nok, unsupported value", "/", 1, []any{func() {}}, parser.ErrUnsupportedValue},
		{"nok, invalid raw message", "/", 1, []any{json.RawMessage(`{`)}, parser.ErrUnsupportedValue},
		{"nok, arg of an unchecked payload", "/", 1, []any{bad[0]}, parser.ErrInvalidPayload},
		{"nok, placeholder of no attachment", "/", 1, []any{[]byte{1}, map[string]any{"_placeholder": true, "num": 4}}, parser.ErrInvalidAttachments},
	} {
		t.Run(c.name, func(t *testing.T) {
			text, atts, err := parser.EncodeAck(c.nsp, c.id, c.args...)
			if !errors.Is(err, c.want) || text != nil || atts != nil {
				t.Fatalf("EncodeAck = %q, %q, %v; want %v", text, atts, err, c.want)
			}
		})
	}
}
