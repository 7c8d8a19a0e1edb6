package clientbundle_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/andybalholm/brotli"
	"go.uber.org/goleak"

	"github.com/echo-socketio/echo-socketio/socketio/clientbundle"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// shared is one handler for the tests that only read, so each compressed
// variant is produced once per test binary.
var shared = sync.OnceValue(func() *clientbundle.Handler {
	h, err := clientbundle.New()
	if err != nil {
		panic(err)
	}
	return h
})

var etagPattern = regexp.MustCompile(`^"[0-9A-Za-z.+-]+-[0-9a-f]{24}(-br|-gz)?"$`)

// readDist returns a vendored file as it lies on disk, which is what the
// package embeds.
func readDist(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("dist/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// do sends a request for name through ServeHTTP with the given headers,
// given as alternating keys and values.
func do(t testing.TB, h http.Handler, method, name string, kv ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "/"+name, nil)
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Add(kv[i], kv[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func decode(t testing.TB, encoding string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch encoding {
	case "":
		return body
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	default:
		t.Fatalf("unexpected Content-Encoding %q", encoding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding %s: %v", encoding, err)
	}
	return out
}

func TestServeIdentity(t *testing.T) {
	h := shared()
	tests := []struct {
		name        string
		file        string
		contentType string
	}{
		{"ok, plain bundle", "socket.io.js", "application/javascript; charset=utf-8"},
		{"ok, plain bundle map", "socket.io.js.map", "application/json"},
		{"ok, minified bundle", "socket.io.min.js", "application/javascript; charset=utf-8"},
		{"ok, minified bundle map", "socket.io.min.js.map", "application/json"},
		{"ok, esm bundle", "socket.io.esm.min.js", "application/javascript; charset=utf-8"},
		{"ok, esm bundle map", "socket.io.esm.min.js.map", "application/json"},
		{"ok, msgpack bundle", "socket.io.msgpack.min.js", "application/javascript; charset=utf-8"},
		{"ok, msgpack bundle map", "socket.io.msgpack.min.js.map", "application/json"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !h.Match(tt.file) {
				t.Fatalf("Match(%q) = false", tt.file)
			}
			w := do(t, h, http.MethodGet, tt.file)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", w.Code)
			}
			hdr := w.Header()
			if got := hdr.Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type %q, want %q", got, tt.contentType)
			}
			if got := hdr.Get("Content-Encoding"); got != "" {
				t.Errorf("Content-Encoding %q, want none", got)
			}
			if got := hdr.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary %q, want Accept-Encoding", got)
			}
			if got := hdr.Get("Cache-Control"); got != "public, max-age=3600" {
				t.Errorf("Cache-Control %q", got)
			}
			if got := hdr.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			etag := hdr.Get("ETag")
			if !etagPattern.MatchString(etag) || strings.HasSuffix(etag, `-br"`) || strings.HasSuffix(etag, `-gz"`) {
				t.Errorf("ETag %q is not a strong identity tag", etag)
			}
			if !strings.HasPrefix(etag, `"`+h.Version()+"-") {
				t.Errorf("ETag %q does not start with the version %s", etag, h.Version())
			}
			if other, dup := seen[etag]; dup {
				t.Errorf("ETag %q also used for %s", etag, other)
			}
			seen[etag] = tt.file
			want := readDist(t, tt.file)
			if !bytes.Equal(w.Body.Bytes(), want) {
				t.Errorf("body differs from dist/%s", tt.file)
			}
			if got := hdr.Get("Content-Length"); got != strconv.Itoa(len(want)) {
				t.Errorf("Content-Length %q, want %d", got, len(want))
			}
		})
	}
	if got, want := len(h.Names()), len(tests); got != want {
		t.Errorf("Names() has %d files, the table %d", got, want)
	}
}
