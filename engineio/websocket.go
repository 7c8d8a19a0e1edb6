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
// hijacked, one goroutine reads it, and a writer goroutine runs only while packets are queued.

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
	go c.readLoop(ws)
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
	ws.SetReadLimit(c.srv.opts.MaxHTTPBufferSize)
	for {
		p, reason, err := c.readMessage(ws)
		if err != nil {
			c.closeNow(reason)
			return
		}
		c.deliverMu.Lock()
		c.onPacket(p)
		c.deliverMu.Unlock()
	}
}

// writeLoop sends the queue on ws until it is empty, then exits. A graceful close waiting for
// the queue to drain is finished here.
func (c *Conn) writeLoop(ws *websocket.Conn) {
	var buf []byte
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.ws != ws || c.state == stateClosed {
			c.writing = false
			closing, reason := c.state == stateClosing, c.reason
			c.mu.Unlock()
			if closing {
				c.finishWebsocketClose(ws, reason)
			}
			return
		}
		batch := c.takeQueueLocked()
		c.mu.Unlock()

		_ = ws.SetWriteDeadline(time.Now().Add(c.srv.opts.WriteTimeout))
		for _, p := range batch {
			var err error
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
				c.mu.Lock()
				c.writing = false
				c.mu.Unlock()
				c.closeNow(ReasonTransportError)
				return
			}
		}
		c.mu.Lock()
		c.wroteLocked(len(batch))
		c.mu.Unlock()
		c.observeSent(batch)
		c.recycle(batch)
	}
}
