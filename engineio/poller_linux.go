//go:build linux

package engineio

import (
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
)

// The poller watches the websocket connections of a server for readability with one epoll
// instance and one goroutine, so that an idle connection parks no goroutine of its own. A
// connection is watched edge-triggered for its whole life: each arrival of data raises one
// event, which the poller passes to the connection's reader (wsNetConn.readable): it starts a
// goroutine to read the connection when none reads it, wakes the reader when it waits for
// data, and otherwise marks the event for the reader to see before it waits. A reader that
// found no message for the linger leaves, and the connection is idle again, with no epoll_ctl.
// The poller wakes the readers of one wait in the order the kernel reported the connections
// readable, which is the order their data arrived, so under load the messages of many
// connections are handled first come, first served (the runtime's network poller, which
// readers waiting in a read of their own would go through, wakes the goroutines of one wait
// in the reverse order). The event carries a token, not the file descriptor, so a
// descriptor reused by a new connection can never reach the old one. The poller's goroutine
// waits for the epoll instance itself to be readable through the runtime's network poller
// (the instance is a non-blocking file), so it holds no thread while it waits. The goroutine
// and the epoll instance exist only while connections are watched: the last connection to
// leave (Shutdown closes them all) closes the instance, which ends the goroutine.

type poller struct {
	mu      sync.Mutex
	file    *os.File // the epoll instance
	epfd    int
	running bool
	next    uint64 // tokens are never reused, even by a later epoll instance
	conns   map[uint64]*wsNetConn
}

func newPoller() *poller { return &poller{} }

// pollEvents is what the poller watches for: EPOLLET as an unsigned 32-bit flag.
const pollEvents = (syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLET) & 0xffffffff

func pollEvent(events uint32, token uint64) syscall.EpollEvent {
	return syscall.EpollEvent{Events: events, Fd: int32(uint32(token)), Pad: int32(uint32(token >> 32))}
}

func eventToken(ev *syscall.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// register watches wc; onReadable runs on a new goroutine when data arrives while no reader
// reads it (see wsNetConn.readable). No reader may read wc when it is called.
func (p *poller) register(wc *wsNetConn, onReadable func()) error {
	fd := -1
	if err := wc.raw.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return fmt.Errorf("engineio: poller: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if wc.unwatched {
		// Closed since fd was read: the number may already be another connection's.
		return fmt.Errorf("engineio: poller: %w", net.ErrClosed)
	}
	if !p.running {
		if err := p.startLocked(); err != nil {
			return err
		}
	}
	p.next++
	token := p.next
	ev := pollEvent(pollEvents, token)
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		if len(p.conns) == 0 {
			p.stopLocked()
		}
		return fmt.Errorf("engineio: poller: epoll_ctl add: %w", err)
	}
	wc.fd, wc.token, wc.registered, wc.onReadable = fd, token, true, onReadable
	wc.rstate.Store(readerNone)
	p.conns[token] = wc
	return nil
}

// unregister stops watching wc; it runs before the descriptor is closed.
func (p *poller) unregister(wc *wsNetConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	wc.unwatched = true
	if !wc.registered {
		return
	}
	wc.registered = false
	_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, wc.fd, nil)
	delete(p.conns, wc.token)
	if len(p.conns) == 0 {
		p.stopLocked()
	}
}

// stopLocked closes the epoll instance; its goroutine ends.
func (p *poller) stopLocked() {
	p.running = false
	p.conns = nil
	_ = p.file.Close()
	p.file = nil
}

func (p *poller) startLocked() error {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("engineio: poller: epoll_create: %w", err)
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		_ = syscall.Close(epfd)
		return fmt.Errorf("engineio: poller: %w", err)
	}
	f := os.NewFile(uintptr(epfd), "engineio-epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("engineio: poller: %w", err)
	}
	p.file, p.epfd, p.running = f, epfd, true
	p.conns = make(map[uint64]*wsNetConn)
	go p.run(rc)
	return nil
}

func (p *poller) run(rc syscall.RawConn) {
	events := make([]syscall.EpollEvent, 128)
	ready := make([]*wsNetConn, 0, 128)
	n := 0
	wait := func(fd uintptr) bool {
		m, err := syscall.EpollWait(int(fd), events, 0)
		if err != nil || m <= 0 {
			return false // wait until the instance is readable
		}
		n = m
		return true
	}
	for {
		if err := rc.Read(wait); err != nil {
			return // closed: no connection is watched
		}
		ready = ready[:0]
		p.mu.Lock()
		for i := range n {
			if wc := p.conns[eventToken(&events[i])]; wc != nil {
				ready = append(ready, wc)
			}
		}
		p.mu.Unlock()
		for _, wc := range ready {
			wc.readable()
		}
		clear(ready)
	}
}

// writeFD writes b to the connection's descriptor fd without waiting for the socket to have
// room, and returns how much the kernel took. The caller holds the connection's wmu with
// closed clear (see wsNetConn), so fd cannot be closed meanwhile.
func writeFD(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := syscall.Write(fd, b[n:])
		if m > 0 {
			n += m
		}
		switch err {
		case nil:
			if m <= 0 {
				return n, nil // the blocking write that follows finds out why
			}
		case syscall.EINTR:
		case syscall.EAGAIN:
			return n, nil
		default:
			return n, err
		}
	}
	return n, nil
}
