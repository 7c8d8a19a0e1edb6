package engineio

import (
	"bytes"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio/parser"
)

// The upgrade from polling to websocket: the client opens a websocket with the session ID and
// sends "2probe"; the server answers "3probe" and releases the pending poll with a noop; the
// client sends "5" and the session moves to the websocket. An upgrade that is not completed
// within UpgradeTimeout is abandoned and the session stays on polling.

var probe = []byte("probe")

func (c *Conn) handleUpgrade(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.srv.opts.DisableUpgrades || c.transport != TransportPolling || c.polling.upgrading || c.polling.upgraded || c.state != stateOpen {
		c.mu.Unlock()
		// As the official server does, the websocket handshake completes and the websocket is
		// closed at once: clients that do not expect an HTTP error on an upgrade (a second
		// websocket for a session that has one, say) see a plain close.
		if ws, err := c.srv.upgradeWebsocket(w, r, nil, false); err == nil {
			refuseWebsocket(ws)
		}
		return
	}
	c.polling.upgrading = true
	c.mu.Unlock()

	ws, err := c.srv.upgradeWebsocket(w, r, nil, false)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || c.state != stateOpen {
		c.polling.upgrading = false
		if ws != nil {
			_ = ws.Close()
		}
		return
	}
	c.polling.probeWS = ws
	c.polling.upgradeTimer = time.AfterFunc(c.srv.opts.UpgradeTimeout, func() { c.abortUpgrade(ws) })
	go c.probeLoop(ws)
}

// refuseWebsocket closes a websocket that cannot serve a session: a close frame without a
// status code, as the official server sends, then the connection.
func refuseWebsocket(ws *websocket.Conn) {
	_ = ws.WriteControl(websocket.CloseMessage, closeFrame, time.Now().Add(time.Second))
	_ = ws.Close()
}

// abortUpgrade closes a websocket whose upgrade did not complete; the session goes on with
// polling.
func (c *Conn) abortUpgrade(ws *websocket.Conn) {
	c.mu.Lock()
	if c.polling.probeWS == ws {
		c.polling.probeWS = nil
		c.polling.upgrading = false
		c.polling.probed = false
		if c.polling.upgradeTimer != nil {
			c.polling.upgradeTimer.Stop()
		}
	}
	c.mu.Unlock()
	refuseWebsocket(ws)
}

func (c *Conn) probeLoop(ws *websocket.Conn) {
	ws.SetReadLimit(c.srv.opts.MaxHTTPBufferSize)
	for {
		p, _, err := c.readMessage(ws)
		if err != nil {
			c.abortUpgrade(ws)
			return
		}
		switch {
		case p.Type == parser.Ping && bytes.Equal(p.Data, probe) && !p.Binary:
			_ = ws.SetWriteDeadline(time.Now().Add(c.srv.opts.WriteTimeout))
			if err := ws.WriteMessage(websocket.TextMessage, []byte("3probe")); err != nil {
				c.abortUpgrade(ws)
				return
			}
			c.mu.Lock()
			if c.polling.probeWS == ws {
				c.polling.probed = true
				c.kickLocked() // release the pending poll with a noop
			}
			c.mu.Unlock()
		case p.Type == parser.Upgrade && !p.Binary:
			// A polling POST still delivering keeps the transport until it is done, so
			// that the packets of both transports reach the application one at a time,
			// those of the POST first.
			c.deliverMu.Lock()
			ok := c.completeUpgrade(ws)
			c.deliverMu.Unlock()
			if !ok {
				c.abortUpgrade(ws)
				return
			}
			for _, o := range c.srv.observed() {
				if o.Upgraded != nil {
					o.Upgraded(c)
				}
			}
			c.startReading(ws, false)
			return
		default:
			c.abortUpgrade(ws)
			return
		}
	}
}

// completeUpgrade makes ws the session's transport, if the probe was answered on it.
func (c *Conn) completeUpgrade(ws *websocket.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.polling.probeWS != ws || !c.polling.probed || c.state == stateClosed {
		return false
	}
	if c.polling.upgradeTimer != nil {
		c.polling.upgradeTimer.Stop()
	}
	// Wake the pending poll (it answers with a noop) before switching transports.
	select {
	case c.polling.wake <- struct{}{}:
	default:
	}
	c.transport = TransportWebsocket
	c.ws = ws
	c.wc = directConn(ws)
	c.polling.probeWS = nil
	c.polling.upgrading = false
	c.polling.probed = false
	c.polling.upgraded = true
	if c.state == stateClosing {
		c.writing = true
		go c.writeLoop(ws)
		return true
	}
	c.kickLocked()
	return true
}
