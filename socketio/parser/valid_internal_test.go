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
