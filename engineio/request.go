package engineio

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
)

// A session keeps what it needs of the handshake request in one handshakeRecord instead of
// the request itself: a request holds its header map (a map, a slice and a string per header),
// its URL and a dozen other fields, about 1.5 KiB per session, most of which nobody reads
// again. The record packs the strings — method, target, protocol, host, remote address, route
// pattern and every header — into one string, and keeps the request's context (for the values
// middlewares put there) and its TLS state. Conn.Request builds an equivalent request from it.

// handshakeRecord is what a session keeps of its handshake request.
type handshakeRecord struct {
	ctx context.Context // the request's context, without its cancellation
	tls *tls.ConnectionState
	// data holds, each as a length (uvarint) and bytes: the method, the request URI, the URL
	// when it is not the one the request URI gives (or nothing), the protocol, the host, the
	// remote address, the route pattern; then, for every header key (canonical as the request
	// had it, in sorted order), the key, the number of its values and the values.
	data string
}

// The packed fields, in order.
const (
	hsMethod = iota
	hsRequestURI
	hsURL
	hsProto
	hsHost
	hsRemoteAddr
	hsPattern
	hsFields // the headers start after these
)

func newHandshakeRecord(r *http.Request) handshakeRecord {
	uri := r.RequestURI
	ustr := ""
	if s := r.URL.String(); s != uri {
		// A request made in a program, or a URL a middleware rewrote: keep the URL too.
		ustr = s
		if ustr == "" {
			ustr = "/"
		}
	}
	var keyBuf [24]string // most requests have fewer headers: no allocation for the keys
	keys := keyBuf[:0]
	n := len(r.Method) + len(uri) + len(ustr) + len(r.Proto) + len(r.Host) + len(r.RemoteAddr) + len(r.Pattern) + 2*hsFields
	for k, vs := range r.Header {
		keys = append(keys, k)
		n += len(k) + 4
		for _, v := range vs {
			n += len(v) + 2
		}
	}
	slices.Sort(keys)
	var b strings.Builder // its String is the bytes written, not a copy
	b.Grow(n)
	for _, s := range [hsFields]string{r.Method, uri, ustr, r.Proto, r.Host, r.RemoteAddr, r.Pattern} {
		writePacked(&b, s)
	}
	for _, k := range keys {
		vs := r.Header[k]
		writePacked(&b, k)
		writeUvarint(&b, uint64(len(vs)))
		for _, v := range vs {
			writePacked(&b, v)
		}
	}
	return handshakeRecord{ctx: detachContext(r.Context()), tls: r.TLS, data: b.String()}
}

func writeUvarint(b *strings.Builder, n uint64) {
	for n >= 0x80 {
		b.WriteByte(byte(n) | 0x80)
		n >>= 7
	}
	b.WriteByte(byte(n))
}

func writePacked(b *strings.Builder, s string) {
	writeUvarint(b, uint64(len(s)))
	b.WriteString(s)
}

// packedReader reads the fields of handshakeRecord.data in order. The data is written by
// newHandshakeRecord only, so it is well formed.
type packedReader struct{ s string }

func (p *packedReader) more() bool { return p.s != "" }

func (p *packedReader) uvarint() int {
	var n uint64
	for shift := 0; ; shift += 7 {
		c := p.s[0]
		p.s = p.s[1:]
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int(n)
		}
	}
}

func (p *packedReader) str() string {
	n := p.uvarint()
	s := p.s[:n]
	p.s = p.s[n:]
	return s
}

// field returns the packed field i (one of hsMethod...hsPattern).
func (h *handshakeRecord) field(i int) string {
	p := packedReader{h.data}
	for range i {
		p.str()
	}
	return p.str()
}

// headers returns a reader positioned at the first header key.
func (h *handshakeRecord) headers() packedReader {
	p := packedReader{h.data}
	for range hsFields {
		p.str()
	}
	return p
}

// values returns the values of the header key (canonical, or as the request had it), which
// share the record's memory, or nil.
func (h *handshakeRecord) values(key string) []string {
	p := h.headers()
	for p.more() {
		k := p.str()
		n := p.uvarint()
		if k == key {
			vs := make([]string, n)
			for i := range vs {
				vs[i] = p.str()
			}
			return vs
		}
		for range n {
			p.str()
		}
	}
	return nil
}

// header returns the first value of the header key, or "".
func (h *handshakeRecord) header(key string) string {
	p := h.headers()
	for p.more() {
		k := p.str()
		n := p.uvarint()
		if k == key && n > 0 {
			return p.str()
		}
		for range n {
			p.str()
		}
	}
	return ""
}

// headerMap builds the request's header map; its strings share the record's memory.
func (h *handshakeRecord) headerMap() http.Header {
	p := h.headers()
	var keys, vals int
	for q := p; q.more(); keys++ {
		q.str()
		n := q.uvarint()
		vals += n
		for range n {
			q.str()
		}
	}
	hdr := make(http.Header, keys)
	all := make([]string, vals) // one backing array for every key's values
	for p.more() {
		k := p.str()
		n := p.uvarint()
		vs := all[:n:n]
		all = all[n:]
		for i := range vs {
			vs[i] = p.str()
		}
		hdr[k] = vs
	}
	return hdr
}

// url returns the request's URL, parsed anew.
func (h *handshakeRecord) url() *url.URL {
	if s := h.field(hsURL); s != "" {
		if u, err := url.Parse(s); err == nil {
			return u
		}
	}
	uri := h.field(hsRequestURI)
	if u, err := url.ParseRequestURI(uri); err == nil {
		return u
	}
	if u, err := url.Parse(uri); err == nil {
		return u
	}
	return &url.URL{Path: "/"}
}

// request builds a request equivalent to the handshake request: its body is empty and its
// context is never canceled.
func (h *handshakeRecord) request() *http.Request {
	proto := h.field(hsProto)
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		major, minor = 1, 1
	}
	r := &http.Request{
		Method:     h.field(hsMethod),
		URL:        h.url(),
		Proto:      proto,
		ProtoMajor: major,
		ProtoMinor: minor,
		Header:     h.headerMap(),
		Body:       http.NoBody,
		Host:       h.field(hsHost),
		RemoteAddr: h.field(hsRemoteAddr),
		RequestURI: h.field(hsRequestURI),
		TLS:        h.tls,
		Pattern:    h.field(hsPattern),
	}
	return r.WithContext(h.ctx)
}

// Request returns a request equivalent to the one that opened the session (the handshake):
// its method, URL, protocol, headers, host, remote address, TLS state and context, with the
// values the middlewares put there. The session does not keep the request itself: each call
// builds a new one (the accessors Header, Headers, Query, RemoteAddr, RequestURI, TLS and
// Context read the same record without building it). Its body is empty and its context is
// never canceled. The path values of a http.ServeMux route are not kept.
func (c *Conn) Request() *http.Request { return c.hs.request() }

// Header returns the first value of the handshake request's header with the given name (in
// any case, as http.Header.Get takes it), or "" when the request had none.
func (c *Conn) Header(name string) string {
	if v := c.hs.header(textproto.CanonicalMIMEHeaderKey(name)); v != "" {
		return v
	}
	return c.hs.header(name) // a key that was not canonical in the request
}

// Headers returns the handshake request's headers, in a map built on each call, which the
// caller may modify.
func (c *Conn) Headers() http.Header { return c.hs.headerMap() }

// HeaderValues returns the values of the handshake request's header with the given name (in
// any case), in a slice built on each call, or nil.
func (c *Conn) HeaderValues(name string) []string {
	if vs := c.hs.values(textproto.CanonicalMIMEHeaderKey(name)); vs != nil {
		return vs
	}
	return c.hs.values(name)
}

// RemoteAddr returns the network address of the client that sent the handshake request, as
// http.Request.RemoteAddr has it ("IP:port").
func (c *Conn) RemoteAddr() string { return c.hs.field(hsRemoteAddr) }

// Query returns the handshake request's query parameters, parsed on each call.
func (c *Conn) Query() url.Values {
	uri := c.hs.field(hsURL)
	if uri == "" {
		uri = c.hs.field(hsRequestURI)
	}
	_, raw, _ := strings.Cut(uri, "?")
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	q, _ := url.ParseQuery(raw)
	return q
}

// RequestURI returns the path and query of the handshake request's URL, as
// url.URL.RequestURI gives them.
func (c *Conn) RequestURI() string {
	if c.hs.field(hsURL) == "" {
		if uri := c.hs.field(hsRequestURI); strings.HasPrefix(uri, "/") {
			return uri
		}
	}
	return c.hs.url().RequestURI()
}

// TLS returns the TLS state of the handshake request's connection, or nil when it was not
// made over TLS.
func (c *Conn) TLS() *tls.ConnectionState { return c.hs.tls }

// Context returns the handshake request's context, with the values the middlewares put
// there; it is never canceled.
func (c *Conn) Context() context.Context { return c.hs.ctx }
