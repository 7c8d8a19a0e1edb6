package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

// wsTransport is a WebSocket-only Engine.IO session.
type wsTransport struct {
	ws      *websocket.Conn
	timeout time.Duration
	hb      time.Duration
	wmu     sync.Mutex
}

func dialWebSocket(ctx context.Context, cfg Config) (*wsTransport, wire.Open, error) {
	var open wire.Open
	u, err := endpoint(cfg, "")
	if err != nil {
		return nil, open, err
	}
	d := cfg.Dialer
	if d == nil {
		d = defaultDialer
	}
	ws, resp, err := d.DialContext(ctx, u, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			return nil, open, fmt.Errorf("client: websocket handshake: %w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, open, fmt.Errorf("client: websocket handshake: %w", err)
	}
	dl, _ := ctx.Deadline()
	ws.SetReadDeadline(dl)
	_, msg, err := ws.ReadMessage()
	if err != nil {
		ws.Close()
		return nil, open, fmt.Errorf("client: reading the open packet: %w", err)
	}
	open, err = wire.ParseOpen(msg)
	if err != nil {
		ws.Close()
		return nil, open, err
	}
	t := &wsTransport{ws: ws, timeout: cfg.Timeout, hb: heartbeat(open)}
	ws.SetReadDeadline(time.Now().Add(t.hb))
	return t, open, nil
}

func (t *wsTransport) send(p []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.ws.SetWriteDeadline(time.Now().Add(t.timeout))
	return t.ws.WriteMessage(websocket.TextMessage, p)
}

func (t *wsTransport) sendMessage(sio []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.ws.SetWriteDeadline(time.Now().Add(t.timeout))
	w, err := t.ws.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte{wire.EIOMessage}); err != nil {
		w.Close()
		return err
	}
	if _, err := w.Write(sio); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

func (t *wsTransport) start(c *Conn) { go c.readLoop() }

func (t *wsTransport) run(c *Conn) error {
	for {
		typ, msg, err := t.ws.ReadMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return ErrPingTimeout
			}
			return err
		}
		if typ != websocket.TextMessage {
			return fmt.Errorf("client: unexpected binary frame of %d bytes", len(msg))
		}
		if len(msg) > 0 && msg[0] == wire.EIOPing {
			t.ws.SetReadDeadline(time.Now().Add(t.hb))
		}
		if err := c.handle(msg); err != nil {
			return err
		}
	}
}

func (t *wsTransport) close() {
	t.wmu.Lock()
	t.ws.SetWriteDeadline(time.Now().Add(time.Second))
	t.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	t.wmu.Unlock()
	t.ws.Close()
}
