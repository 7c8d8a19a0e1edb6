package clientbundle_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/socketio/clientbundle"
)

func newHandler(t testing.TB) *clientbundle.Handler {
	t.Helper()
	h, err := clientbundle.New()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestVersion(t *testing.T) {
	h := shared()
	raw, err := os.ReadFile("dist/VERSION")
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(raw))
	if h.Version() != version {
		t.Fatalf("Version() = %q, dist/VERSION says %q", h.Version(), version)
	}
	if !strings.HasPrefix(version, "4.") {
		t.Errorf("version %q is not a 4.x client", version)
	}
	banner := []byte(" * Socket.IO v" + version + "\n")
	for _, name := range []string{"socket.io.js", "socket.io.min.js", "socket.io.esm.min.js", "socket.io.msgpack.min.js"} {
		w := do(t, h, http.MethodGet, name)
		head := w.Body.Bytes()[:min(w.Body.Len(), 200)]
		if !bytes.Contains(head, banner) {
			t.Errorf("%s does not start with the banner for v%s: %q", name, version, head)
		}
	}
	if lic, err := os.ReadFile("dist/LICENSE"); err != nil || !bytes.Contains(lic, []byte("MIT")) {
		t.Errorf("dist/LICENSE missing or not the MIT licence: %v", err)
	}
}

func TestNotMatched(t *testing.T) {
	h := shared()
	tests := []struct {
		name string
		file string
	}{
		{"nok, empty", ""},
		{"nok, leading slash", "/socket.io.js"},
		{"nok, license", "LICENSE"},
		{"nok, version", "VERSION"},
		{"nok, other script", "socket.io.slim.js"},
		{"nok, case differs", "Socket.IO.js"},
		{"nok, directory", "dist/socket.io.js"},
		{"nok, traversal", "../clientbundle.go"},
		{"nok, query-like", "socket.io.js?v=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if h.Match(tt.file) {
				t.Errorf("Match(%q) = true", tt.file)
			}
			w := httptest.NewRecorder()
			if h.ServeFile(w, httptest.NewRequest(http.MethodGet, "/x", nil), tt.file) {
				t.Errorf("ServeFile(%q) = true", tt.file)
			}
			if w.Code != http.StatusOK || w.Body.Len() != 0 || len(w.Header()) != 0 {
				t.Errorf("ServeFile(%q) wrote a response: %d %v", tt.file, w.Code, w.Header())
			}
		})
	}
	t.Run("nok, ServeHTTP answers 404", func(t *testing.T) {
		if w := do(t, h, http.MethodGet, "socket.io.slim.js"); w.Code != http.StatusNotFound {
			t.Errorf("status %d, want 404", w.Code)
		}
	})
}

func TestServeFile(t *testing.T) {
	h := shared()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/socket.io/socket.io.js", nil)
	if !h.ServeFile(w, r, "socket.io.js") {
		t.Fatal("ServeFile returned false")
	}
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), readDist(t, "socket.io.js")) {
		t.Fatalf("status %d, %d bytes", w.Code, w.Body.Len())
	}
}

func TestStripPrefix(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/socket.io", shared()))
	defer srv.Close()
	// The default transport asks for gzip and decodes it transparently.
	res, err := srv.Client().Get(srv.URL + "/socket.io/socket.io.min.js")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(res.Body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !res.Uncompressed {
		t.Errorf("status %d, uncompressed by the transport %v", res.StatusCode, res.Uncompressed)
	}
	if !bytes.Equal(body.Bytes(), readDist(t, "socket.io.min.js")) {
		t.Error("body differs from dist/socket.io.min.js")
	}
}

func TestHead(t *testing.T) {
	h := shared()
	for _, enc := range []string{"", "gzip", "br"} {
		get := do(t, h, http.MethodGet, "socket.io.js", "Accept-Encoding", enc)
		head := do(t, h, http.MethodHead, "socket.io.js", "Accept-Encoding", enc)
		if head.Code != http.StatusOK {
			t.Fatalf("%q: status %d", enc, head.Code)
		}
		if head.Body.Len() != 0 {
			t.Errorf("%q: HEAD wrote %d body bytes", enc, head.Body.Len())
		}
		for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "ETag", "Vary", "Cache-Control"} {
			if g, hd := get.Header().Get(k), head.Header().Get(k); g != hd {
				t.Errorf("%q: %s is %q on GET, %q on HEAD", enc, k, g, hd)
			}
		}
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := shared()
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		t.Run("nok, "+method, func(t *testing.T) {
			w := do(t, h, method, "socket.io.js")
			if w.Code != http.StatusMethodNotAllowed {
				t.Fatalf("status %d, want 405", w.Code)
			}
			if got := w.Header().Get("Allow"); got != "GET, HEAD" {
				t.Errorf("Allow %q", got)
			}
			if w.Header().Get("ETag") != "" {
				t.Error("405 carries an ETag")
			}
		})
	}
}

func TestCacheControl(t *testing.T) {
	tests := []struct {
		name   string
		maxAge time.Duration
		want   string
	}{
		{"ok, zero means default", 0, "public, max-age=3600"},
		{"ok, custom", 90 * time.Second, "public, max-age=90"},
		{"ok, fractions rounded down", 1500 * time.Millisecond, "public, max-age=1"},
		{"ok, negative revalidates always", -1, "public, max-age=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := clientbundle.NewWithOptions(clientbundle.Options{MaxAge: tt.maxAge})
			if err != nil {
				t.Fatal(err)
			}
			if got := do(t, h, http.MethodGet, "socket.io.js").Header().Get("Cache-Control"); got != tt.want {
				t.Errorf("Cache-Control %q, want %q", got, tt.want)
			}
		})
	}
	if clientbundle.DefaultMaxAge != time.Hour {
		t.Errorf("DefaultMaxAge = %v; update the table", clientbundle.DefaultMaxAge)
	}
}

func TestVaryKeepsOtherValues(t *testing.T) {
	h := shared()
	tests := []struct {
		name string
		old  []string
		want []string
	}{
		{"ok, none", nil, []string{"Accept-Encoding"}},
		{"ok, other value kept", []string{"Origin"}, []string{"Origin", "Accept-Encoding"}},
		{"ok, already listed", []string{"Origin, accept-encoding"}, []string{"Origin, accept-encoding"}},
		{"ok, star", []string{"*"}, []string{"*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			for _, v := range tt.old {
				w.Header().Add("Vary", v)
			}
			h.ServeFile(w, httptest.NewRequest(http.MethodGet, "/", nil), "socket.io.js")
			if got := w.Header().Values("Vary"); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("Vary %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHandlersAreIndependent(t *testing.T) {
	a, b := newHandler(t), newHandler(t)
	wa := do(t, a, http.MethodGet, "socket.io.esm.min.js", "Accept-Encoding", "gzip")
	wb := do(t, b, http.MethodGet, "socket.io.esm.min.js", "Accept-Encoding", "gzip")
	if wa.Header().Get("ETag") != wb.Header().Get("ETag") || !bytes.Equal(wa.Body.Bytes(), wb.Body.Bytes()) {
		t.Error("two handlers disagree about the same variant")
	}
	names := a.Names()
	names[0] = "changed"
	if a.Names()[0] == "changed" || !a.Match("socket.io.js") {
		t.Error("Names() exposes internal state")
	}
}

func BenchmarkServeGzip(b *testing.B) {
	h := newHandler(b)
	r := httptest.NewRequest(http.MethodGet, "/socket.io.min.js", nil)
	r.Header.Set("Accept-Encoding", "gzip, deflate")
	w := &discardWriter{header: http.Header{}}
	h.ServeHTTP(w, r) // compress before timing
	if w.status != http.StatusOK {
		b.Fatalf("status %d", w.status)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.header)
		h.ServeHTTP(w, r)
	}
}

func BenchmarkServeNotModified(b *testing.B) {
	h := newHandler(b)
	r := httptest.NewRequest(http.MethodGet, "/socket.io.min.js", nil)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	w := &discardWriter{header: http.Header{}}
	h.ServeHTTP(w, r)
	r.Header.Set("If-None-Match", w.header.Get("ETag"))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.header)
		h.ServeHTTP(w, r)
	}
	if w.status != http.StatusNotModified {
		b.Fatalf("status %d", w.status)
	}
}

// discardWriter is a ResponseWriter that keeps only the status and headers,
// so the benchmarks measure the handler and not a recorder.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
