package engineio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// Reading the frames of a connection without extensions (wsNetConn.plain). gorilla/websocket
// reads a message through a reader it allocates and whose length it does not tell, so the
// message had to be read into a buffer and copied out. A client's frames are simple enough to
// read here, straight from the connection's buffered reader into a slice of the message's
// size: the header, the mask, the length. The rules are gorilla/websocket's (RFC 6455 for a
// server): frames must be masked, reserved bits clear, control frames final and at most 125
// bytes, continuation frames only inside a fragmented message; a violation is answered with
// a close frame of status 1002. A ping is answered with a pong, a close frame with a close
// frame (its status, without text), a pong is ignored. The limit on a message's size is
// checked before its frames are read, with a close frame of status 1009.

// maxControlPayload is the largest payload of a control frame.
const maxControlPayload = 125

// readPlainMessage reads the next data message and returns its type (websocket.TextMessage or
// websocket.BinaryMessage) and its payload, in a slice of its own. A message over limit bytes
// fails with websocket.ErrReadLimit, a close frame from the client with a *websocket.CloseError.
func (wc *wsNetConn) readPlainMessage(ws *websocket.Conn, limit int64) (int, []byte, error) {
	msgType := 0 // the opcode of the message being read; 0 between messages
	var data []byte
	for {
		h, err := wc.br.Peek(2)
		if err != nil {
			return 0, nil, err
		}
		final, op := h[0]&0x80 != 0, int(h[0]&0x0f)
		masked, n := h[1]&0x80 != 0, int64(h[1]&0x7f)
		var problems []string
		if h[0]&0x70 != 0 {
			problems = append(problems, "reserved bits set")
		}
		_, _ = wc.br.Discard(2)
		control := false
		switch op {
		case websocket.CloseMessage, websocket.PingMessage, websocket.PongMessage:
			control = true
			if n > maxControlPayload {
				problems = append(problems, "len > 125 for control")
			}
			if !final {
				problems = append(problems, "FIN not set on control")
			}
		case websocket.TextMessage, websocket.BinaryMessage:
			if msgType != 0 {
				problems = append(problems, "data before FIN")
			}
		case 0: // continuation
			if msgType == 0 {
				problems = append(problems, "continuation after FIN")
			}
		default:
			problems = append(problems, "bad opcode "+strconv.Itoa(op))
		}
		if !masked {
			problems = append(problems, "bad MASK")
		}
		if len(problems) > 0 {
			return 0, nil, protocolError(ws, strings.Join(problems, ", "))
		}
		switch n {
		case 126:
			b, err := wc.br.Peek(2)
			if err != nil {
				return 0, nil, err
			}
			n = int64(binary.BigEndian.Uint16(b))
			_, _ = wc.br.Discard(2)
		case 127:
			b, err := wc.br.Peek(8)
			if err != nil {
				return 0, nil, err
			}
			n = int64(binary.BigEndian.Uint64(b)) // negative when the top bit is set
			_, _ = wc.br.Discard(8)
		}
		b, err := wc.br.Peek(4)
		if err != nil {
			return 0, nil, err
		}
		key := [4]byte(b)
		_, _ = wc.br.Discard(4)

		if control {
			if err := wc.readControlPayload(ws, op, int(n), key); err != nil {
				return 0, nil, err
			}
			continue
		}
		if n < 0 || n > limit-int64(len(data)) {
			writeClose(ws, websocket.FormatCloseMessage(websocket.CloseMessageTooBig, ""))
			return 0, nil, websocket.ErrReadLimit
		}
		if op != 0 {
			msgType = op
		}
		at := len(data)
		if data == nil {
			data = make([]byte, n)
		} else {
			data = slices.Grow(data, int(n))[:at+int(n)]
		}
		if _, err := io.ReadFull(wc.br, data[at:]); err != nil {
			return 0, nil, err
		}
		unmask(key, data[at:])
		if final {
			return msgType, data, nil
		}
	}
}

// readControlPayload reads the n-byte payload of a control frame with opcode op, masked with
// key, whose header was read, and handles the frame (see controlFrame).
func (wc *wsNetConn) readControlPayload(ws *websocket.Conn, op, n int, key [4]byte) error {
	var buf [maxControlPayload]byte
	payload := buf[:n]
	if _, err := io.ReadFull(wc.br, payload); err != nil {
		return err
	}
	unmask(key, payload)
	return controlFrame(ws, op, payload)
}

// controlFrame handles a control frame of the client: it answers a ping, and a close frame,
// for which it returns the *websocket.CloseError.
func controlFrame(ws *websocket.Conn, op int, payload []byte) error {
	switch op {
	case websocket.PingMessage:
		// As gorilla/websocket's default ping handler: a failed pong shows in the next read.
		_ = ws.WriteControl(websocket.PongMessage, payload, time.Now().Add(time.Second))
	case websocket.CloseMessage:
		code, text := websocket.CloseNoStatusReceived, ""
		if len(payload) == 1 {
			return protocolError(ws, "bad close payload")
		}
		if len(payload) >= 2 {
			code = int(binary.BigEndian.Uint16(payload))
			if !validCloseCode(code) {
				return protocolError(ws, "bad close code "+strconv.Itoa(code))
			}
			text = string(payload[2:])
			if !utf8.ValidString(text) {
				return protocolError(ws, "invalid utf8 payload in close frame")
			}
		}
		writeClose(ws, websocket.FormatCloseMessage(code, ""))
		return &websocket.CloseError{Code: code, Text: text}
	}
	return nil
}

// validCloseCode reports whether a client may send the close status code (RFC 6455 7.4 and
// the IANA registry, as gorilla/websocket checks it).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1013:
		return true
	}
	return code >= 3000 && code <= 4999
}

// errProtocol is the error of a frame that breaks the websocket protocol.
var errProtocol = errors.New("engineio: websocket protocol error")

// protocolError closes the connection with status 1002 and returns the error.
func protocolError(ws *websocket.Conn, msg string) error {
	data := websocket.FormatCloseMessage(websocket.CloseProtocolError, msg)
	writeClose(ws, data[:min(len(data), maxControlPayload)])
	return fmt.Errorf("%w: %s", errProtocol, msg)
}

// unmask applies the client's masking key to b, the payload of one frame from its start.
func unmask(key [4]byte, b []byte) {
	k := uint64(binary.LittleEndian.Uint32(key[:]))
	k |= k << 32
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k)
	}
	for ; i < len(b); i++ {
		b[i] ^= key[i&3]
	}
}
