//go:build !linux

package engineio

import (
	"errors"
	"time"

	"github.com/gorilla/websocket"
)

// Outside Linux there is no poller: every websocket connection has a reading goroutine, and
// a writer goroutine while packets are queued.

type poller struct{}

func newPoller() *poller { return nil }

func (p *poller) register(*wsNetConn, func()) error {
	return errors.New("engineio: poller: not supported on this platform")
}

func (p *poller) unregister(*wsNetConn) {}

// writeFD is never called here: without a poller a connection has no descriptor to write
// (wsNetConn.wfd is -1).
func writeFD(int, []byte) (int, error) {
	return 0, errors.New("engineio: write: not supported on this platform")
}

// readResult and readDirect: outside Linux the poller, and so readDirect, is never used.
type readResult uint8

const (
	readIdle readResult = iota
	readUsual
	readClosed
)

func (c *Conn) readDirect(*websocket.Conn, *wsNetConn, time.Duration, bool) readResult {
	return readUsual
}

func (wc *wsNetConn) readFD([]byte) (int, error) {
	return 0, errors.New("engineio: read: not supported on this platform")
}
