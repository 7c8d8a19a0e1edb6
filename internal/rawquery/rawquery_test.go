package rawquery

import (
	"net/url"
	"strings"
	"testing"
)

// keys are the parameters the servers read, and a few others.
var keys = []string{"EIO", "transport", "sid", "b64", "t", "", "a b", "é", "a"}

func check(t *testing.T, raw string, more ...string) {
	t.Helper()
	want, _ := url.ParseQuery(raw)
	for _, k := range append(append(keys, strings.Split(raw, "=")[0]), more...) {
		if got := Get(raw, k); got != want.Get(k) {
			t.Fatalf("Get(%q, %q) = %q; url.ParseQuery gives %q", raw, k, got, want.Get(k))
		}
		if _, got := Lookup(raw, k); got != want.Has(k) {
			t.Fatalf("Lookup(%q, %q) finds it: %v; url.ParseQuery says %v", raw, k, got, want.Has(k))
		}
	}
}

var cases = []string{
	"", "EIO=4&transport=websocket", "EIO=3&EIO=4", "EIO=%34", "E%49O=4", "EIO=4;x=1&EIO=3",
	"EIO=%zz&EIO=4", "EI%zzO=4&EIO=3", "a+b=1&a%20b=2", "b64=1", "b64=", "b64", "&&EIO=4&",
	"sid=abc%2Bdef", "sid=a+b", "=4&EIO", "t=%C3%A9&%C3%A9=x", "EIO==4", "EIO=4&transport=polling&t=Pabc",
	"EIO=4&transport=polling&sid=abc", "sid", "sid=", "&sid=x", "sidx=1", "xsid=1", "si=d", "s%69d=1",
	"sid+=1", "s+id=1", "sid;=1", "a=1;sid=2", "sid=%zz", "%zz=1&sid=2", "=&&", "sid=a=b", "&&&", "SID=1",
	strings.Repeat("x=1&", maxScanned) + "EIO=4",
	strings.Repeat("a=1&", 10000) + "sid=1",
	strings.Repeat("x=1&", 10001) + "EIO=4", // over net/url's limit: no parameter at all
}

func TestLookupAsParseQuery(t *testing.T) {
	for _, raw := range cases {
		check(t, raw)
	}
}

// The scan of a query without escapes allocates nothing.
func TestLookupAllocatesNothing(t *testing.T) {
	raw := "EIO=4&transport=websocket&t=PqR5xyz&sid=AbCdEfGhIjKlMnOpQrSt"
	if n := testing.AllocsPerRun(100, func() {
		_ = Get(raw, "EIO")
		_ = Get(raw, "sid")
		_, _ = Lookup(raw, "b64")
	}); n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}

// FuzzLookup checks Get and Lookup against url.ParseQuery, for the usual keys and one more.
func FuzzLookup(f *testing.F) {
	for _, seed := range []string{"EIO=4&transport=websocket", "EIO=%34;&EIO=3", "a+%2B=b&b64=1", "sid=%", "s%69d=1&sid;=2"} {
		f.Add(seed, "sid")
	}
	f.Fuzz(func(t *testing.T, raw, key string) { check(t, raw, key) })
}
