package parser

import (
	"encoding/json"
	"strings"
	"testing"
)

var jsonSeeds = []string{
	``, ` `, `1`, `-0`, `-`, `01`, `1.`, `1.5e`, `1e+5`, `-1.25E-3`, `.5`, `+1`,
	`"a"`, `"\u00e9\n\"\\\/"`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"\x01\"", "\"\xff\"", `"a`,
	`true`, `tru`, `truex`, `null`, `nul`, `false`, `[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`,
	`{}`, `{ }`, `{"a":1}`, `{"a" : [1,{"b":null}] , "c":"d"}`, `{"a"}`, `{"a":}`, `{1:2}`,
	`{"a":1,}`, `[}`, `{]`, `[1]]`, `[[1]`, `1 2`, `"a" "b"`, `[]{}`, " \t\r\n[\n1\n]\n ",
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
	strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
}

func TestValidJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.40q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

// FuzzValidJSON checks validJSON against json.Valid.
func FuzzValidJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		if len(s) <= 1024 {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

// The fast path of json.RawMessage arguments takes compact JSON with nothing to escape, and
// leaves the rest to encoding/json.
func TestMarshalRawFastPath(t *testing.T) {
	for _, c := range []struct {
		raw  string
		fast bool
	}{
		{`{"x":[1,2],"y":"z"}`, true},
		{`"\u003c\"é"`, true},
		{`12`, true},
		{`{"x": 1}`, false},
		{`"<"`, false},
		{`"a&b"`, false},
		{"\"\u2028\"", false},
		{`{`, false},
		{``, false},
	} {
		e := getEncoder()
		fast := e.raw(json.RawMessage(c.raw))
		if fast != c.fast || (fast && string(e.buf) != c.raw) || (!fast && len(e.buf) != 0) {
			t.Errorf("raw(%q) = %v, wrote %q; want %v", c.raw, fast, e.buf, c.fast)
		}
		putEncoder(e)
	}
}

// The string scan and the fast path of json.RawMessage look at eight bytes at once: each byte
// that matters is found at every position of a word, and in the tail.
func TestValidJSONWords(t *testing.T) {
	for _, c := range []string{`"`, `\`, `\n`, `\u00e9`, "\x00", "\x1f", "\n", " ", "<", ">", "&", "\u2028", "\xe2", "\x7f", "\x80", "\xff", "é"} {
		for at := range 26 {
			s := `"` + strings.Repeat("a", at) + c + strings.Repeat("b", 25-at) + `"`
			if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
				t.Errorf("validJSON(%q) = %v, json.Valid says %v", s, got, want)
			}
			e := getEncoder()
			fast := e.raw(json.RawMessage(s))
			want := json.Valid([]byte(s))
			for _, b := range []byte(s) {
				switch b {
				case ' ', '\t', '\n', '\r', '<', '>', '&', 0xE2:
					want = false
				}
			}
			if fast != want {
				t.Errorf("raw(%q) = %v, want %v", s, fast, want)
			}
			putEncoder(e)
		}
	}
}

func TestWordTests(t *testing.T) {
	for v := range 256 {
		w := uint64(0x6161616161616161)
		for at := range 8 {
			x := w&^(0xff<<(8*at)) | uint64(v)<<(8*at)
			if got, want := hasByte(x, '"'), v == '"'; got != want {
				t.Errorf("hasByte(%#x, '\"') = %v", x, got)
			}
			if got, want := hasLess(x, 0x20), v < 0x20; got != want {
				t.Errorf("hasLess(%#x, 0x20) = %v", x, got)
			}
			if got, want := plainWord(x), v >= 0x20 && v != '"' && v != '\\'; got != want {
				t.Errorf("plainWord(%#x) = %v", x, got)
			}
		}
	}
}
