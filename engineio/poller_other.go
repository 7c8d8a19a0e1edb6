//go:build !linux

package engineio

import "errors"

// Outside Linux there is no poller: every websocket connection has a reading goroutine, and
// a writer goroutine while packets are queued.

type poller struct{}

func newPoller() *poller { return nil }

func (p *poller) register(*wsNetConn, func()) error {
	return errors.New("engineio: poller: not supported on this platform")
}

func (p *poller) rearm(*wsNetConn) {}

func (p *poller) unregister(*wsNetConn) {}

func (wc *wsNetConn) writeFD(uintptr) bool {
	wc.nb.err = errors.New("engineio: write: not supported on this platform")
	return true
}
