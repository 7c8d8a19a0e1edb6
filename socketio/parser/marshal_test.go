package parser_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

type Inner struct {
	Blob []byte `json:"blob,omitempty"`
	Note string `json:"note"`
}

type Embedded struct {
	Shared []byte
	Name   string `json:"name"`
}

type hidden struct {
	Promoted []byte `json:"promoted"`
}

type Blob []byte

type selfMarshaler struct{ B []byte }

func (s selfMarshaler) MarshalJSON() ([]byte, error) { return []byte(`{"self":true}`), nil }

type textKey struct{ A, B string }

func (k textKey) MarshalText() ([]byte, error) { return []byte(k.A + "-" + k.B), nil }

type zeroer struct{ N int }

func (z zeroer) IsZero() bool { return z.N < 0 }

type Message struct {
	Embedded
	*Inner
	hidden
	Title string `json:"title"`
	Skip  []byte `json:"-"`
	//lint:ignore SA5008 a field named "-" is the case under test
	Dash     []byte            `json:"-,"`
	Files    [][]byte          `json:"files"`
	Pair     [2][]byte         `json:"pair"`
	Fixed    [4]byte           `json:"fixed"`
	Named    Blob              `json:"named"`
	ByKey    map[string][]byte `json:"byKey"`
	ByText   map[textKey]any   `json:"byText,omitempty"`
	ByInt    map[int]Blob      `json:"byInt,omitempty"`
	Any      any               `json:"any"`
	Ptr      *[]byte           `json:"ptr"`
	Raw      json.RawMessage   `json:"raw"`
	Self     selfMarshaler     `json:"self"`
	When     time.Time         `json:"when"`
	Count    int               `json:"count,string"`
	Empty    []byte            `json:"empty,omitempty"`
	Zero     zeroer            `json:"zero,omitzero"`
	NilBytes []byte            `json:"nilBytes"`
	Html     string            `json:"html"`
	unexp    []byte
}

// checkMarshal checks that MarshalArgs(args...) reconstructs to what
// encoding/json writes for the same arguments, and returns its output.
func checkMarshal(t *testing.T, args ...any) (json.RawMessage, [][]byte) {
	t.Helper()
	data, att, err := parser.MarshalArgs(args...)
	if err != nil {
		t.Fatalf("MarshalArgs: %v", err)
	}
	if !json.Valid(data) {
		t.Fatalf("MarshalArgs wrote invalid JSON %s", data)
	}
	got, err := parser.Reconstruct(data, att)
	if err != nil {
		t.Fatalf("Reconstruct: %v", err)
	}
	if args == nil {
		args = []any{}
	}
	want, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("reconstructed\n%s\nwant\n%s", got, want)
	}
	return data, att
}

func TestMarshalArgsPlain(t *testing.T) {
	tests := []struct {
		name string
		args []any
	}{
		{"ok, none", nil},
		{"ok, scalars", []any{1, "two", 3.5, true, nil}},
		{"ok, unicode and html", []any{"héllo 😀 <b>&</b>\u2028"}},
		{"ok, struct", []any{struct {
			A int    `json:"a"`
			B string `json:"b,omitempty"`
		}{A: 1}}},
		{"ok, map", []any{map[string]int{"z": 1, "a": 2}}},
		{"ok, raw message", []any{json.RawMessage(`{"x":[1,2]}`)}},
		{"ok, byte array is not binary", []any{[3]byte{1, 2, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, att := checkMarshal(t, tt.args...)
			if att != nil {
				t.Fatalf("attachments %v for plain values", att)
			}
			if strings.Contains(string(data), "_placeholder") {
				t.Fatalf("placeholder in %s", data)
			}
		})
	}
}

func TestMarshalArgsBinary(t *testing.T) {
	t.Run("ok, top level", func(t *testing.T) {
		data, att := checkMarshal(t, "a", []byte{1, 2})
		if string(data) != `["a",{"_placeholder":true,"num":0}]` || len(att) != 1 {
			t.Fatalf("MarshalArgs = %s, %v", data, att)
		}
	})
	t.Run("ok, empty slice is an attachment, nil is null", func(t *testing.T) {
		data, att := checkMarshal(t, []byte{}, []byte(nil))
		if string(data) != `[{"_placeholder":true,"num":0},null]` || len(att) != 1 || len(att[0]) != 0 {
			t.Fatalf("MarshalArgs = %s, %v", data, att)
		}
	})
	t.Run("ok, everywhere", func(t *testing.T) {
		pb := []byte("ptr")
		m := Message{
			Embedded: Embedded{Shared: []byte("shared"), Name: "n"},
			Inner:    &Inner{Blob: []byte("inner"), Note: "x"},
			hidden:   hidden{Promoted: []byte("promoted")},
			Title:    "t",
			Skip:     []byte("skip"),
			Dash:     []byte("dash"),
			Files:    [][]byte{[]byte("f1"), nil, []byte("f2")},
			Pair:     [2][]byte{[]byte("p1"), []byte("p2")},
			Fixed:    [4]byte{1, 2, 3, 4},
			Named:    Blob("named"),
			ByKey:    map[string][]byte{"z": []byte("z"), "a": []byte("a")},
			ByText:   map[textKey]any{{"k", "1"}: []byte("text")},
			ByInt:    map[int]Blob{10: Blob("ten"), 2: Blob("two")},
			Any:      []any{map[string]any{"deep": []byte("any")}},
			Ptr:      &pb,
			Raw:      json.RawMessage(`{"raw":true}`),
			Self:     selfMarshaler{B: []byte("self")},
			When:     time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
			Count:    42,
			Zero:     zeroer{N: -1},
			Html:     "<&>",
			unexp:    []byte("unexported"),
		}
		data, att := checkMarshal(t, "msg", m, &m)
		if len(att) != 2*16 {
			t.Fatalf("%d attachments, want 32: %s", len(att), data)
		}
		for _, s := range []string{"skip", "self", "unexported", "zero"} {
			for _, a := range att {
				if string(a) == s {
					t.Errorf("%q became an attachment", s)
				}
			}
		}
	})
	t.Run("ok, nil embedded pointer and omitempty", func(t *testing.T) {
		checkMarshal(t, Message{Empty: nil, Zero: zeroer{N: 1}})
	})
	t.Run("ok, ambiguous and dominant fields", func(t *testing.T) {
		type A struct{ X []byte }
		type B struct{ X []byte }
		type C struct {
			Y []byte `json:"X"`
		}
		type D struct {
			A
			B
		}
		type E struct {
			A
			C
		}
		type F struct {
			A
			X string
		}
		checkMarshal(t, D{A{[]byte("a")}, B{[]byte("b")}}, E{A{[]byte("a")}, C{[]byte("c")}}, F{A{[]byte("a")}, "x"})
	})
	t.Run("ok, recursive types", func(t *testing.T) {
		type node struct {
			Children []*node
			Value    any
		}
		tree := &node{Children: []*node{{Value: []byte("leaf")}, {Value: 1}}}
		_, att := checkMarshal(t, tree)
		if len(att) != 1 {
			t.Fatalf("%d attachments, want 1", len(att))
		}
	})
	t.Run("ok, mutually recursive types", func(t *testing.T) {
		_, att := checkMarshal(t, mutB{A: &mutA{Data: []byte("x")}})
		if len(att) != 1 {
			t.Fatalf("%d attachments, want 1", len(att))
		}
		_, att = checkMarshal(t, mutA{B: &mutB{A: &mutA{Data: []byte("y")}}})
		if len(att) != 1 {
			t.Fatalf("%d attachments, want 1", len(att))
		}
	})
}

type mutA struct {
	B    *mutB
	Data []byte
}

type mutB struct{ A *mutA }

func TestMarshalEvent(t *testing.T) {
	data, att, err := parser.MarshalEvent("up\"load", map[string]any{"f": []byte("x")})
	if err != nil || string(data) != `["up\"load",{"f":{"_placeholder":true,"num":0}}]` || len(att) != 1 {
		t.Fatalf("MarshalEvent = %s, %v, %v", data, att, err)
	}
	data, att, err = parser.MarshalEvent("event", struct {
		A int    `json:"a"`
		B string `json:"b"`
	}{1, "text"})
	if err != nil || string(data) != `["event",{"a":1,"b":"text"}]` || att != nil {
		t.Fatalf("MarshalEvent = %s, %v, %v", data, att, err)
	}
	for _, name := range []string{"connect", "disconnect"} {
		if _, _, err := parser.MarshalEvent(name); !errors.Is(err, parser.ErrInvalidPayload) {
			t.Fatalf("nok, MarshalEvent(%q) error = %v", name, err)
		}
	}
}

type cyclic struct {
	Next *cyclic
	B    []byte
}

func TestMarshalArgsNOK(t *testing.T) {
	c := &cyclic{B: []byte("x")}
	c.Next = c
	m := map[string]any{"b": []byte("x")}
	m["m"] = m
	s := []any{[]byte("x"), nil}
	s[1] = s
	var long *cyclic
	for range 20000 {
		long = &cyclic{Next: long}
	}
	tests := []struct {
		name string
		arg  any
	}{
		{"nok, pointer cycle", c},
		{"nok, map cycle", m},
		{"nok, slice cycle", s},
		{"nok, too deep", long},
		{"nok, channel next to bytes", struct {
			B []byte
			C chan int
		}{C: make(chan int)}},
		{"nok, function", func() {}},
		{"nok, unsupported map key", map[[2]int]any{{1, 2}: []byte("x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, att, err := parser.MarshalArgs(tt.arg)
			if !errors.Is(err, parser.ErrUnsupportedValue) || data != nil || att != nil {
				t.Fatalf("MarshalArgs = %.50s, %v, %v; want ErrUnsupportedValue", data, att, err)
			}
		})
	}
}

func ExampleMarshalEvent() {
	type upload struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}
	data, attachments, err := parser.MarshalEvent("upload", upload{Name: "a.txt", Data: []byte("hi")})
	if err != nil {
		panic(err)
	}
	text, frames, err := parser.Encode(&parser.Packet{Type: parser.Event, Data: data, Attachments: attachments})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n%q\n", text, frames)
	// Output:
	// 51-["upload",{"name":"a.txt","data":{"_placeholder":true,"num":0}}]
	// ["hi"]
}
