//go:build linux

package client

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Poller reads many raw WebSocket connections on one goroutine. It waits
// with one epoll instance (level-triggered) for connections to be readable,
// reads each readable one once into a buffer it shares between them, and
// parses the frames in place, so a message costs no goroutine switch and no
// allocation. The goroutine blocks in epoll_wait itself, as in any blocking
// system call (the runtime lets its P go meanwhile), so a wake-up costs one
// epoll_wait: waiting through the runtime's network poller instead costs
// three (the runtime's own, then one that finds the events, then one that
// finds none before the goroutine parks again). Close wakes it through an
// eventfd in the set. Events carry a token, never the file descriptor, and
// a connection leaves the epoll set before its descriptor closes.
//
// Packets reach Config.OnPacket on the Poller's goroutine, so a slow
// callback holds up every connection of the Poller.
type Poller struct {
	epfd int
	wake int // an eventfd in the epoll set (token wakeToken), written by Close

	mu     sync.Mutex
	next   uint64
	conns  map[uint64]pollEntry
	closed bool
	done   chan struct{}
}

type pollEntry struct {
	c *Conn
	t *rawTransport
}

// wakeToken is the token of the Poller's eventfd; connections' tokens start
// at 1.
const wakeToken = 0

// pollCheck is how often the Poller looks for connections whose server sent
// no ping in time.
const pollCheck = time.Second

// NewPoller starts a Poller. Close stops it.
func NewPoller() (*Poller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("client: epoll_create1: %w", err)
	}
	wake, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errno != 0 {
		syscall.Close(fd)
		return nil, fmt.Errorf("client: eventfd: %w", errno)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: wakeToken}
	if err := syscall.EpollCtl(fd, syscall.EPOLL_CTL_ADD, int(wake), &ev); err != nil {
		syscall.Close(int(wake))
		syscall.Close(fd)
		return nil, fmt.Errorf("client: epoll_ctl add eventfd: %w", err)
	}
	p := &Poller{
		epfd:  fd,
		wake:  int(wake),
		conns: make(map[uint64]pollEntry),
		done:  make(chan struct{}),
	}
	go p.loop()
	return p, nil
}

// Close stops the Poller's goroutine and waits for it. Connections still
// registered are ended with ErrClosed.
func (p *Poller) Close() error {
	p.mu.Lock()
	left := p.conns
	p.conns = map[uint64]pollEntry{}
	already := p.closed
	p.closed = true
	p.mu.Unlock()
	if already {
		<-p.done
		return nil
	}
	one := [8]byte{1}
	syscall.Write(p.wake, one[:])
	<-p.done
	syscall.Close(p.epfd)
	syscall.Close(p.wake)
	for _, e := range left {
		e.t.rmu.Lock()
		e.t.closed = true
		e.t.rmu.Unlock()
		e.t.closeFD()
		e.c.finish(ErrClosed)
	}
	return nil
}

// add registers t, whose reads Conn c handles, and consumes what the dial
// already read. The transport leaves the runtime's network poller (whose
// epoll set would otherwise report every read a second time): it keeps a
// duplicate of its descriptor and closes the net.Conn. On an error t is
// unchanged.
func (p *Poller) add(c *Conn, t *rawTransport) error {
	sc, ok := t.nc.(syscall.Conn)
	if !ok {
		return errors.New("client: poller: not a system connection")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("client: poller: %w", err)
	}
	fd := -1
	var derr error
	if err := raw.Control(func(f uintptr) { fd, derr = dupCloseOnExec(int(f)) }); err != nil {
		return fmt.Errorf("client: poller: %w", err)
	}
	if derr != nil {
		return fmt.Errorf("client: poller: dup: %w", derr)
	}
	t.rmu.Lock()
	defer t.rmu.Unlock()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		closeFD(fd)
		return errors.New("client: poller closed")
	}
	p.next++ // from 1: wakeToken is 0
	token := p.next
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(uint32(token)), Pad: int32(uint32(token >> 32))}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		p.mu.Unlock()
		closeFD(fd)
		return fmt.Errorf("client: poller: epoll_ctl add: %w", err)
	}
	t.nc.Close() // the duplicate keeps the socket open
	t.fd, t.token, t.polled = fd, token, c
	p.conns[token] = pollEntry{c: c, t: t}
	p.mu.Unlock()
	if len(t.pending) > 0 {
		// Frames read with the open packet: handle them before any later
		// read (this goroutine holds rmu, as the Poller would).
		data := t.pending
		t.pending = nil
		if err := t.consume(c, data); err != nil {
			go p.fail(pollEntry{c: c, t: t}, err) // needs rmu
		}
	}
	return nil
}

// dupCloseOnExec duplicates fd with the close-on-exec flag.
func dupCloseOnExec(fd int) (int, error) {
	nfd, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(nfd), nil
}

func closeFD(fd int) { syscall.Close(fd) }

// writeFD writes all of b to the non-blocking descriptor fd, waiting for
// room for at most timeout. The clock is read only when the socket's send
// buffer is full, which is rare: a write normally takes one system call. The
// call is raw, since it never blocks, so the scheduler need not be told.
func writeFD(fd int, b []byte, timeout time.Duration) error {
	var deadline time.Time
	for len(b) > 0 {
		r, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch errno {
		case 0:
			b = b[int(r):]
		case syscall.EAGAIN:
			now := time.Now()
			if deadline.IsZero() {
				deadline = now.Add(timeout)
			}
			if now.After(deadline) {
				return fmt.Errorf("client: write: %w", os.ErrDeadlineExceeded)
			}
			time.Sleep(100 * time.Microsecond)
		case syscall.EINTR:
		default:
			return fmt.Errorf("client: write: %w", errno)
		}
	}
	return nil
}

// remove takes t out of the epoll set; the Poller reads it no more. It must
// run before t's connection closes.
func (p *Poller) remove(t *rawTransport) {
	t.rmu.Lock()
	defer t.rmu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.conns[t.token]; ok {
		delete(p.conns, t.token)
		syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, t.fd, nil)
	}
}

func (p *Poller) loop() {
	defer close(p.done)
	var ready []pollEntry
	events := make([]syscall.EpollEvent, 256)
	buf := make([]byte, rawReadBuffer)
	nextCheck := time.Now().Add(pollCheck)
	for {
		n, err := syscall.EpollWait(p.epfd, events, int(pollCheck/time.Millisecond))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return
		}
		ready = ready[:0]
		for _, ev := range events[:n] {
			token := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if e, ok := p.conns[token]; ok {
				ready = append(ready, e)
			}
		}
		p.mu.Unlock()
		for _, e := range ready {
			p.read(e, buf)
		}
		clear(ready)
		if now := time.Now(); now.After(nextCheck) {
			nextCheck = now.Add(pollCheck)
			p.expire()
		}
	}
}

// read reads e once and handles its frames; an error ends the connection.
func (p *Poller) read(e pollEntry, buf []byte) {
	t := e.t
	t.rmu.Lock()
	if t.closed {
		t.rmu.Unlock()
		return
	}
	// A raw system call: the descriptor is non-blocking, so the read never
	// waits, and the scheduler need not be told.
	r, _, errno := syscall.RawSyscall(syscall.SYS_READ, uintptr(t.fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	n := int(r)
	var err error
	switch {
	case errno == syscall.EAGAIN || errno == syscall.EINTR:
	case errno != 0:
		err = fmt.Errorf("client: read: %w", errno)
	case n > 0:
		err = t.consume(e.c, buf[:n])
	default:
		err = errUnexpectedEOF
	}
	t.rmu.Unlock()
	if err != nil {
		p.fail(e, err)
	}
}

// fail ends the connection of e with err.
func (p *Poller) fail(e pollEntry, err error) {
	p.remove(e.t)
	e.t.closeFD()
	e.c.finish(err)
}

// expire ends the connections whose server has not pinged in time.
func (p *Poller) expire() {
	p.mu.Lock()
	all := make([]pollEntry, 0, len(p.conns))
	for _, e := range p.conns {
		all = append(all, e)
	}
	p.mu.Unlock()
	now := time.Now()
	for _, e := range all {
		e.t.rmu.Lock()
		late := !e.t.closed && now.After(e.t.deadline)
		e.t.rmu.Unlock()
		if late {
			p.fail(e, ErrPingTimeout)
		}
	}
}
