package engineio

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/echo-socketio/echo-socketio/engineio/parser"
)

// The HTTP long-polling transport: a GET waits for packets, a POST brings packets from the
// client. At most one of each may be in flight per session.

func (c *Conn) handlePolling(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		c.handlePoll(w, r)
	case http.MethodPost:
		c.handlePost(w, r)
	default:
		writeError(w, errMethodNotAllowed)
	}
}

var (
	noopPayload  = []byte{'0' + byte(parser.Noop)}
	closePayload = []byte{'0' + byte(parser.Close)}
	// The same payloads in the framing of protocol v3.
	noopPayloadV3  = []byte("1:6")
	closePayloadV3 = []byte("1:1")
)

const (
	textContentType   = "text/plain; charset=UTF-8"
	binaryContentType = "application/octet-stream"
)

func (c *Conn) handlePoll(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.transport != TransportPolling {
		c.mu.Unlock()
		writeError(w, ErrBadRequest)
		return
	}
	if c.polling.active {
		c.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest) // an empty answer, as the official server's
		c.closeNow(ReasonTransportError)     // overlapping polls
		return
	}
	c.polling.active = true
	done := c.doneLocked()
	var batch []outPacket
	var body []byte
	finish := CloseReason("")
	for {
		if c.state == stateClosed {
			// A close the client asked for releases the pending poll with a noop; a close
			// from the server side tells the client with a close packet.
			body = closePayload
			if c.clientClosed {
				body = noopPayload
			}
			break
		}
		if c.transport != TransportPolling || c.polling.probed {
			body = noopPayload // released for an upgrade
			break
		}
		if len(c.queue) > 0 {
			batch = c.takeQueueLocked()
			c.wroteLocked(len(batch)) // the body is made of them; later packets wait
			break
		}
		if c.state == stateClosing {
			// The close packet travels alone, after the client has handled the packets
			// before it (clients act on a close packet before the messages of its payload).
			body, finish = closePayload, c.reason
			break
		}
		c.mu.Unlock()
		select {
		case <-c.polling.wake:
		case <-done:
		case <-r.Context().Done():
			c.mu.Lock()
			c.polling.active = false
			c.mu.Unlock()
			c.closeNow(ReasonTransportError) // poll connection closed prematurely
			return
		}
		c.mu.Lock()
	}
	c.polling.active = false
	c.mu.Unlock()

	contentType := textContentType
	switch {
	case batch != nil && c.protocol == 3:
		body, contentType = c.payloadV3(batch)
		c.recycle(batch)
	case batch != nil:
		body = make([]byte, 0, payloadLen(batch))
		for i, p := range batch {
			if i > 0 {
				body = append(body, parser.Separator)
			}
			body = parser.AppendPacket(body, p.pkt)
		}
		c.observeSent(batch)
		c.recycle(batch)
	case c.protocol == 3 && bytes.Equal(body, noopPayload):
		body = noopPayloadV3
	case c.protocol == 3:
		body = closePayloadV3
	}
	c.srv.writePollResponse(w, r, body, contentType)
	if finish != "" {
		c.closeNow(finish)
	}
}

// payloadV3 encodes a batch in the framing of protocol v3: the binary framing when the batch
// holds binary packets and the client supports binary (its handshake had no b64 parameter),
// the text framing otherwise.
func (c *Conn) payloadV3(batch []outPacket) ([]byte, string) {
	packets := make([]parser.Packet, len(batch))
	binary := false
	for i, p := range batch {
		packets[i] = p.pkt
		binary = binary || p.pkt.Binary
	}
	body := make([]byte, 0, payloadLen(batch)+8*len(batch))
	if binary && !c.base64 {
		return parser.AppendBinaryPayloadV3(body, packets), binaryContentType
	}
	return parser.AppendPayloadV3(body, packets), textContentType
}

func payloadLen(batch []outPacket) int {
	n := 0
	for _, p := range batch {
		n += 2 + len(p.pkt.Data)*4/3 + 4
	}
	return n
}

func (s *Server) writePollResponse(w http.ResponseWriter, r *http.Request, body []byte, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	if !s.opts.DisableHTTPCompression && len(body) >= s.opts.HTTPCompressionThreshold {
		if enc := acceptedEncoding(r.Header.Get("Accept-Encoding")); enc != "" {
			if compressed, err := s.compress(enc, body); err == nil {
				h.Set("Content-Encoding", enc)
				h.Add("Vary", "Accept-Encoding")
				body = compressed
			}
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (c *Conn) handlePost(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.transport != TransportPolling {
		c.mu.Unlock()
		writeError(w, ErrBadRequest)
		return
	}
	binaryBody := r.Header.Get("Content-Type") == binaryContentType
	if c.polling.postActive || (binaryBody && c.protocol != 3) {
		c.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest) // an empty answer, as the official server's
		c.closeNow(ReasonTransportError)     // overlapping posts, or binary content on EIO=4
		return
	}
	c.polling.postActive = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.polling.postActive = false
		c.mu.Unlock()
	}()
	// The POST holds the delivery until its packets are delivered: an upgrade that completes
	// meanwhile waits for it, and a websocket never delivers at the same time.
	c.deliverMu.Lock()
	defer c.deliverMu.Unlock()
	c.mu.Lock()
	upgraded := c.transport != TransportPolling
	c.mu.Unlock()
	if upgraded {
		writeError(w, ErrBadRequest)
		return
	}

	limit := c.srv.opts.MaxHTTPBufferSize
	if r.ContentLength > limit {
		w.WriteHeader(http.StatusRequestEntityTooLarge) // an empty answer, as the official server's
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		writeError(w, ErrBadRequest)
		return
	}
	if int64(len(body)) > limit {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	if !binaryBody && !utf8.Valid(body) {
		body = toValidUTF8(body) // decoded as Node decodes a body into a string
	}
	var packets []parser.Packet
	switch {
	case c.protocol == 3 && binaryBody:
		packets, err = parser.DecodeBinaryPayloadV3(body, c.srv.opts.MaxPayloadPackets)
	case c.protocol == 3:
		packets, err = parser.DecodePayloadV3(body, c.srv.opts.MaxPayloadPackets)
	default:
		packets, err = parser.DecodePayload(body, c.srv.opts.MaxPayloadPackets)
	}
	if errors.Is(err, parser.ErrTooManyPackets) {
		writeError(w, ErrBadRequest)
		c.closeNow(ReasonTransportError)
		return
	}
	if err != nil {
		// As the official server: the request is answered "ok" and the session closes with
		// "parse error"; the next poll learns it is gone.
		c.closeNow(ReasonParseError)
		writePostOK(w)
		return
	}
	done := c.Done()
	for _, p := range packets {
		select {
		case <-done:
		default:
			c.onPacket(p)
			continue
		}
		break
	}
	writePostOK(w)
}

// writePostOK answers a POST whose packets were taken.
func writePostOK(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html") // not text/plain, which some browsers offer to download
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}

// toValidUTF8 replaces every byte that does not start a valid UTF-8 sequence with U+FFFD.
func toValidUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/2)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}
