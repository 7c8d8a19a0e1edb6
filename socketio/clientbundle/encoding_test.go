package clientbundle_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestNegotiate(t *testing.T) {
	h := shared()
	tests := []struct {
		name   string
		accept []string // one element per Accept-Encoding line
		want   string   // Content-Encoding
	}{
		{"ok, no header", nil, ""},
		{"ok, empty header", []string{""}, ""},
		{"ok, gzip only", []string{"gzip"}, "gzip"},
		{"ok, br only", []string{"br"}, "br"},
		{"ok, browser default prefers br", []string{"gzip, deflate, br, zstd"}, "br"},
		{"ok, br and gzip equal prefers br", []string{"gzip;q=0.8, br;q=0.8"}, "br"},
		{"ok, higher gzip wins", []string{"br;q=0.5, gzip;q=0.9"}, "gzip"},
		{"ok, br q=0 falls back to gzip", []string{"br;q=0, gzip"}, "gzip"},
		{"ok, all refused falls back to identity", []string{"br;q=0, gzip;q=0"}, ""},
		{"ok, wildcard", []string{"*"}, "br"},
		{"ok, wildcard with br refused", []string{"*, br;q=0"}, "gzip"},
		{"ok, wildcard refused", []string{"*;q=0"}, ""},
		{"ok, wildcard refused but gzip listed", []string{"*;q=0, gzip;q=0.1"}, "gzip"},
		{"ok, identity preferred", []string{"identity, gzip;q=0.5"}, ""},
		{"ok, identity equal prefers compression", []string{"identity;q=0.5, gzip;q=0.5"}, "gzip"},
		{"ok, identity refused", []string{"identity;q=0, gzip"}, "gzip"},
		{"ok, case insensitive", []string{"GZIP; Q=1.000"}, "gzip"},
		{"ok, x-gzip alias", []string{"x-gzip"}, "gzip"},
		{"ok, whitespace and empty elements", []string{" , br ;q=0.3 ,, "}, "br"},
		{"ok, three-digit q-values", []string{"gzip;q=0.001, br;q=0.000"}, "gzip"},
		{"ok, other parameters ignored", []string{"br;level=5;q=0.7, gzip;q=0.6"}, "br"},
		{"ok, several header lines", []string{"gzip;q=0.5", "br"}, "br"},
		{"ok, first entry of a coding counts", []string{"br;q=0, br, gzip"}, "gzip"},
		{"ok, unsupported codings only", []string{"deflate, zstd"}, ""},
		{"nok, q above one ignores the entry", []string{"br;q=1.5, gzip"}, "gzip"},
		{"nok, q with too many digits ignores the entry", []string{"br;q=0.1234, gzip;q=0.1"}, "gzip"},
		{"nok, q not a number ignores the entry", []string{"br;q=high, gzip;q=0.1"}, "gzip"},
		{"nok, empty q ignores the entry", []string{"br;q=, gzip;q=0.1"}, "gzip"},
		{"nok, negative q ignores the entry", []string{"gzip;q=-1"}, ""},
		{"nok, 1.001 ignores the entry", []string{"gzip;q=1.001"}, ""},
	}
	want := readDist(t, "socket.io.min.js")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var kv []string
			for _, a := range tt.accept {
				kv = append(kv, "Accept-Encoding", a)
			}
			w := do(t, h, http.MethodGet, "socket.io.min.js", kv...)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			if got := w.Header().Get("Content-Encoding"); got != tt.want {
				t.Errorf("Content-Encoding %q, want %q", got, tt.want)
			}
			if got := w.Header().Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary %q", got)
			}
			if got := decode(t, w.Header().Get("Content-Encoding"), w.Body.Bytes()); !bytes.Equal(got, want) {
				t.Error("decoded body differs from the identity file")
			}
		})
	}
}

func TestCompressedVariants(t *testing.T) {
	h := shared()
	// Every file goes through the same code, so under -short or -race,
	// where brotli's best level is slow, the large source maps are checked
	// with gzip only.
	quick := testing.Short() || raceEnabled
	for _, name := range h.Names() {
		encodings := []string{"", "gzip", "br"}
		if quick && strings.HasSuffix(name, ".map") {
			encodings = encodings[:2]
		}
		t.Run("ok, "+name, func(t *testing.T) {
			t.Parallel()
			want := readDist(t, name)
			etags := map[string]string{}
			for _, enc := range encodings {
				w := do(t, h, http.MethodGet, name, "Accept-Encoding", enc)
				if w.Code != http.StatusOK {
					t.Fatalf("%q: status %d", enc, w.Code)
				}
				hdr := w.Header()
				if got := hdr.Get("Content-Encoding"); got != enc {
					t.Fatalf("%q: Content-Encoding %q", enc, got)
				}
				if got := hdr.Get("Vary"); got != "Accept-Encoding" {
					t.Errorf("%q: Vary %q", enc, got)
				}
				if got := hdr.Get("Content-Length"); got != strconv.Itoa(w.Body.Len()) {
					t.Errorf("%q: Content-Length %q for %d bytes", enc, got, w.Body.Len())
				}
				if enc != "" && w.Body.Len() >= len(want) {
					t.Errorf("%q: %d bytes, not smaller than %d", enc, w.Body.Len(), len(want))
				}
				if got := decode(t, enc, w.Body.Bytes()); !bytes.Equal(got, want) {
					t.Errorf("%q: decoded body differs from dist/%s", enc, name)
				}
				etag := hdr.Get("ETag")
				if !etagPattern.MatchString(etag) {
					t.Errorf("%q: ETag %q is not strong", enc, etag)
				}
				if other, dup := etags[etag]; dup {
					t.Errorf("%q: ETag %q also used for %q", enc, etag, other)
				}
				etags[etag] = enc
			}
		})
	}
}

// TestCompressOnceConcurrently asks a fresh handler for the same compressed
// variant from many goroutines at once; under -race it checks that the lazy
// compression is safe and that everyone gets the same bytes.
func TestCompressOnceConcurrently(t *testing.T) {
	h := newHandler(t)
	const n = 8
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := do(t, h, http.MethodGet, "socket.io.esm.min.js", "Accept-Encoding", "gzip")
			bodies[i] = w.Body.Bytes()
		})
	}
	wg.Wait()
	want := readDist(t, "socket.io.esm.min.js")
	for i, b := range bodies {
		if !bytes.Equal(decode(t, "gzip", b), want) {
			t.Fatalf("response %d differs", i)
		}
		if !bytes.Equal(b, bodies[0]) {
			t.Fatalf("response %d has other compressed bytes than response 0", i)
		}
	}
}
