// Package rawquery reads parameters from the raw (still escaped) query of a URL without
// parsing the whole query into a map, with the answers of url.ParseQuery. The Engine.IO
// server and the Echo adapters read a few parameters of every request this way.
package rawquery

import (
	"net/url"
	"strings"
)

// maxScanned is the number of parameters above which Lookup lets url.ParseQuery read a query:
// the net/url package refuses a query with too many parameters (a limit the
// urlmaxqueryparams GODEBUG setting moves), and Lookup answers as it does.
const maxScanned = 100

// Lookup returns the first value of key in the raw query and whether the query names key, as
// url.ParseQuery(raw) does with Get and Has: the parameters are separated by '&', a parameter
// holding a ';' is ignored, and so is one whose name or value is not properly escaped; '+'
// stands for a space and %XX for a byte. A value without escapes is a substring of raw, and
// a query without escapes is read without allocating.
func Lookup(raw, key string) (string, bool) {
	if strings.Count(raw, "&") >= maxScanned {
		v, _ := url.ParseQuery(raw)
		vs, ok := v[key]
		if !ok {
			return "", false
		}
		return vs[0], true
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if k, ok := unescape(k); !ok || k != key {
			continue
		}
		if v, ok := unescape(v); ok {
			return v, true
		}
	}
	return "", false
}

// Get returns the first value of key in the raw query, as url.ParseQuery(raw).Get(key) does.
func Get(raw, key string) string {
	v, _ := Lookup(raw, key)
	return v
}

// unescape is url.QueryUnescape, which allocates only for a string with escapes, and reports
// whether s was well formed.
func unescape(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	u, err := url.QueryUnescape(s)
	return u, err == nil
}
