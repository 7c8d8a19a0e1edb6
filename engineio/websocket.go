package engineio

import (
	"errors"
	"io"
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
	if c.state == stateClosing {
		// Closed by the connection hook: send the open packet and what the hook queued.
		c.writing = true
		go c.writeLoop(ws)
	} else {
		c.kickLocked()
	}
	c.mu.Unlock()
	c.startReading(ws, true)
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

// readLinger is how long the goroutine the poller started waits for the next message once it
// has read what was available, before the connection is watched by the poller again. A client
// that sends often (a closed loop of requests and acks) is then read as by a goroutine of its
// own, without a poller wake-up, a goroutine start and an epoll_ctl per message, while an idle
// connection owns no goroutine once the linger is over.
const readLinger = 20 * time.Millisecond

// readReady reads the messages that are available on a connection the poller found readable,
// waits readLinger for more, then has it watched again. A frame that arrived in part blocks it
// until the rest arrives, or the heartbeat closes the session.
func (c *Conn) readReady(ws *websocket.Conn, wc *wsNetConn) {
	wc.readMu.Lock()
	defer wc.readMu.Unlock()
	for {
		if !c.readOne(ws) {
			return
		}
		if wc.br.Buffered() > 0 {
			continue
		}
		if !wc.awaitData(readLinger) {
			break
		}
	}
	wc.poll.rearm(wc)
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
	mt, r, err := ws.NextReader()
	if err != nil {
		if errors.Is(err, websocket.ErrReadLimit) {
			return parser.Packet{}, ReasonTransportError, err
		}
		return parser.Packet{}, ReasonTransportClose, err
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		if errors.Is(err, websocket.ErrReadLimit) {
			return parser.Packet{}, ReasonTransportError, err
		}
		return parser.Packet{}, ReasonTransportClose, err
	}
	if int64(len(data)) > limit {
		_ = ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseMessageTooBig, ""), time.Now().Add(time.Second))
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
		_ = ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ""), time.Now().Add(time.Second))
		return parser.Packet{}, ReasonTransportError, errInvalidUTF8
	}
	p, err := parser.DecodePacket(data)
	if err != nil {
		return parser.Packet{}, ReasonParseError, err
	}
	return p, "", nil
}

func (c *Conn) readLoop(ws *websocket.Conn) {
	for c.readOne(ws) {
	}
}

// writeInline sends the queue from the goroutine that queued packets, without blocking: what
// the socket does not take at once is left to a writer goroutine. c.writing was set by the
// caller.
func (c *Conn) writeInline(ws *websocket.Conn) { c.writePackets(ws, true) }

// writeLoop sends the queue on ws until it is empty, then exits. A graceful close waiting for
// the queue to drain is finished here.
func (c *Conn) writeLoop(ws *websocket.Conn) { c.writePackets(ws, false) }

// handOff finishes, on a goroutine of its own, a batch that the socket did not take without
// blocking, then goes on as the writer.
func (c *Conn) handOff(ws *websocket.Conn, wc *wsNetConn, batch []outPacket) {
	if err := wc.flush(); err != nil {
		c.writeFailed()
		return
	}
	c.wroteBatch(batch)
	c.writePackets(ws, false)
}

func (c *Conn) writeFailed() {
	c.mu.Lock()
	c.writing = false
	c.mu.Unlock()
	c.closeNow(ReasonTransportError)
}

func (c *Conn) wroteBatch(batch []outPacket) {
	c.mu.Lock()
	c.wroteLocked(len(batch))
	c.mu.Unlock()
	c.observeSent(batch)
	c.recycle(batch)
}

func (c *Conn) writePackets(ws *websocket.Conn, inline bool) {
	wc, _ := ws.NetConn().(*wsNetConn)
	var buf []byte
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.ws != ws || c.state == stateClosed {
			c.writing = false
			closing, reason := c.state == stateClosing, c.reason
			c.mu.Unlock()
			if closing {
				if inline { // the close hooks never run on the sender's goroutine
					go c.finishWebsocketClose(ws, reason)
				} else {
					c.finishWebsocketClose(ws, reason)
				}
			}
			return
		}
		batch := c.takeQueueLocked()
		c.mu.Unlock()

		_ = ws.SetWriteDeadline(time.Now().Add(c.srv.opts.WriteTimeout))
		if wc != nil {
			wc.beginBatch()
		}
		var err error
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
					frame, binary = parser.WebsocketFrameV3(buf[:0], p.pkt)
				} else {
					frame, binary = parser.WebsocketFrame(buf[:0], p.pkt)
				}
				if binary {
					err = ws.WriteMessage(websocket.BinaryMessage, frame)
				} else {
					buf = frame
					err = ws.WriteMessage(websocket.TextMessage, frame)
				}
			}
			if err != nil {
				break
			}
		}
		if wc != nil {
			sent, ferr := wc.endBatch(inline)
			if err == nil {
				err = ferr
			}
			if err == nil && !sent {
				go c.handOff(ws, wc, batch)
				return
			}
		}
		if err != nil {
			if inline {
				go c.writeFailed()
			} else {
				c.writeFailed()
			}
			return
		}
		c.wroteBatch(batch)
	}
}
