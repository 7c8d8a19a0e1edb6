//go:build !linux

package client

import (
	"errors"
	"time"
)

// Poller would read many raw WebSocket connections on one goroutine; on
// systems other than Linux it has no epoll, so every connection added to it
// reads on a goroutine of its own.
type Poller struct{}

// NewPoller returns a Poller. Close releases it.
func NewPoller() (*Poller, error) { return &Poller{}, nil }

// Close does nothing: the connections' own goroutines end with them.
func (p *Poller) Close() error { return nil }

func (p *Poller) add(*Conn, *rawTransport) error {
	return errors.New("client: no poller on this system")
}

func (p *Poller) remove(*rawTransport) {}

func writeFD(int, []byte, time.Duration) error { return errors.New("client: no poller on this system") }

func closeFD(int) {}
