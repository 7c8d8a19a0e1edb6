package engineio

import (
	"strconv"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio/parser"
)

// The heartbeat is one timer per session, with no goroutine of its own: every PingInterval the
// server queues a ping; a pong must come back within PingTimeout or the session closes with
// "ping timeout".

func (c *Conn) startHeartbeat() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.protocol == 3 {
		c.armHeartbeatLocked(c.v3PingWait())
		return
	}
	c.armHeartbeatLocked(c.srv.opts.PingInterval)
}

// In protocol v3 the client pings and the server answers with a pong: a session that sends no
// ping for PingInterval + PingTimeout closes with "ping timeout".

func (c *Conn) v3PingWait() time.Duration { return c.srv.opts.PingInterval + c.srv.opts.PingTimeout }

func (c *Conn) onPingV3() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return
	}
	c.armHeartbeatLocked(c.v3PingWait())
	c.pushLocked(outPacket{pkt: parser.Packet{Type: parser.Pong}})
	c.kickLocked()
}

// armHeartbeatLocked makes the heartbeat fire in d. The session has one timer, made at the
// first arm and reset after; hbDue is when the current arm is due, so that a run of the
// timer's function that had started when the timer was reset does nothing.
func (c *Conn) armHeartbeatLocked(d time.Duration) {
	if c.state != stateOpen {
		return
	}
	c.hbDue = time.Since(c.srv.epoch) + d
	if c.hbTimer == nil {
		c.hbTimer = time.AfterFunc(d, c.heartbeat)
		return
	}
	c.hbTimer.Reset(d)
}

func (c *Conn) heartbeat() {
	c.mu.Lock()
	if c.state != stateOpen || time.Since(c.srv.epoch) < c.hbDue {
		c.mu.Unlock()
		return
	}
	if c.protocol == 3 {
		if c.delivering.Load() > 0 {
			// The ping may be waiting behind a message the application has not taken yet.
			c.armHeartbeatLocked(c.srv.opts.PingTimeout)
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.closeNow(ReasonPingTimeout)
		return
	}
	if c.awaitingPong && c.delivering.Load() > 0 {
		// The pong may be waiting behind a message the application has not taken yet:
		// the session is not read while its message handler runs. Wait once more.
		c.armHeartbeatLocked(c.srv.opts.PingTimeout)
		c.mu.Unlock()
		return
	}
	if c.awaitingPong {
		c.mu.Unlock()
		c.closeNow(ReasonPingTimeout)
		return
	}
	c.awaitingPong = true
	c.armHeartbeatLocked(c.srv.opts.PingTimeout)
	c.pushLocked(outPacket{pkt: parser.Packet{Type: parser.Ping}})
	ws, wc, batch := c.kickInlineLocked()
	c.mu.Unlock()
	if ws != nil {
		c.writeInline(ws, wc, batch)
	}
}

func (c *Conn) onPong() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.awaitingPong {
		c.awaitingPong = false
		c.armHeartbeatLocked(c.srv.opts.PingInterval)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
