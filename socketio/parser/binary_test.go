package parser_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

func TestReconstruct(t *testing.T) {
	att := [][]byte{{1, 2, 3}, []byte("hello"), {}}
	tests := []struct {
		name, in, want string
	}{
		{"ok, top level", `["a",{"_placeholder":true,"num":0}]`, `["a","AQID"]`},
		{"ok, nested", `["a",{"b":["c",{"_placeholder":true,"num":1}]}]`, `["a",{"b":["c","aGVsbG8="]}]`},
		{"ok, empty attachment", `[{"_placeholder":true,"num":2}]`, `[""]`},
		{"ok, member order and extra members", `[{"num":1,"x":[1,{"y":2}],"_placeholder":true}]`, `["aGVsbG8="]`},
		{"ok, escaped member names", `[{"_placeholde\u0072":true,"n\u0075m":0}]`, `["AQID"]`},
		{"ok, num written as float", `[{"_placeholder":true,"num":1.0},{"_placeholder":true,"num":-0}]`, `["aGVsbG8=","AQID"]`},
		{"ok, last duplicate member wins", `[{"_placeholder":true,"num":7,"num":0}]`, `["AQID"]`},
		{"ok, placeholder false is an object", `[{"_placeholder":false,"num":9}]`, `[{"_placeholder":false,"num":9}]`},
		{"ok, placeholder not true is an object", `[{"_placeholder":"true","num":9},{"_placeholder":1}]`, `[{"_placeholder":"true","num":9},{"_placeholder":1}]`},
		{"ok, duplicate placeholder member false wins", `[{"_placeholder":true,"_placeholder":false}]`, `[{"_placeholder":true,"_placeholder":false}]`},
		{"ok, placeholder member as value is not a key", `["_placeholder",{"a":"_placeholder","b":"num"}]`, `["_placeholder",{"a":"_placeholder","b":"num"}]`},
		{"ok, inside a placeholder is ignored", `[{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":99}}]`, `["AQID"]`},
		{"ok, unicode kept", `["héllo 😀",{"_placeholder":true,"num":0}]`, `["héllo 😀","AQID"]`},
		{"ok, white space kept", ` [ "a" , { "_placeholder" : true , "num" : 0 } ] `, `[ "a" , "AQID" ]`},
		{"ok, no placeholders", `{"a":[1,2,{"b":null}]}`, `{"a":[1,2,{"b":null}]}`},
		{"ok, deep", `["a",` + deep(9000) + `,{"_placeholder":true,"num":0}]`, `["a",` + deep(9000) + `,"AQID"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parser.Reconstruct(raw(tt.in), att)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("Reconstruct = %.100s, want %.100s", got, tt.want)
			}
		})
	}

	nok := []struct {
		name, in string
		want     error
	}{
		{"nok, num as string", `["hello",{"_placeholder":true,"num":"splice"}]`, parser.ErrInvalidAttachments},
		{"nok, num negative", `["hello",{"_placeholder":true,"num":-1}]`, parser.ErrInvalidAttachments},
		{"nok, num out of range", `["hello",{"_placeholder":true,"num":3}]`, parser.ErrInvalidAttachments},
		{"nok, num fractional", `["hello",{"_placeholder":true,"num":1.5}]`, parser.ErrInvalidAttachments},
		{"nok, num exponent out of range", `["hello",{"_placeholder":true,"num":1e3}]`, parser.ErrInvalidAttachments},
		{"nok, num object", `["hello",{"_placeholder":true,"num":{"n":0}}]`, parser.ErrInvalidAttachments},
		{"nok, num array", `["hello",{"_placeholder":true,"num":[0]}]`, parser.ErrInvalidAttachments},
		{"nok, num missing", `["hello",{"_placeholder":true}]`, parser.ErrInvalidAttachments},
		{"nok, valid num overwritten by invalid", `[{"_placeholder":true,"num":0,"num":"0"}]`, parser.ErrInvalidAttachments},
		{"nok, bad placeholder after good", `[{"_placeholder":true,"num":0},[{"_placeholder":true,"num":5}]]`, parser.ErrInvalidAttachments},
		{"nok, root placeholder bad", `{"_placeholder":true,"num":5}`, parser.ErrInvalidAttachments},
		{"nok, invalid JSON", `["a",{"_placeholder":true,"num":0}`, parser.ErrInvalidPayload},
		{"nok, trailing garbage", `["a"]]`, parser.ErrInvalidPayload},
	}
	for _, tt := range nok {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parser.Reconstruct(raw(tt.in), att)
			if !errors.Is(err, tt.want) || got != nil {
				t.Fatalf("Reconstruct = %s, %v; want error %v", got, err, tt.want)
			}
		})
	}
}

func TestReconstructDecodesIntoBytes(t *testing.T) {
	var d parser.Decoder
	d.DecodeText([]byte(`51-["upload",{"name":"a.bin","data":{"_placeholder":true,"num":0}}]`))
	p, _, err := d.DecodeBinary([]byte{0, 1, 2, 0xff})
	if err != nil {
		t.Fatal(err)
	}
	data, err := parser.Reconstruct(p.Data, p.Attachments)
	if err != nil {
		t.Fatal(err)
	}
	args, err := parser.SplitArray(data, nil)
	if err != nil || len(args) != 2 {
		t.Fatalf("SplitArray = %q, %v", args, err)
	}
	var file struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}
	if err := json.Unmarshal(args[1], &file); err != nil {
		t.Fatal(err)
	}
	if file.Name != "a.bin" || !reflect.DeepEqual(file.Data, []byte{0, 1, 2, 0xff}) {
		t.Fatalf("decoded %+v", file)
	}
}

func TestSplitArray(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"ok, empty", `[]`, nil},
		{"ok, empty with spaces", ` [ ] `, nil},
		{"ok, one", `["a"]`, []string{`"a"`}},
		{"ok, mixed", `["ev", 1 ,{"a":[1,"]"]},[[]],null,true,-1.5e3,"x\"y"]`,
			[]string{`"ev"`, `1`, `{"a":[1,"]"]}`, `[[]]`, `null`, `true`, `-1.5e3`, `"x\"y"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parser.SplitArray(raw(tt.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, g := range got {
				s = append(s, string(g))
			}
			if !reflect.DeepEqual(s, tt.want) {
				t.Fatalf("SplitArray = %q, want %q", s, tt.want)
			}
		})
	}
	for _, in := range []string{``, `{}`, `"a"`, `[`, `[1 2]`, `[1,]`, `[,]`} {
		if got, err := parser.SplitArray(raw(in), nil); err == nil {
			t.Errorf("nok, SplitArray(%q) = %q, want an error", in, got)
		}
	}
}

func TestEventName(t *testing.T) {
	tests := []struct{ in, want string }{
		{`["message",1]`, "message"},
		{` [ "héllo 😀" ]`, "héllo 😀"},
		{`["a\nb\u00e9"]`, "a\nb\u00e9"},
		{`[42,"x"]`, "42"},
	}
	for _, tt := range tests {
		got, err := parser.EventName(raw(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("ok, EventName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{``, `[]`, `{}`, `[null]`, `[true]`, `[{}]`} {
		if got, err := parser.EventName(raw(in)); !errors.Is(err, parser.ErrInvalidPayload) {
			t.Errorf("nok, EventName(%q) = %q, %v; want ErrInvalidPayload", in, got, err)
		}
	}
}
