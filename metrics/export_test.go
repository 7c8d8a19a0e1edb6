package metrics

import (
	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/socketio"
)

// Observers returns the observers New adds to a server, for the benchmarks.
func (m *Metrics) Observers() (socketio.Observer, engineio.Observer) {
	return m.socketObserver(), m.engineObserver()
}

// MessagesSent returns the count of engineio_messages_sent_total.
func (m *Metrics) MessagesSent() uint64 { return m.out.messages.Load() }
