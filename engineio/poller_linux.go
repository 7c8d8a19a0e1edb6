//go:build linux

package engineio

import (
	"fmt"
	"sync"
	"syscall"
)

// The poller watches the idle websocket connections of a server for readability with one
// epoll instance and one goroutine, so that an idle connection parks no goroutine of its own.
// A connection is watched with EPOLLONESHOT: when it becomes readable the poller starts a
// goroutine that reads the messages available, then watches it again (rearm). The event
// carries a token, not the file descriptor, so a descriptor reused by a new connection can
// never reach the old one. The goroutine and the epoll instance exist only while connections
// are watched: the last connection to leave (Shutdown closes them all) ends both.

type poller struct {
	mu      sync.Mutex
	epfd    int
	wakeR   int // the read end of a pipe that wakes the goroutine when the last conn leaves
	wakeW   int
	running bool
	next    uint64
	conns   map[uint64]*wsNetConn
}

func newPoller() *poller { return &poller{} }

const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

// tokenWake is the token of the wake pipe; connections have tokens from 1.
const tokenWake = 0

func pollEvent(events uint32, token uint64) syscall.EpollEvent {
	return syscall.EpollEvent{Events: events, Fd: int32(uint32(token)), Pad: int32(uint32(token >> 32))}
}

func eventToken(ev *syscall.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

// register watches wc; onReadable runs on a new goroutine each time it becomes readable.
func (p *poller) register(wc *wsNetConn, onReadable func()) error {
	fd := -1
	if err := wc.raw.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return fmt.Errorf("engineio: poller: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
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
			p.wakeLocked()
		}
		return fmt.Errorf("engineio: poller: epoll_ctl add: %w", err)
	}
	wc.fd, wc.token, wc.registered, wc.onReadable = fd, token, true, onReadable
	p.conns[token] = wc
	return nil
}

// rearm watches wc again after its reader has read what was available.
func (p *poller) rearm(wc *wsNetConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !wc.registered {
		return
	}
	ev := pollEvent(pollEvents, wc.token)
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, wc.fd, &ev); err != nil {
		// The connection cannot be watched any more: close it, so that its session ends.
		go func() { _ = wc.Close() }()
	}
}

// unregister stops watching wc; it runs before the descriptor is closed.
func (p *poller) unregister(wc *wsNetConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !wc.registered {
		return
	}
	wc.registered = false
	_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, wc.fd, nil)
	delete(p.conns, wc.token)
	if len(p.conns) == 0 {
		p.wakeLocked()
	}
}

func (p *poller) wakeLocked() {
	_, _ = syscall.Write(p.wakeW, []byte{0})
}

func (p *poller) startLocked() error {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("engineio: poller: epoll_create: %w", err)
	}
	var pipe [2]int
	if err := syscall.Pipe2(pipe[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		_ = syscall.Close(epfd)
		return fmt.Errorf("engineio: poller: pipe: %w", err)
	}
	ev := pollEvent(syscall.EPOLLIN, tokenWake)
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, pipe[0], &ev); err != nil {
		_ = syscall.Close(epfd)
		_ = syscall.Close(pipe[0])
		_ = syscall.Close(pipe[1])
		return fmt.Errorf("engineio: poller: epoll_ctl add: %w", err)
	}
	p.epfd, p.wakeR, p.wakeW = epfd, pipe[0], pipe[1]
	p.running = true
	p.conns = make(map[uint64]*wsNetConn)
	go p.run(epfd)
	return nil
}

func (p *poller) run(epfd int) {
	events := make([]syscall.EpollEvent, 128)
	ready := make([]*wsNetConn, 0, 128)
	var drain [64]byte
	for {
		n, err := syscall.EpollWait(epfd, events, -1)
		if err != nil && err != syscall.EINTR {
			n = 0 // cannot happen with a valid epoll descriptor; end below if nothing is watched
		}
		ready = ready[:0]
		p.mu.Lock()
		for i := range n {
			token := eventToken(&events[i])
			if token == tokenWake {
				for {
					if m, _ := syscall.Read(p.wakeR, drain[:]); m <= 0 {
						break
					}
				}
				continue
			}
			if wc := p.conns[token]; wc != nil {
				ready = append(ready, wc)
			}
		}
		if len(p.conns) == 0 {
			p.running = false
			_ = syscall.Close(p.epfd)
			_ = syscall.Close(p.wakeR)
			_ = syscall.Close(p.wakeW)
			p.conns = nil
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		for _, wc := range ready {
			go wc.onReadable()
		}
	}
}

// writeFD writes wc.nb.buf to fd without waiting for the socket to have room; it runs under
// wc.wmu, through syscall.RawConn.Write (wc.nb.fn, made once per connection so that a write
// allocates nothing).
func (wc *wsNetConn) writeFD(fd uintptr) bool {
	b := wc.nb.buf
	for wc.nb.n < len(b) {
		m, err := syscall.Write(int(fd), b[wc.nb.n:])
		if m > 0 {
			wc.nb.n += m
		}
		if err == syscall.EINTR {
			continue
		}
		if err != syscall.EAGAIN {
			wc.nb.err = err
		}
		if err != nil {
			break
		}
	}
	return true
}
