package parser_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// decodeBinary decodes a binary packet from its text frame and attachments.
func decodeBinary(t *testing.T, text string, atts ...[]byte) *parser.Packet {
	t.Helper()
	var d parser.Decoder
	p, complete, err := d.DecodeText([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range atts {
		p, complete, err = d.DecodeBinary(a)
		if err != nil {
			t.Fatal(err)
		}
	}
	if !complete {
		t.Fatal("packet not complete")
	}
	return p
}

func TestSplitArgsKeepsBinary(t *testing.T) {
	a, b := []byte{0, 1, 2, 255}, []byte("second")
	p := decodeBinary(t, `52-["ev",{"_placeholder":true,"num":1},"s",{"a":[{"_placeholder":true,"num":0}],"b":1}]`, a, b)
	args, err := parser.SplitArgs(p.Data, p.Attachments)
	if err != nil {
		t.Fatal(err)
	}
	if len(args) != 4 {
		t.Fatalf("%d args", len(args))
	}
	if args[0].HasBinary() || string(args[0].JSON()) != `"ev"` {
		t.Fatalf("event name %s", args[0])
	}
	if !args[1].IsBinary() || !bytes.Equal(args[1].Bytes(), b) {
		t.Fatalf("arg 1: binary %v, %q", args[1].IsBinary(), args[1].Bytes())
	}
	if args[2].IsBinary() || args[2].HasBinary() || args[2].Bytes() != nil || string(args[2].JSON()) != `"s"` {
		t.Fatalf("arg 2: %s", args[2])
	}
	data, atts := args[3].Parts()
	if args[3].IsBinary() || !args[3].HasBinary() || string(data) != `{"a":[{"_placeholder":true,"num":0}],"b":1}` ||
		len(atts) != 1 || !bytes.Equal(atts[0], a) {
		t.Fatalf("arg 3: %s %q", data, atts)
	}
	if got := string(args[3].JSON()); got != `{"a":["AAEC/w=="],"b":1}` {
		t.Fatalf("plain JSON %s", got)
	}

	// Emitted again, the arguments come out as they came in, attachments renumbered.
	out, outAtts, err := parser.MarshalEvent("ev", args[1:].Any()...)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `["ev",{"_placeholder":true,"num":0},"s",{"a":[{"_placeholder":true,"num":1}],"b":1}]` {
		t.Fatalf("re-emitted %s", out)
	}
	if len(outAtts) != 2 || !bytes.Equal(outAtts[0], b) || !bytes.Equal(outAtts[1], a) {
		t.Fatalf("re-emitted attachments %q", outAtts)
	}
}

func TestArgNestedInValues(t *testing.T) {
	bin := parser.BinaryArg([]byte("xyz"))
	obj, err := parser.NewArg(json.RawMessage(`{"k":{"_placeholder":true,"num":0}}`), [][]byte{[]byte("in")})
	if err != nil {
		t.Fatal(err)
	}
	type wrap struct {
		Pre  []byte         `json:"pre"`
		Arg  parser.Arg     `json:"arg"`
		Ptr  *parser.Arg    `json:"ptr"`
		List parser.Args    `json:"list"`
		Map  map[string]any `json:"map"`
		Zero parser.Arg     `json:"zero"`
	}
	v := wrap{Pre: []byte("p"), Arg: obj, Ptr: &bin, List: parser.Args{bin, obj}, Map: map[string]any{"x": bin}}
	data, atts, err := parser.MarshalArgs(v, bin)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"pre":{"_placeholder":true,"num":0},"arg":{"k":{"_placeholder":true,"num":1}},` +
		`"ptr":{"_placeholder":true,"num":2},"list":[{"_placeholder":true,"num":3},{"k":{"_placeholder":true,"num":4}}],` +
		`"map":{"x":{"_placeholder":true,"num":5}},"zero":null},{"_placeholder":true,"num":6}]`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	wantAtts := []string{"p", "in", "xyz", "xyz", "in", "xyz", "xyz"}
	if len(atts) != len(wantAtts) {
		t.Fatalf("attachments %q", atts)
	}
	for i, w := range wantAtts {
		if string(atts[i]) != w {
			t.Fatalf("attachment %d = %q, want %q", i, atts[i], w)
		}
	}
	// encoding/json sees the plain JSON form.
	plain, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(plain, []byte(`"arg":{"k":"aW4="}`)) {
		t.Fatalf("json.Marshal: %s", plain)
	}
}

func TestArgDecode(t *testing.T) {
	p := decodeBinary(t, `52-["ev",{"_placeholder":true,"num":0},{"n":1,"f":[{"_placeholder":true,"num":1}],"s":"t"},"str",[1,2]]`,
		[]byte{9, 8}, []byte{7})
	args, err := parser.SplitArgs(p.Data, p.Attachments)
	if err != nil {
		t.Fatal(err)
	}
	args = args[1:]

	var raw []byte
	var st struct {
		N int      `json:"n"`
		F [][]byte `json:"f"`
		S string   `json:"s"`
	}
	var s string
	var nums []int
	var missing = "untouched"
	if err := args.Decode(&raw, &st, &s, &nums); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, []byte{9, 8}) || st.N != 1 || len(st.F) != 1 || !bytes.Equal(st.F[0], []byte{7}) || st.S != "t" ||
		s != "str" || len(nums) != 2 {
		t.Fatalf("decoded %v %+v %q %v", raw, st, s, nums)
	}
	if err := args.Decode(nil, nil, nil, nil, &missing); err == nil {
		t.Fatal("nil destination accepted")
	}
	if err := (parser.Args{}).Decode(&missing); err != nil || missing != "untouched" {
		t.Fatalf("missing argument: %v %q", err, missing)
	}

	var anyBin, anyObj, anyStr any
	if err := args.Decode(&anyBin, &anyObj, &anyStr); err != nil {
		t.Fatal(err)
	}
	if b, ok := anyBin.([]byte); !ok || !bytes.Equal(b, []byte{9, 8}) {
		t.Fatalf("binary into any: %#v", anyBin)
	}
	m, _ := anyObj.(map[string]any)
	if f, _ := m["f"].([]any); len(f) != 1 || !bytes.Equal(f[0].([]byte), []byte{7}) {
		t.Fatalf("object into any: %#v", anyObj)
	}
	if anyStr != "str" {
		t.Fatalf("string into any: %#v", anyStr)
	}

	var copyArg parser.Arg
	if err := args[1].Decode(&copyArg); err != nil || string(copyArg.JSON()) != string(args[1].JSON()) {
		t.Fatalf("copy: %v", err)
	}
	var n int
	if err := args[2].Decode(&n); err == nil {
		t.Fatal("string decoded into int")
	}
}

func TestNewArgErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		atts [][]byte
		want error
	}{
		{"nok, not JSON", `{`, nil, parser.ErrInvalidPayload},
		{"nok, empty", ``, nil, parser.ErrInvalidPayload},
		{"nok, two values", `1 2`, nil, parser.ErrInvalidPayload},
		{"nok, placeholder out of range", `[{"_placeholder":true,"num":1}]`, [][]byte{{1}}, parser.ErrInvalidAttachments},
		{"nok, placeholder without num", `{"_placeholder":true}`, [][]byte{{1}}, parser.ErrInvalidAttachments},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parser.NewArg(json.RawMessage(tc.data), tc.atts); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	a, err := parser.NewArg(json.RawMessage(` {"a":1} `), nil)
	if err != nil || string(a.JSON()) != `{"a":1}` || a.HasBinary() {
		t.Fatalf("ok, plain JSON: %s %v", a, err)
	}
	// A placeholder-like object in a plain argument is plain JSON.
	a, err = parser.NewArg(json.RawMessage(`{"_placeholder":true,"num":0}`), nil)
	if err != nil || a.IsBinary() {
		t.Fatalf("ok, placeholder without attachments: %v", err)
	}
}

func TestZeroAndEmptyArgs(t *testing.T) {
	var zero parser.Arg
	if string(zero.JSON()) != "null" || zero.IsBinary() || zero.HasBinary() {
		t.Fatalf("zero Arg %s", zero)
	}
	if d, atts := zero.Parts(); string(d) != "null" || atts != nil {
		t.Fatalf("zero Parts %s %v", d, atts)
	}
	empty := parser.BinaryArg(nil)
	if !empty.IsBinary() || empty.Bytes() == nil || len(empty.Bytes()) != 0 {
		t.Fatal("BinaryArg(nil) is not the empty binary value")
	}
	data, atts, err := parser.MarshalArgs(zero, empty)
	if err != nil || string(data) != `[null,{"_placeholder":true,"num":0}]` || len(atts) != 1 || len(atts[0]) != 0 {
		t.Fatalf("%s %q %v", data, atts, err)
	}
	args, err := parser.SplitArgs(json.RawMessage(`[]`), nil)
	if err != nil || len(args) != 0 {
		t.Fatalf("empty array: %v %v", args, err)
	}
	if _, err := parser.SplitArgs(json.RawMessage(`{}`), nil); !errors.Is(err, parser.ErrInvalidPayload) {
		t.Fatalf("object payload: %v", err)
	}
	if _, err := parser.SplitArgs(json.RawMessage(`[{"_placeholder":true,"num":3}]`), [][]byte{{1}}); !errors.Is(err, parser.ErrInvalidAttachments) {
		t.Fatalf("bad placeholder: %v", err)
	}
}

// FuzzSplitArgs checks that the arguments of any decodable packet, emitted
// again, give the same values and the same binary attachments.
func FuzzSplitArgs(f *testing.F) {
	f.Add([]byte(`52-["ev",{"_placeholder":true,"num":1},"s",{"a":[{"_placeholder":true,"num":0}]}]`), []byte{1}, []byte{2})
	f.Add([]byte(`51-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]`), []byte{1}, []byte{})
	f.Add([]byte(`2["a",{"_placeholder":true,"num":0}]`), []byte{}, []byte{})
	f.Add([]byte(`61-3[{"x":{"_placeholder":true,"num":0,"y":{"_placeholder":true,"num":7}}}]`), []byte{5}, []byte{})
	for _, s := range seedTexts() {
		f.Add([]byte(s), []byte{1, 2}, []byte("w"))
	}
	f.Fuzz(func(t *testing.T, text, a, b []byte) {
		var d parser.Decoder
		p, complete, err := d.DecodeText(text)
		for _, fr := range [][]byte{a, b} {
			if err != nil || complete {
				break
			}
			p, complete, err = d.DecodeBinary(fr)
		}
		if err != nil || !complete || !(p.Type.IsEvent() || p.Type.IsAck()) {
			return
		}
		args, err := parser.SplitArgs(p.Data, p.Attachments)
		if err != nil {
			t.Fatalf("decoded packet %q does not split: %v", text, err)
		}
		var room [2]parser.Arg
		room[0] = parser.BinaryArg(a)
		appended, err := parser.AppendArgs(room[:1], p.Data, p.Attachments)
		if err != nil || len(appended) != 1+len(args) || !bytes.Equal(appended[0].Bytes(), a) ||
			fmt.Sprint(appended[1:]) != fmt.Sprint(args) {
			t.Fatalf("AppendArgs = %v, %v; want the BinaryArg, then %v", appended, err, args)
		}
		data, atts, err := parser.MarshalArgs(args.Any()...)
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		want, got := []byte(p.Data), []byte(data)
		if p.Type.IsBinary() {
			if want, err = parser.Reconstruct(p.Data, p.Attachments); err != nil {
				t.Fatal(err)
			}
			if got, err = parser.Reconstruct(data, atts); err != nil {
				t.Fatalf("re-marshalled payload %s: %v", data, err)
			}
		}
		var cw, cg bytes.Buffer
		if json.Compact(&cw, want) != nil || json.Compact(&cg, got) != nil || cw.String() != cg.String() {
			t.Fatalf("values changed:\n%s\n%s", want, got)
		}
		// No attachment is lost or added: binary stays binary.
		n := 0
		for _, arg := range args {
			_, as := arg.Parts()
			n += len(as)
		}
		if len(atts) != n {
			t.Fatalf("%d attachments re-emitted for %d", len(atts), n)
		}
	})
}
