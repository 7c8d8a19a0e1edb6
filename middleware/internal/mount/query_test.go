package mount

import (
	"net/url"
	"strings"
	"testing"
)

var queryCases = []string{
	"", "EIO=4&transport=websocket", "EIO=4&transport=polling&sid=abc", "sid", "sid=", "&sid=x",
	"sidx=1", "xsid=1", "si=d", "s%69d=1", "sid+=1", "s+id=1", "sid;=1", "a=1;sid=2", "sid=%zz",
	"%zz=1&sid=2", "=&&", "sid=a=b", "&&&", "SID=1",
	strings.Repeat("a=1&", 10000) + "sid=1",
}

func TestHasQueryKey(t *testing.T) {
	for _, raw := range queryCases {
		q, _ := url.ParseQuery(raw)
		for _, key := range []string{"sid", "", "a"} {
			if got, want := hasQueryKey(raw, key), q.Has(key); got != want {
				t.Errorf("hasQueryKey(%.40q, %q) = %v, url.ParseQuery says %v", raw, key, got, want)
			}
		}
	}
}

// FuzzHasQueryKey compares hasQueryKey with url.ParseQuery.
func FuzzHasQueryKey(f *testing.F) {
	for _, raw := range queryCases[:len(queryCases)-1] {
		f.Add(raw, "sid")
	}
	f.Fuzz(func(t *testing.T, raw, key string) {
		q, _ := url.ParseQuery(raw)
		if got, want := hasQueryKey(raw, key), q.Has(key); got != want {
			t.Fatalf("hasQueryKey(%q, %q) = %v, url.ParseQuery says %v", raw, key, got, want)
		}
	})
}
