package engineio

import (
	"net/url"
	"strings"
)

// maxScannedParams is the number of parameters above which queryGet lets url.ParseQuery read
// a query: the net/url package refuses a query with too many parameters (a limit the
// urlmaxqueryparams GODEBUG setting moves), and queryGet answers as it does.
const maxScannedParams = 100

// queryGet returns the first value of key in the raw (still escaped) query of a URL, as
// url.ParseQuery(raw).Get(key) does, without building the map of every parameter: the
// parameters are separated by '&', a parameter holding a ';' is ignored, and so is one whose
// name or value is not properly escaped; '+' stands for a space and %XX for a byte. A value
// without escapes is a substring of raw.
func queryGet(raw, key string) string {
	if strings.Count(raw, "&") >= maxScannedParams {
		v, _ := url.ParseQuery(raw)
		return v.Get(key)
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if k, ok := queryUnescape(k); !ok || k != key {
			continue
		}
		if v, ok := queryUnescape(v); ok {
			return v
		}
	}
	return ""
}

// queryUnescape is url.QueryUnescape, which allocates only for a string with escapes, and
// reports whether s was well formed.
func queryUnescape(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}
