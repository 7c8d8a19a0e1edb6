package engineio

import (
	"net/url"
	"strings"
	"testing"
)

// queryKeys are the parameters the server reads, and a few others.
var queryKeys = []string{"EIO", "transport", "sid", "b64", "t", "", "a b", "é"}

func checkQueryGet(t *testing.T, raw string) {
	t.Helper()
	want, _ := url.ParseQuery(raw)
	for _, k := range append(queryKeys, strings.Split(raw, "=")[0]) {
		if got := queryGet(raw, k); got != want.Get(k) {
			t.Fatalf("queryGet(%q, %q) = %q; url.ParseQuery gives %q", raw, k, got, want.Get(k))
		}
	}
}

func TestQueryGetAsParseQuery(t *testing.T) {
	for _, raw := range []string{
		"", "EIO=4&transport=websocket", "EIO=3&EIO=4", "EIO=%34", "E%49O=4", "EIO=4;x=1&EIO=3",
		"EIO=%zz&EIO=4", "EI%zzO=4&EIO=3", "a+b=1&a%20b=2", "b64=1", "b64=", "b64", "&&EIO=4&",
		"sid=abc%2Bdef", "sid=a+b", "=4&EIO", "t=%C3%A9&%C3%A9=x", "EIO==4", "EIO=4&transport=polling&t=Pabc",
		strings.Repeat("x=1&", maxScannedParams) + "EIO=4",
		strings.Repeat("x=1&", 10001) + "EIO=4", // over net/url's limit: no parameter at all
	} {
		checkQueryGet(t, raw)
	}
}

// The scan of a query without escapes allocates nothing.
func TestQueryGetAllocatesNothing(t *testing.T) {
	raw := "EIO=4&transport=websocket&t=PqR5xyz&sid=AbCdEfGhIjKlMnOpQrSt"
	if n := testing.AllocsPerRun(100, func() {
		_ = queryGet(raw, "EIO")
		_ = queryGet(raw, "sid")
		_ = queryGet(raw, "b64")
	}); n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}

// FuzzQueryGet checks queryGet against url.ParseQuery.
func FuzzQueryGet(f *testing.F) {
	for _, seed := range []string{"EIO=4&transport=websocket", "EIO=%34;&EIO=3", "a+%2B=b&b64=1", "sid=%"} {
		f.Add(seed)
	}
	f.Fuzz(checkQueryGet)
}
