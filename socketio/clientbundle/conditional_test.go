package clientbundle_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestIfNoneMatch(t *testing.T) {
	h := shared()
	const file = "socket.io.min.js"
	etagOf := func(enc string) string {
		t.Helper()
		return do(t, h, http.MethodGet, file, "Accept-Encoding", enc).Header().Get("ETag")
	}
	id, gz, br := etagOf(""), etagOf("gzip"), etagOf("br")

	tests := []struct {
		name        string
		accept      string
		ifNoneMatch []string // one element per If-None-Match line
		want        int
	}{
		{"ok, repeat identity", "", []string{id}, http.StatusNotModified},
		{"ok, repeat gzip", "gzip", []string{gz}, http.StatusNotModified},
		{"ok, repeat br", "gzip, br", []string{br}, http.StatusNotModified},
		{"ok, weak form matches", "br", []string{"W/" + br}, http.StatusNotModified},
		{"ok, list", "gzip", []string{`"other", ` + gz + `, "more"`}, http.StatusNotModified},
		{"ok, list without spaces", "gzip", []string{`"other",` + gz}, http.StatusNotModified},
		{"ok, several lines", "br", []string{`"other"`, br}, http.StatusNotModified},
		{"ok, star", "br", []string{"*"}, http.StatusNotModified},
		{"ok, star in list", "", []string{`"other", *`}, http.StatusNotModified},
		{"nok, no header", "br", nil, http.StatusOK},
		{"nok, other tag", "br", []string{`"4.0.0-000"`}, http.StatusOK},
		{"nok, identity tag for br request", "br", []string{id}, http.StatusOK},
		{"nok, br tag for gzip request", "gzip", []string{br}, http.StatusOK},
		{"nok, gzip tag for identity request", "", []string{gz}, http.StatusOK},
		{"nok, unquoted tag", "", []string{strings.Trim(id, `"`)}, http.StatusOK},
		{"nok, tag after malformed entry", "", []string{`bad, ` + id}, http.StatusOK},
		{"nok, unterminated tag", "", []string{id[:len(id)-1]}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := []string{"Accept-Encoding", tt.accept}
			for _, v := range tt.ifNoneMatch {
				kv = append(kv, "If-None-Match", v)
			}
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				w := do(t, h, method, file, kv...)
				if w.Code != tt.want {
					t.Fatalf("%s: status %d, want %d", method, w.Code, tt.want)
				}
				hdr := w.Header()
				if hdr.Get("ETag") == "" || hdr.Get("Vary") != "Accept-Encoding" || hdr.Get("Cache-Control") == "" {
					t.Errorf("%s: ETag %q, Vary %q, Cache-Control %q", method, hdr.Get("ETag"), hdr.Get("Vary"), hdr.Get("Cache-Control"))
				}
				if tt.want == http.StatusNotModified {
					if w.Body.Len() != 0 {
						t.Errorf("%s: 304 with %d body bytes", method, w.Body.Len())
					}
					if hdr.Get("Content-Length") != "" || hdr.Get("Content-Type") != "" {
						t.Errorf("%s: 304 with Content-Length %q, Content-Type %q", method, hdr.Get("Content-Length"), hdr.Get("Content-Type"))
					}
				}
			}
		})
	}
}
