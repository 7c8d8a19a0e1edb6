package clientbundle

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// dist holds the vendored socket.io-client files. It is read-only.
//
//go:embed dist/*.js dist/*.map dist/LICENSE dist/VERSION
var dist embed.FS

// names lists the files a Handler serves, in the order Names reports them.
var names = [...]string{
	"socket.io.js",
	"socket.io.js.map",
	"socket.io.min.js",
	"socket.io.min.js.map",
	"socket.io.esm.min.js",
	"socket.io.esm.min.js.map",
	"socket.io.msgpack.min.js",
	"socket.io.msgpack.min.js.map",
}

// DefaultMaxAge is the Cache-Control max-age sent when Options.MaxAge is
// zero. The file names carry no version, so a browser keeps using its copy
// for at most this long after the server is upgraded; after that it
// revalidates with If-None-Match, which costs a 304 without a body. All 4.x
// clients speak the same protocol, so a briefly stale copy still works.
const DefaultMaxAge = time.Hour

// Options configures a Handler. The zero value is ready to use.
type Options struct {
	// MaxAge is how long browsers and shared caches may use a response
	// without revalidating it, sent as "Cache-Control: public, max-age=N"
	// in whole seconds. Zero means DefaultMaxAge. A negative value sends
	// max-age=0, like the Node.js server, so that every use of the file is
	// revalidated with its ETag.
	MaxAge time.Duration
}

// Handler serves the embedded Socket.IO client files. It is safe for
// concurrent use. Create it with New or NewWithOptions.
type Handler struct {
	version      string
	cacheControl []string
	files        map[string]*file
}

// New returns a Handler with the default Options.
func New() (*Handler, error) {
	return NewWithOptions(Options{})
}

// NewWithOptions returns a Handler configured by opts. It fails only if the
// embedded files are missing or the VERSION file is empty, which means the
// package was built from a broken checkout.
func NewWithOptions(opts Options) (*Handler, error) {
	raw, err := dist.ReadFile("dist/VERSION")
	if err != nil {
		return nil, fmt.Errorf("clientbundle: reading VERSION: %w", err)
	}
	version := strings.TrimSpace(string(raw))
	if version == "" {
		return nil, errors.New("clientbundle: VERSION is empty")
	}

	maxAge := opts.MaxAge
	switch {
	case maxAge == 0:
		maxAge = DefaultMaxAge
	case maxAge < 0:
		maxAge = 0
	}

	h := &Handler{
		version:      version,
		cacheControl: header("public, max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)),
		files:        make(map[string]*file, len(names)),
	}
	for _, name := range names {
		body, err := dist.ReadFile("dist/" + name)
		if err != nil {
			return nil, fmt.Errorf("clientbundle: reading %s: %w", name, err)
		}
		h.files[name] = newFile(version, name, body)
	}
	return h, nil
}

// Version returns the version of the embedded socket.io-client package, for
// example "4.8.4".
func (h *Handler) Version() string {
	return h.version
}

// Names returns the names of the files the handler serves, such as
// "socket.io.js" and "socket.io.min.js.map". The caller owns the slice.
func (h *Handler) Names() []string {
	return append([]string(nil), names[:]...)
}

// Match reports whether name, a path relative to the Socket.IO endpoint
// without a leading slash, is one of the files the handler serves.
func (h *Handler) Match(name string) bool {
	_, ok := h.files[name]
	return ok
}

// ServeFile answers r with the file called name, a path relative to the
// Socket.IO endpoint without a leading slash. It reports false, and writes
// nothing, if name is not one of the handler's files; the caller then
// handles the request itself. Methods other than GET and HEAD get 405 Method
// Not Allowed with an Allow header.
func (h *Handler) ServeFile(w http.ResponseWriter, r *http.Request, name string) bool {
	f, ok := h.files[name]
	if !ok {
		return false
	}
	h.serve(w, r, f)
	return true
}

// ServeHTTP serves the file named by r.URL.Path, with or without a leading
// slash, and answers 404 Not Found for any other path. Use it behind
// http.StripPrefix, or call ServeFile when the file name is already known.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.ServeFile(w, r, strings.TrimPrefix(r.URL.Path, "/")) {
		http.NotFound(w, r)
	}
}

// Shared header values. Assigning them to a response's header map avoids an
// allocation per header; each slice has its length as its capacity, so a
// later Header.Add copies instead of writing into the shared array.
var (
	allowValue    = header("GET, HEAD")
	varyValue     = header("Accept-Encoding")
	nosniffValue  = header("nosniff")
	jsTypeValue   = header("application/javascript; charset=utf-8")
	jsonTypeValue = header("application/json")
)

func header(v string) []string {
	return []string{v}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, f *file) {
	hdr := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr["Allow"] = allowValue
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}

	c := negotiate(r.Header["Accept-Encoding"])
	addVary(hdr)
	hdr["Cache-Control"] = h.cacheControl
	hdr["Etag"] = f.etags[c]
	if noneMatch(r.Header["If-None-Match"], f.etags[c][0]) {
		w.WriteHeader(http.StatusNotModified)
		return
	}

	v := f.variant(c)
	hdr["Content-Type"] = f.contentType
	hdr["X-Content-Type-Options"] = nosniffValue
	if v.encoding != nil {
		hdr["Content-Encoding"] = v.encoding
	} else {
		delete(hdr, "Content-Encoding")
	}
	// A compressed variant that could not be produced falls back to the
	// identity bytes, which carry their own ETag.
	hdr["Etag"] = v.etag
	hdr["Content-Length"] = v.length
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(v.body)
	}
}

// addVary adds Accept-Encoding to the Vary header unless it, or "*", is
// already listed, keeping values that other handlers set.
func addVary(hdr http.Header) {
	old := hdr["Vary"]
	if len(old) == 0 {
		hdr["Vary"] = varyValue
		return
	}
	for _, line := range old {
		for line != "" {
			var tok string
			tok, line, _ = strings.Cut(line, ",")
			tok = strings.TrimSpace(tok)
			if tok == "*" || strings.EqualFold(tok, "Accept-Encoding") {
				return
			}
		}
	}
	hdr["Vary"] = append(old, "Accept-Encoding")
}

// etagFor returns the strong entity tag of a file: the client version and a
// hash of the version, the name and the identity bytes, with suffix naming
// the content coding of the variant.
func etagFor(version, name string, body []byte, suffix string) string {
	sum := sha256.New()
	sum.Write([]byte(version))
	sum.Write([]byte{0})
	sum.Write([]byte(name))
	sum.Write([]byte{0})
	sum.Write(body)
	return `"` + version + "-" + hex.EncodeToString(sum.Sum(nil)[:12]) + suffix + `"`
}
