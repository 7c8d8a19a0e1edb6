package engineio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio/parser"
)

// The websocket transport. After the handshake the HTTP handler returns: the connection is
// hijacked and, on Linux, watched by the server's poller, which starts a goroutine to read it
// only when it has data (elsewhere, or when the connection has no file descriptor, one
// goroutine reads it). Packets are written by the goroutine that queued them while the
// socket takes them without blocking; a writer goroutine runs only when it does not.

// attachWebsocket makes ws the session's transport and starts reading it.
func (c *Conn) attachWebsocket(ws *websocket.Conn) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		_ = ws.Close()
		return
	}
	c.ws = ws
	c.wc = directConn(ws)
	switch {
	case c.wc != nil && !c.writing && (len(c.queue) > 0 || c.state == stateClosing):
		// The open packet, what the connection hook queued and, when the hook closed the
		// session, the close: written from this goroutine without blocking, as a send is
		// (see sendNowLocked); a writer goroutine starts only for what the socket does not
		// take at once.
		c.writing = true
		c.writePackets(ws, c.wc, true, nil) // unlocks c.mu
	case c.state == stateClosing:
		// Closed by the connection hook: send the open packet and what the hook queued.
		c.writing = true
		c.mu.Unlock()
		go c.writeLoop(ws)
	default:
		c.kickLocked()
		c.mu.Unlock()
	}
	if wc, _ := ws.NetConn().(*wsNetConn); wc != nil && wc.poll != nil && wc.plain {
		c.readFirst(ws, wc)
		return
	}
	c.startReading(ws, true)
}

// readFirst reads the first messages of a session that starts on a websocket on the goroutine
// that made the handshake, as readReady reads those of a connection the poller found readable:
// the client answers the open packet at once (a Socket.IO client sends its CONNECT), so that
// message is read here, and the connection is watched by the poller once the messages that
// came with it are read, or when the linger ends with none. It does not linger after them:
// the handshake's goroutine, whose stack net/http grew, is not kept for a client that may stay
// quiet from then on. A session that closes meanwhile is never watched. The connection is a
// plain one with a file descriptor and a poller (see attachWebsocket).
//
// The HTTP handler of the handshake returns when readFirst does: one round trip after the
// open packet (and the handling of the messages read) for a client that answers it, after the
// linger for one that does not.
func (c *Conn) readFirst(ws *websocket.Conn, wc *wsNetConn) {
	ws.SetReadLimit(c.srv.opts.MaxHTTPBufferSize)
	wc.readMu.Lock()
	for read := false; ; {
		for wc.br.Buffered() > 0 {
			if !c.readOne(ws) {
				wc.readMu.Unlock()
				return
			}
			read = true
		}
		if read {
			break
		}
		switch c.readDirect(ws, wc, c.srv.linger, true) {
		case readClosed:
			wc.readMu.Unlock()
			return
		case readUsual:
			if !c.readOne(ws) {
				wc.readMu.Unlock()
				return
			}
			read = true
			continue
		}
		break
	}
	if wc.linger != 0 {
		_ = wc.clearLinger() // left by a message read the usual way
	}
	err := wc.poll.register(wc, func() { c.readReady(ws, wc) })
	wc.readMu.Unlock()
	if err != nil {
		c.srv.logger.Debug("engineio: websocket read by a goroutine", "sid", c.id, "err", err)
		go c.readLoop(ws)
	}
}

// startReading reads ws from now on: through the poller when the connection has a file
// descriptor, or with a goroutine of its own. With spawn false the fallback reads on the
// calling goroutine.
func (c *Conn) startReading(ws *websocket.Conn, spawn bool) {
	ws.SetReadLimit(c.srv.opts.MaxHTTPBufferSize)
	wc, _ := ws.NetConn().(*wsNetConn)
	if wc != nil && wc.poll != nil {
		wc.readMu.Lock()
		// Messages already in the read buffer (after an upgrade) raise no readiness event.
		for wc.br.Buffered() > 0 {
			if !c.readOne(ws) {
				wc.readMu.Unlock()
				return
			}
		}
		err := wc.poll.register(wc, func() { c.readReady(ws, wc) })
		wc.readMu.Unlock()
		if err == nil {
			return
		}
		c.srv.logger.Debug("engineio: websocket read by a goroutine", "sid", c.id, "err", err)
	}
	if spawn {
		go c.readLoop(ws)
		return
	}
	c.readLoop(ws)
}

// readLinger is how long (at least; at most twice that) the reader of a watched connection
// waits for the next message once it has read what was available, before it leaves and the
// connection has no goroutine. A client that sends often (a closed loop of requests and acks)
// is then read as by a goroutine of its own, without a goroutine start per message, while an
// idle connection owns no goroutine once the linger is over.
const readLinger = 20 * time.Millisecond

// readReady is the reader of a watched connection, started by the poller when data arrived
// and none read it (the state is readerRunning, see readerstate.go): it reads the messages
// available, waits readLinger for more, and leaves when none came. The poller's event may
// find nothing to read (its data was read by the reader before), so it begins with a wait.
// A frame that arrived in part blocks it until the rest arrives, or the heartbeat closes the
// session.
func (c *Conn) readReady(ws *websocket.Conn, wc *wsNetConn) {
	wc.readMu.Lock()
	defer wc.readMu.Unlock()
	for {
		if wc.br.Buffered() == 0 {
			if wc.plain {
				switch c.readDirect(ws, wc, c.srv.linger, false) {
				case readClosed, readIdle:
					return
				}
				// readUsual: the next message is read the usual way.
			} else if !wc.awaitData(c.srv.linger, c.srv.epoch) {
				if !wc.leaveReader() {
					return
				}
				continue
			}
		}
		if !c.readOne(ws) {
			return
		}
	}
}

// readOne reads and delivers one message; it closes the session and returns false when the
// connection failed.
func (c *Conn) readOne(ws *websocket.Conn) bool {
	p, reason, err := c.readMessage(ws)
	if err != nil {
		c.closeNow(reason)
		return false
	}
	c.deliverMu.Lock()
	c.onPacket(p)
	c.deliverMu.Unlock()
	return true
}

var errInvalidUTF8 = errors.New("engineio: text frame is not valid UTF-8")

// readMessage reads one websocket message, capped at MaxHTTPBufferSize after decompression.
func (c *Conn) readMessage(ws *websocket.Conn) (parser.Packet, CloseReason, error) {
	limit := c.srv.opts.MaxHTTPBufferSize
	var mt int
	var data []byte
	var err error
	if wc, ok := ws.NetConn().(*wsNetConn); ok && wc.plain {
		mt, data, err = wc.readPlainMessage(ws, limit)
	} else {
		var r io.Reader
		if mt, r, err = ws.NextReader(); err == nil {
			data, err = readLimited(r, limit)
		}
	}
	if err != nil {
		if errors.Is(err, websocket.ErrReadLimit) {
			return parser.Packet{}, ReasonTransportError, err
		}
		return parser.Packet{}, ReasonTransportClose, err
	}
	if int64(len(data)) > limit {
		writeClose(ws, websocket.FormatCloseMessage(websocket.CloseMessageTooBig, ""))
		return parser.Packet{}, ReasonTransportError, websocket.ErrReadLimit
	}
	if c.protocol == 3 {
		var p parser.Packet
		if mt == websocket.BinaryMessage {
			p, err = parser.DecodeBinaryFrameV3(data)
		} else {
			p, err = parser.DecodePacketV3(data)
		}
		if err != nil {
			return parser.Packet{}, ReasonParseError, err
		}
		return p, "", nil
	}
	if mt == websocket.BinaryMessage {
		return parser.DecodeBinaryFrame(data), "", nil
	}
	if !utf8.Valid(data) {
		// RFC 6455 fails a connection whose text frame is not UTF-8, as Node's ws does.
		writeClose(ws, websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ""))
		return parser.Packet{}, ReasonTransportError, errInvalidUTF8
	}
	p, err := parser.DecodePacket(data)
	if err != nil {
		return parser.Packet{}, ReasonParseError, err
	}
	return p, "", nil
}

// readBufSize is the size of the pooled buffers messages are read into before they are copied
// to a slice of their own size.
const readBufSize = 4096

// readBufPool holds the buffers messages are read into. A message is read into one, then
// copied into a slice of its exact size, which the message handler owns: a buffer sized for
// the largest message is never kept by the handler.
var readBufPool = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// readLimited reads r to the end and returns what it read in a new slice of its size. It
// reads at most limit+1 bytes, so that a message over limit is told by its length.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	bp := readBufPool.Get().(*[]byte)
	buf := *bp
	if int64(len(buf)) > limit+1 {
		buf = buf[:limit+1]
	}
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			data := bytes.Clone(buf[:n])
			readBufPool.Put(bp)
			return data, nil
		}
		if err != nil {
			readBufPool.Put(bp)
			return nil, err
		}
	}
	// A message larger than the pooled buffer: go on in a slice that grows.
	data := make([]byte, n, min(int64(2*n), limit+1))
	copy(data, buf[:n])
	readBufPool.Put(bp)
	for int64(len(data)) <= limit {
		if len(data) == cap(data) {
			data = slices.Grow(data, int(min(int64(cap(data)), limit+1-int64(len(data)))))
		}
		m, err := r.Read(data[len(data):min(int64(cap(data)), limit+1)])
		data = data[:len(data)+m]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return data, nil
}

// writeClose sends a close frame with data and stops the frames that the session's writer
// puts on the connection itself: none may follow the close frame.
func writeClose(ws *websocket.Conn, data []byte) {
	if wc, ok := ws.NetConn().(*wsNetConn); ok {
		wc.stopFrames()
	}
	_ = ws.WriteControl(websocket.CloseMessage, data, time.Now().Add(time.Second))
}

// maxFrameHeader is the size of the longest header of a frame the server sends (not masked).
const maxFrameHeader = 10

var frameHeaderSpace [maxFrameHeader]byte

// appendFrame appends the websocket frame (final, not masked, no extension) that carries p to
// dst, for a session of the given protocol revision.
func appendFrame(dst []byte, p parser.Packet, protocol int) []byte {
	at := len(dst)
	dst = append(dst, frameHeaderSpace[:]...)
	var frame []byte
	var bin bool
	if protocol == 3 {
		frame, bin = parser.WebsocketFrameV3(dst, p)
	} else if frame, bin = parser.WebsocketFrame(dst, p); bin {
		frame = append(dst, frame...) // a v4 binary frame is the data itself
	}
	n := len(frame) - at - maxFrameHeader
	var h [maxFrameHeader]byte
	h[0] = 0x80 | websocket.TextMessage // FIN, opcode
	if bin {
		h[0] = 0x80 | websocket.BinaryMessage
	}
	hl := 2
	switch {
	case n < 126:
		h[1] = byte(n)
	case n <= 0xffff:
		h[1] = 126
		binary.BigEndian.PutUint16(h[2:4], uint16(n))
		hl = 4
	default:
		h[1] = 127
		binary.BigEndian.PutUint64(h[2:10], uint64(n))
		hl = 10
	}
	copy(frame[at:], h[:hl])
	copy(frame[at+hl:], frame[at+maxFrameHeader:])
	return frame[:len(frame)-(maxFrameHeader-hl)]
}

func (c *Conn) readLoop(ws *websocket.Conn) {
	for c.readOne(ws) {
	}
}

// directConn returns the connection of ws when the session can write it without blocking
// from the sender's goroutine (see wsNetConn.wfd), nil otherwise.
func directConn(ws *websocket.Conn) *wsNetConn {
	if wc, ok := ws.NetConn().(*wsNetConn); ok && wc.wfd >= 0 {
		return wc
	}
	return nil
}

// sendNowLocked writes p at once, from the goroutine that sends it, when the session writes
// its own frames without blocking (c.wc, plain), no writer runs and nothing is queued: the
// packet never goes through the queue. It reports whether it did, with c.mu released;
// otherwise c.mu is still held and nothing changed. The state and the queue's limit were
// checked by the caller. What the socket does not take at once is left to a writer goroutine
// (handOff), as by writeInline.
func (c *Conn) sendNowLocked(p outPacket) bool {
	wc := c.wc
	if wc == nil || c.writing || len(c.queue) > 0 || !wc.plain {
		return false
	}
	ws := c.ws
	c.writing = true
	c.taken++
	c.mu.Unlock()
	one := [1]outPacket{p}
	sent, err := wc.writeFrames(one[:], c.protocol, c.srv.opts.WriteTimeout, true)
	switch {
	case err != nil:
		go c.writeFailed()
	case !sent:
		go c.handOff(ws, wc, append(c.srv.queues.get(), p))
	default:
		c.observeSent(one[:])
		c.mu.Lock()
		c.wroteLocked(1)
		c.writePackets(ws, wc, true, nil)
	}
	return true
}

// writeInline sends batch, taken from the queue by kickInlineLocked, and then the queue, from
// the goroutine that queued packets, without blocking: what the socket does not take at once
// is left to a writer goroutine. c.writing was set by the caller.
func (c *Conn) writeInline(ws *websocket.Conn, wc *wsNetConn, batch []outPacket) {
	c.writePackets(ws, wc, true, batch)
}

// writeLoop sends the queue on ws until it is empty, then exits. A graceful close waiting for
// the queue to drain is finished here.
func (c *Conn) writeLoop(ws *websocket.Conn) {
	wc, _ := ws.NetConn().(*wsNetConn)
	c.mu.Lock()
	c.writePackets(ws, wc, false, nil)
}

// handOff finishes, on a goroutine of its own, a batch that the socket did not take without
// blocking, then goes on as the writer.
func (c *Conn) handOff(ws *websocket.Conn, wc *wsNetConn, batch []outPacket) {
	if err := wc.flush(); err != nil {
		c.writeFailed()
		return
	}
	c.observeSent(batch)
	clear(batch)
	c.mu.Lock()
	c.wroteLocked(len(batch))
	c.recycleLocked(batch)
	c.writePackets(ws, wc, false, nil)
}

func (c *Conn) writeFailed() {
	c.mu.Lock()
	c.writing = false
	c.mu.Unlock()
	c.closeNow(ReasonTransportError)
}

// writePackets writes batch, taken from the queue by the caller, and then the queue, until it
// is empty. With batch nil the caller holds c.mu (and releases it by calling); wc is ws's
// connection (nil if it is not a wsNetConn). A write that blocks is bounded by WriteTimeout
// from the moment it blocks.
func (c *Conn) writePackets(ws *websocket.Conn, wc *wsNetConn, inline bool, batch []outPacket) {
	var buf []byte
	for {
		if batch == nil {
			if len(c.queue) == 0 || c.ws != ws || c.state == stateClosed {
				c.writing = false
				if c.state != stateClosing {
					c.mu.Unlock()
					return
				}
				reason := c.reason // read only here: it is not on the cache lines of a send
				c.mu.Unlock()
				if inline { // the close hooks never run on the sender's goroutine
					go c.finishWebsocketClose(ws, reason)
				} else {
					c.finishWebsocketClose(ws, reason)
				}
				return
			}
			batch = c.takeQueueLocked()
			c.mu.Unlock()
		}

		var sent bool
		var err error
		if wc != nil && wc.plain {
			sent, err = wc.writeFrames(batch, c.protocol, c.srv.opts.WriteTimeout, inline)
		} else {
			deadline := time.Now().Add(c.srv.opts.WriteTimeout)
			sent, err = c.writeMessages(ws, wc, batch, deadline, inline, &buf)
		}
		if err == nil && !sent {
			go c.handOff(ws, wc, batch)
			return
		}
		if err != nil {
			if inline {
				go c.writeFailed()
			} else {
				c.writeFailed()
			}
			return
		}
		c.observeSent(batch)
		clear(batch)
		c.mu.Lock()
		c.wroteLocked(len(batch))
		c.recycleLocked(batch)
		batch = nil
	}
}

// writeMessages writes a batch through gorilla/websocket, which compresses the messages when
// the connection negotiated permessage-deflate. buf is a scratch buffer for the frames. It
// reports, as wsNetConn.endBatch, whether the batch was sent in full.
func (c *Conn) writeMessages(ws *websocket.Conn, wc *wsNetConn, batch []outPacket, deadline time.Time, inline bool, buf *[]byte) (sent bool, err error) {
	_ = ws.SetWriteDeadline(deadline)
	if wc != nil {
		wc.beginBatch()
	}
	for _, p := range batch {
		if p.prep != nil {
			var pm *websocket.PreparedMessage
			if pm, err = p.prep.websocketMessage(c.protocol); err == nil {
				err = ws.WritePreparedMessage(pm)
			}
		} else {
			var frame []byte
			var binary bool
			if c.protocol == 3 {
				frame, binary = parser.WebsocketFrameV3((*buf)[:0], p.pkt)
			} else {
				frame, binary = parser.WebsocketFrame((*buf)[:0], p.pkt)
			}
			if binary {
				err = ws.WriteMessage(websocket.BinaryMessage, frame)
			} else {
				*buf = frame
				err = ws.WriteMessage(websocket.TextMessage, frame)
			}
		}
		if err != nil {
			break
		}
	}
	if wc == nil {
		return true, err
	}
	sent, ferr := wc.endBatch(inline)
	if err == nil {
		err = ferr
	}
	return sent, err
}
