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
	"sync/atomic"
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
// The write that does not block is a write(2) on the connection's file descriptor (wfd), not
// one through the net package, whose descriptor lock and poller bookkeeping cost as much as
// the rest of a delivery's userland work. It is safe because the descriptor cannot be closed,
// and reused by another connection, while such a write runs: the write runs under wmu with
// closed clear, and the connection is closed only by Close and flush, which set closed under
// wmu first (or, when they find the reader inside readDirect, by that reader afterwards).
// Nothing else closes the net.Conn: gorilla/websocket closes the wsNetConn it was given, and
// net/http forgets a hijacked connection.
//
// Reads. gorilla/websocket reads through the bufio.Reader handed to it at the hijack, so the
// session knows how many bytes it holds: a frame already in that buffer gets no readiness
// notification from the kernel and is read before the reader leaves the connection.

// readBufferSize is the size of a websocket connection's read buffer, kept for the life of
// the connection: a size class of the allocator just above the 256 bytes gorilla/websocket
// requires to reuse the buffered reader of the hijack. It holds a frame header (14 bytes at
// most) and small messages; larger payloads are read through it into the message.
const readBufferSize = 288

// wbufPool holds the write buffers of websocket connections between batches, so an idle
// connection keeps none.
var wbufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

type wsNetConn struct {
	// The write side, guarded by wmu: the fields a delivery uses come first, so that they
	// share a cache line.
	wmu sync.Mutex
	// wfd is the descriptor written by the writes that do not block, -1 when there is none
	// (no poller, or no descriptor): the writer then hands every batch to a goroutine.
	wfd  int
	wbuf *[]byte // pending bytes; nil when empty
	// plain is set when no extension was negotiated: the session then writes its data frames
	// to the buffer itself (writeFrames) rather than through gorilla/websocket. closeSent is
	// set when the close frame was sent; no data frame may follow it.
	plain     bool
	closeSent bool
	// closed is set, before the connection is closed, by Close or flush: no write on wfd
	// starts after it.
	closed bool
	// closeAfterFlush is set by Close during a blocking write: flush closes the connection.
	closeAfterFlush bool
	batch           bool
	flushing        bool // a blocking write runs, or is due (flush): writes are buffered
	// corked is set at the hijack of a handshake: the first Write (gorilla/websocket's
	// response to the upgrade) is then buffered and leaves with the first frame, the open
	// packet, in one system call.
	corked   bool
	deadline time.Time // the deadline of the next blocking write
	applied  time.Time // the write deadline set on the connection

	net.Conn
	raw syscall.RawConn // nil when the connection has no file descriptor (TLS, a wrapper)
	br  *bufio.Reader   // the reader gorilla/websocket reads through

	// readMu is held by the goroutine reading the connection: successive readers started by
	// the poller are ordered by it.
	readMu sync.Mutex
	// linger is the read deadline set by awaitData, as the time since the server's epoch
	// (zero: none); peeking is set while awaitData waits. Both belong to the goroutine that
	// holds readMu.
	linger  time.Duration
	peeking bool
	// direct is set while readDirect's callback reads (Read then reads fd without waiting);
	// drained records that its last read emptied the socket. They belong to the goroutine
	// that holds readMu.
	direct  bool
	drained bool
	// inDirect is set (under wmu) while the reader is inside readDirect's RawConn.Read, whose
	// descriptor lock a Close would wait for: Close then sets closeReq, and the reader closes
	// the connection when it leaves.
	inDirect bool
	closeReq atomic.Bool
	// poll is the server's poller, set when the connection has a file descriptor. The
	// registration is guarded by the poller's lock. unwatched is set by the first unregister
	// (Close, before the descriptor is closed): a registration after it would watch a
	// descriptor that may belong to another connection by then, and fails.
	poll       *poller
	token      uint64
	fd         int
	registered bool
	unwatched  bool
	onReadable func()
	// rstate is what the reader of a watched connection does (see readerstate.go); wake is
	// the channel it waits on, set by readDirect before it first waits.
	rstate atomic.Uint32
	wake   chan struct{}
}

func newWSNetConn(nc net.Conn, p *poller) *wsNetConn {
	wc := &wsNetConn{Conn: nc, wfd: -1}
	if sc, ok := nc.(syscall.Conn); ok && p != nil {
		if _, isTCP := nc.(*net.TCPConn); isTCP {
			if raw, err := sc.SyscallConn(); err == nil {
				wc.raw = raw
				wc.poll = p
				_ = raw.Control(func(fd uintptr) { wc.wfd, wc.fd = int(fd), int(fd) })
			}
		}
	}
	wc.br = bufio.NewReaderSize(wc, readBufferSize)
	return wc
}

// awaitData waits, for at least d and at most 2d after the previous call, for data to read,
// without consuming it, and reports whether some arrived (or the connection failed, which the
// next read reports). The read deadline it sets is moved only when less than d is left, so a
// client that sends often costs a deadline change every d or so, not two per message; the
// check reads the monotonic clock alone (time.Since of epoch, the server's start, which has a
// monotonic reading), not the wall clock as well. Reads of a frame that the deadline
// interrupts go on without one (see Read), and the deadline is clear again when awaitData
// reports false.
func (wc *wsNetConn) awaitData(d time.Duration, epoch time.Time) bool {
	if now := time.Since(epoch); wc.linger-now < d {
		wc.linger = now + 2*d
		if err := wc.Conn.SetReadDeadline(epoch.Add(wc.linger)); err != nil {
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
	wc.linger = 0
	return wc.Conn.SetReadDeadline(time.Time{})
}

// Read reads from the connection for the bufio.Reader gorilla/websocket reads through. The
// read deadline of awaitData only bounds the wait for a message: when it interrupts the read
// of a frame, the deadline is cleared and the read goes on, so a message that arrives in parts
// is read without one.
func (wc *wsNetConn) Read(p []byte) (int, error) {
	if wc.direct {
		return wc.readFD(p)
	}
	n, err := wc.Conn.Read(p)
	if err != nil && !wc.peeking && wc.linger != 0 && errors.Is(err, os.ErrDeadlineExceeded) {
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
// writes it at once otherwise. The first Write of a corked connection is buffered too (see
// corked); a Write that finds it still buffered sends both.
func (wc *wsNetConn) Write(p []byte) (int, error) {
	wc.wmu.Lock()
	if wc.batch || wc.flushing || wc.corked {
		wc.corked = false
		if wc.wbuf == nil {
			wc.wbuf = wbufPool.Get().(*[]byte)
		}
		*wc.wbuf = append(*wc.wbuf, p...)
		wc.wmu.Unlock()
		return len(p), nil
	}
	if wc.wbuf != nil { // the response to the upgrade, which no frame has taken along yet
		*wc.wbuf = append(*wc.wbuf, p...)
		wc.wmu.Unlock()
		if err := wc.flush(); err != nil {
			return 0, err
		}
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
// the caller must then call. The deadline of a write that blocks is the one gorilla/websocket
// set.
func (wc *wsNetConn) endBatch(nonblocking bool) (sent bool, err error) {
	wc.wmu.Lock()
	wc.batch = false
	return wc.sendLocked(nonblocking, 0)
}

// errCloseSent is the error of a write of data frames after the close frame.
var errCloseSent = errors.New("engineio: websocket close frame sent")

// errWriteClosed is the error of a write that does not block on a closed connection.
var errWriteClosed = fmt.Errorf("engineio: write: %w", net.ErrClosed)

// writeFrames writes the data frames of a batch of packets, built in the buffer, and sends the
// buffer as endBatch does, all under one lock. It is the batch of a connection without
// extensions (plain), whose frames need no help from gorilla/websocket: a server's frames are
// not masked. A write that blocks, or is left to flush, has the deadline timeout from the
// moment it is found to block. A single prepared message with nothing buffered before it is
// written from its frame, without a copy.
func (wc *wsNetConn) writeFrames(batch []outPacket, protocol int, timeout time.Duration, nonblocking bool) (sent bool, err error) {
	wc.wmu.Lock()
	if wc.closeSent || wc.closed {
		wc.wmu.Unlock()
		if wc.closeSent {
			return false, errCloseSent
		}
		return false, errWriteClosed
	}
	if len(batch) == 1 && batch[0].prep != nil && wc.wbuf == nil && nonblocking && wc.wfd >= 0 && !wc.flushing {
		frame := batch[0].prep.plainFrame(protocol)
		n, err := writeFD(wc.wfd, frame)
		if err != nil {
			wc.wmu.Unlock()
			return false, fmt.Errorf("engineio: write: %w", err)
		}
		if n == len(frame) {
			wc.wmu.Unlock()
			return true, nil
		}
		wc.wbuf = wbufPool.Get().(*[]byte)
		*wc.wbuf = append(*wc.wbuf, frame[n:]...)
		wc.flushing = true // until flush: other writes queue behind the rest
		wc.blockingDeadlineLocked(timeout)
		wc.wmu.Unlock()
		return false, nil
	}
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
	return wc.sendLocked(nonblocking, timeout)
}

// stopFrames makes writeFrames fail from now on: the close frame is about to be sent.
func (wc *wsNetConn) stopFrames() {
	wc.wmu.Lock()
	wc.closeSent = true
	wc.wmu.Unlock()
}

// blockingDeadlineLocked sets the deadline of a write that is about to block: timeout from
// now, unless timeout is zero (the deadline gorilla/websocket set stays) or Close has set a
// shorter one.
func (wc *wsNetConn) blockingDeadlineLocked(timeout time.Duration) {
	if timeout > 0 && !wc.closeAfterFlush {
		wc.deadline = time.Now().Add(timeout)
	}
}

// sendLocked sends the buffer for endBatch and writeFrames, and unlocks wc.wmu. A write that
// blocks has the deadline timeout (see blockingDeadlineLocked).
func (wc *wsNetConn) sendLocked(nonblocking bool, timeout time.Duration) (sent bool, err error) {
	if wc.wbuf == nil {
		wc.wmu.Unlock()
		return true, nil
	}
	if !nonblocking {
		wc.blockingDeadlineLocked(timeout)
		wc.wmu.Unlock()
		return true, wc.flush()
	}
	defer wc.wmu.Unlock()
	if wc.closed {
		return false, errWriteClosed
	}
	if wc.wfd < 0 {
		wc.flushing = true
		wc.blockingDeadlineLocked(timeout)
		return false, nil
	}
	b := *wc.wbuf
	n, err := writeFD(wc.wfd, b)
	if err != nil {
		return false, fmt.Errorf("engineio: write: %w", err)
	}
	if n < len(b) {
		*wc.wbuf = b[:copy(b, b[n:])]
		wc.flushing = true // until flush: other writes queue behind the rest
		wc.blockingDeadlineLocked(timeout)
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
			wc.closed = wc.closed || closing
			wc.wmu.Unlock()
			if closing {
				_ = wc.closeConn()
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
			wc.closed = wc.closed || closing
			wc.wmu.Unlock()
			if closing {
				_ = wc.closeConn()
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
// once reused by another connection, is never watched on this one's behalf, and sets closed
// under wmu, so that no write on the descriptor runs when it is closed or starts after.
//
// While a blocking write is in progress (flush), what was written meanwhile — a close frame,
// typically — waits in the buffer for it: the connection is then closed by flush once the
// buffer is sent, within closeFlushTimeout.
func (wc *wsNetConn) Close() error {
	if wc.poll != nil {
		wc.poll.unregister(wc)
	}
	wc.wmu.Lock()
	if wc.flushing && !wc.closed {
		wc.closeAfterFlush = true
		wc.deadline = time.Now().Add(closeFlushTimeout)
		err := wc.Conn.SetWriteDeadline(wc.deadline) // also bounds the write in progress
		wc.applied = wc.deadline
		if err == nil {
			wc.wmu.Unlock()
			return nil
		}
	}
	if wc.wbuf != nil && wc.wfd >= 0 && !wc.flushing && !wc.closed {
		// The response to the upgrade, held for a first frame that never came: it goes if
		// the socket takes it at once, so that the client sees the handshake end before the
		// connection does.
		_, _ = writeFD(wc.wfd, *wc.wbuf)
		wc.releaseLocked()
	}
	wc.closed = true
	wc.wmu.Unlock()
	return wc.closeConn()
}

// closeConn closes the network connection, or, while the reader is inside readDirect (whose
// descriptor lock net.Conn.Close would wait for, and the caller may be the reader itself),
// leaves that to the reader: it marks the connection and wakes the reader's wait (on its wake
// channel, or with a read deadline in the past for a wait inside the read). The reader may be
// delivering a message meanwhile; it closes the connection once the delivery returns.
func (wc *wsNetConn) closeConn() error {
	wc.wmu.Lock()
	if wc.inDirect {
		wc.closeReq.Store(true)
		wc.wmu.Unlock()
		wc.wakeReader()
		_ = wc.Conn.SetReadDeadline(time.Unix(1, 0))
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
	// cork holds the response to the upgrade back until the first frame (see
	// wsNetConn.corked): set for a handshake, whose open packet follows at once, not for the
	// upgrade of a polling session, whose client waits for the response before it probes.
	cork bool
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
	wc.plain, wc.corked = h.plain, h.cork && h.plain
	brw.Reader = wc.br // brw is made for this hijack: no other reader of it
	return wc, brw, nil
}
