package engineio

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A websocket session's network connection is a wsNetConn: the hijacked connection with a
// write buffer in front of it and, where the platform allows, the file descriptor the
// server's poller watches for readability (see poller_linux.go).
//
// Writes. The session's writer puts the frames of a batch in the buffer (gorilla/websocket
// writes each frame with its own Write call) and sends them with one system call at the end
// of the batch. A writer running on the goroutine of the sender tries that system call
// without blocking; what the kernel does not take at once is sent by a goroutine started for
// that purpose, which blocks until WriteTimeout. Writes outside a batch (control frames: a
// pong, a close frame) are sent at once, after anything left in the buffer.
//
// Reads. gorilla/websocket reads through the bufio.Reader handed to it at the hijack, so the
// session knows how many bytes it holds: a frame already in that buffer gets no readiness
// notification from the kernel and is read before the connection is watched again.

// readBufferSize is the size of a websocket connection's read buffer, kept for the life of
// the connection: a size class of the allocator just above the 256 bytes gorilla/websocket
// requires to reuse the buffered reader of the hijack. It holds a frame header (14 bytes at
// most) and small messages; larger payloads are read through it into the message.
const readBufferSize = 288

// wbufPool holds the write buffers of websocket connections between batches, so an idle
// connection keeps none.
var wbufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

type wsNetConn struct {
	net.Conn
	raw syscall.RawConn // nil when the connection has no file descriptor (TLS, a wrapper)
	br  *bufio.Reader   // the reader gorilla/websocket reads through

	// nb is the state of a write that does not block (see writeFD).
	nb struct {
		buf []byte
		n   int
		err error
		fn  func(uintptr) bool
	}

	wmu  sync.Mutex
	wbuf *[]byte // pending bytes; nil when empty
	// plain is set when no extension was negotiated: the session then writes its data frames
	// to the buffer itself (writeFrames) rather than through gorilla/websocket. closeSent is
	// set when the close frame was sent; no data frame may follow it.
	plain     bool
	closeSent bool
	// closeAfterFlush is set by Close during a blocking write: flush closes the connection.
	closeAfterFlush bool
	batch           bool
	flushing        bool      // a blocking write runs, or is due (flush): writes are buffered
	deadline        time.Time // the write deadline gorilla/websocket asked for
	applied         time.Time // the write deadline set on the connection

	// readMu is held by the goroutine reading the connection: successive readers started by
	// the poller are ordered by it.
	readMu sync.Mutex
	// linger is the read deadline set by awaitData (zero: none); peeking is set while
	// awaitData waits. Both belong to the goroutine that holds readMu.
	linger  time.Time
	peeking bool
	// poll is the server's poller, set when the connection has a file descriptor. The
	// registration is guarded by the poller's lock.
	poll       *poller
	token      uint64
	fd         int
	registered bool
	onReadable func()
}

func newWSNetConn(nc net.Conn, p *poller) *wsNetConn {
	wc := &wsNetConn{Conn: nc}
	if sc, ok := nc.(syscall.Conn); ok && p != nil {
		if _, isTCP := nc.(*net.TCPConn); isTCP {
			if raw, err := sc.SyscallConn(); err == nil {
				wc.raw = raw
				wc.poll = p
				wc.nb.fn = wc.writeFD
			}
		}
	}
	wc.br = bufio.NewReaderSize(wc, readBufferSize)
	return wc
}

// awaitData waits, for at least d and at most 2d after the previous call, for data to read,
// without consuming it, and reports whether some arrived (or the connection failed, which the
// next read reports). The read deadline it sets is moved only when less than d is left, so a
// client that sends often costs a deadline change every d or so, not two per message. Reads of
// a frame that the deadline interrupts go on without one (see Read), and the deadline is
// clear again when awaitData reports false.
func (wc *wsNetConn) awaitData(d time.Duration) bool {
	if now := time.Now(); wc.linger.Sub(now) < d {
		wc.linger = now.Add(2 * d)
		if err := wc.Conn.SetReadDeadline(wc.linger); err != nil {
			return false
		}
	}
	wc.peeking = true
	_, err := wc.br.Peek(1)
	wc.peeking = false
	// bufio.Reader returns a read error once and forgets it: a timeout here is not seen by
	// gorilla/websocket, and any other error comes back on its next read.
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	_ = wc.clearLinger() // an error means the connection is closed: the next read reports it
	return false
}

// clearLinger clears the read deadline awaitData set.
func (wc *wsNetConn) clearLinger() error {
	wc.linger = time.Time{}
	return wc.Conn.SetReadDeadline(time.Time{})
}

// Read reads from the connection for the bufio.Reader gorilla/websocket reads through. The
// read deadline of awaitData only bounds the wait for a message: when it interrupts the read
// of a frame, the deadline is cleared and the read goes on, so a message that arrives in parts
// is read without one.
func (wc *wsNetConn) Read(p []byte) (int, error) {
	n, err := wc.Conn.Read(p)
	if err != nil && !wc.peeking && !wc.linger.IsZero() && errors.Is(err, os.ErrDeadlineExceeded) {
		if cerr := wc.clearLinger(); cerr != nil {
			return n, err
		}
		if n > 0 {
			return n, nil
		}
		return wc.Conn.Read(p)
	}
	return n, err
}

// SetWriteDeadline records the deadline; it is set on the connection before a write that
// may block. gorilla/websocket sets it once per frame.
func (wc *wsNetConn) SetWriteDeadline(t time.Time) error {
	wc.wmu.Lock()
	wc.deadline = t
	wc.wmu.Unlock()
	return nil
}

// Write buffers p during a batch or while a blocking write is in progress (the flushing
// goroutine sends it next, so a control frame never waits behind a blocked socket), and
// writes it at once otherwise.
func (wc *wsNetConn) Write(p []byte) (int, error) {
	wc.wmu.Lock()
	if wc.batch || wc.flushing {
		if wc.wbuf == nil {
			wc.wbuf = wbufPool.Get().(*[]byte)
		}
		*wc.wbuf = append(*wc.wbuf, p...)
		wc.wmu.Unlock()
		return len(p), nil
	}
	defer wc.wmu.Unlock()
	if err := wc.applyDeadlineLocked(); err != nil {
		return 0, err
	}
	return wc.Conn.Write(p)
}

func (wc *wsNetConn) applyDeadlineLocked() error {
	if wc.applied.Equal(wc.deadline) {
		return nil
	}
	if err := wc.Conn.SetWriteDeadline(wc.deadline); err != nil {
		return err
	}
	wc.applied = wc.deadline
	return nil
}

// beginBatch makes writes go to the buffer until endBatch.
func (wc *wsNetConn) beginBatch() {
	wc.wmu.Lock()
	wc.batch = true
	wc.wmu.Unlock()
}

// endBatch ends a batch and sends the buffer. With nonblocking it makes one attempt that does
// not wait and reports whether everything was sent; the rest stays buffered for flush, which
// the caller must then call.
func (wc *wsNetConn) endBatch(nonblocking bool) (sent bool, err error) {
	wc.wmu.Lock()
	wc.batch = false
	return wc.sendLocked(nonblocking)
}

// errCloseSent is the error of a write of data frames after the close frame.
var errCloseSent = errors.New("engineio: websocket close frame sent")

// writeFrames writes the data frames of a batch of packets, built in the buffer, and sends the
// buffer as endBatch does, all under one lock. It is the batch of a connection without
// extensions (plain), whose frames need no help from gorilla/websocket: a server's frames are
// not masked.
func (wc *wsNetConn) writeFrames(batch []outPacket, protocol int, deadline time.Time, nonblocking bool) (sent bool, err error) {
	wc.wmu.Lock()
	if wc.closeSent {
		wc.wmu.Unlock()
		return false, errCloseSent
	}
	wc.deadline = deadline
	if wc.wbuf == nil {
		wc.wbuf = wbufPool.Get().(*[]byte)
	}
	b := *wc.wbuf
	for i := range batch {
		if p := batch[i].prep; p != nil {
			b = append(b, p.plainFrame(protocol)...)
		} else {
			b = appendFrame(b, batch[i].pkt, protocol)
		}
	}
	*wc.wbuf = b
	return wc.sendLocked(nonblocking)
}

// stopFrames makes writeFrames fail from now on: the close frame is about to be sent.
func (wc *wsNetConn) stopFrames() {
	wc.wmu.Lock()
	wc.closeSent = true
	wc.wmu.Unlock()
}

// sendLocked sends the buffer for endBatch and writeFrames, and unlocks wc.wmu.
func (wc *wsNetConn) sendLocked(nonblocking bool) (sent bool, err error) {
	if wc.wbuf == nil {
		wc.wmu.Unlock()
		return true, nil
	}
	if !nonblocking {
		wc.wmu.Unlock()
		return true, wc.flush()
	}
	defer wc.wmu.Unlock()
	if wc.raw == nil {
		wc.flushing = true
		return false, nil
	}
	if !wc.applied.IsZero() {
		// A deadline left by an earlier blocking write would fail this write once past.
		if err := wc.Conn.SetWriteDeadline(time.Time{}); err != nil {
			return false, err
		}
		wc.applied = time.Time{}
	}
	b := *wc.wbuf
	wc.nb.buf, wc.nb.n, wc.nb.err = b, 0, nil
	err = wc.raw.Write(wc.nb.fn)
	n := wc.nb.n
	if err == nil {
		err = wc.nb.err
	}
	wc.nb.buf, wc.nb.err = nil, nil
	if err != nil {
		return false, fmt.Errorf("engineio: write: %w", err)
	}
	if n < len(b) {
		*wc.wbuf = b[:copy(b, b[n:])]
		wc.flushing = true // until flush: other writes queue behind the rest
		return false, nil
	}
	wc.releaseLocked()
	return true, nil
}

// flush sends what is buffered, blocking until the write deadline, without holding the lock
// while it blocks: writes made meanwhile are buffered and sent after.
func (wc *wsNetConn) flush() error {
	for {
		wc.wmu.Lock()
		b := wc.wbuf
		if b == nil {
			wc.flushing = false
			closing := wc.closeAfterFlush
			wc.wmu.Unlock()
			if closing {
				_ = wc.Conn.Close()
			}
			return nil
		}
		wc.wbuf = nil
		wc.flushing = true
		err := wc.applyDeadlineLocked()
		wc.wmu.Unlock()
		if err == nil {
			_, err = wc.Conn.Write(*b)
		}
		wc.wmu.Lock()
		wc.recycleLocked(b)
		if err != nil {
			wc.flushing = false
			closing := wc.closeAfterFlush
			wc.wmu.Unlock()
			if closing {
				_ = wc.Conn.Close()
			}
			return err
		}
		wc.wmu.Unlock()
	}
}

func (wc *wsNetConn) releaseLocked() {
	b := wc.wbuf
	wc.wbuf = nil
	wc.recycleLocked(b)
}

func (wc *wsNetConn) recycleLocked(b *[]byte) {
	if cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		wbufPool.Put(b)
	}
}

// Close leaves the poller before the file descriptor is closed, so that the descriptor,
// once reused by another connection, is never watched on this one's behalf.
//
// While a blocking write is in progress (flush), what was written meanwhile — a close frame,
// typically — waits in the buffer for it: the connection is then closed by flush once the
// buffer is sent, within closeFlushTimeout.
func (wc *wsNetConn) Close() error {
	if wc.poll != nil {
		wc.poll.unregister(wc)
	}
	wc.wmu.Lock()
	if wc.flushing {
		wc.closeAfterFlush = true
		wc.deadline = time.Now().Add(closeFlushTimeout)
		err := wc.Conn.SetWriteDeadline(wc.deadline) // also bounds the write in progress
		wc.applied = wc.deadline
		wc.wmu.Unlock()
		if err != nil {
			return wc.Conn.Close()
		}
		return nil
	}
	wc.wmu.Unlock()
	return wc.Conn.Close()
}

// closeFlushTimeout bounds the writes that a closed connection still makes (see Close).
const closeFlushTimeout = time.Second

// hijacker hands gorilla/websocket a wsNetConn and its reader at the hijack.
type hijacker struct {
	http.ResponseWriter
	poll *poller // nil where the platform has none
	// plain is set when the handshake cannot negotiate an extension (see wsNetConn.plain).
	plain bool
}

// offersDeflate reports whether a websocket handshake request offers permessage-deflate, which
// gorilla/websocket accepts when compression is enabled.
func offersDeflate(h http.Header) bool {
	for _, v := range h.Values("Sec-WebSocket-Extensions") {
		if strings.Contains(strings.ToLower(v), "permessage-deflate") {
			return true
		}
	}
	return false
}

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nc, brw, err
	}
	if brw.Reader.Buffered() > 0 {
		return nc, brw, nil // the upgrader refuses a client that sent data too early
	}
	wc := newWSNetConn(nc, h.poll)
	wc.plain = h.plain
	return wc, bufio.NewReadWriter(wc.br, brw.Writer), nil
}
