//go:build linux

package engineio

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Waiting for the next message without a read that fails. Go's network poller resets the
// readiness it recorded for a connection at the start of every read (poll.FD.Read and
// syscall.RawConn.Read alike), so a reader that has drained the socket and wants to wait for
// more has to try a read first: in a closed loop of requests and answers that read returns
// EAGAIN once per message, a system call for nothing. Inside one syscall.RawConn.Read the
// readiness is reset once, before its callback first runs; from then on every arrival of data
// is recorded until the callback, returning false, waits for it. So the session reads the
// messages of a lingering connection of its own inside one RawConn.Read: the callback reads
// with a system call that does not wait, delivers the whole messages it finds in the read
// buffer, and when a read returned less than it asked for (the kernel's receive queue of a TCP
// socket was empty then), it waits for the next arrival without another read. Data that
// arrived meanwhile was recorded and ends the wait at once.
//
// The callback holds the descriptor's read lock, which net.Conn.Close waits for: a Close while
// the reader is inside it (the reader's own, after a close frame; or the application's, from
// a handler) marks the connection to be closed by the reader when it leaves, and wakes it with
// a read deadline in the past (see wsNetConn.Close).

// errWouldBlock is what wsNetConn.Read returns inside the callback when the socket has nothing.
var errWouldBlock = errors.New("engineio: read would block")

// readResult says how readDirect ended.
type readResult uint8

const (
	readIdle   readResult = iota // no message within the linger: watch the connection again
	readUsual                    // read the next message the usual way (in parts, or large)
	readClosed                   // the session or the connection closed
)

// readDirect delivers the messages of a plain websocket connection as they arrive, inside one
// syscall.RawConn.Read, until none came within linger, a message does not fit the read buffer
// or arrived in part when the wait ended, or the connection closed.
//
// With first (the handshake's goroutine, before the connection is watched), it waits for data
// inside the read, the linger being a read deadline (as awaitData sets it), and it also ends,
// as readIdle, once it delivered a message, when it is about to wait for data with nothing in
// the read buffer. Without first (the reader of a watched connection, in state readerRunning),
// it waits on its wake channel for the poller's events (see readerstate.go); readIdle then
// means that the linger passed and the connection has no reader any more.
//
// The caller holds wc.readMu; the read buffer is empty.
func (c *Conn) readDirect(ws *websocket.Conn, wc *wsNetConn, linger time.Duration, first bool) readResult {
	epoch := c.srv.epoch
	if first {
		if err := wc.moveLinger(linger, epoch); err != nil {
			return readUsual // the connection failed: the usual read reports it
		}
	}
	wc.wmu.Lock()
	wc.inDirect = true
	wc.wmu.Unlock()

	d := directReads.Get().(*directRead)
	d.c, d.ws, d.wc, d.linger, d.first, d.res, d.epoch = c, ws, wc, linger, first, readIdle, epoch
	if !first {
		wc.wake = d.wake
		d.last = time.Since(epoch)
		d.cur.Store(wc)
	}
	wc.drained = false
	err := wc.raw.Read(d.fn)
	res := d.res
	d.reset()
	directReads.Put(d)

	wc.wmu.Lock()
	wc.inDirect = false
	closeReq := wc.closeReq.Load()
	wc.wmu.Unlock()
	if closeReq {
		_ = wc.Conn.Close()
		if res != readClosed {
			c.closeNow(ReasonTransportClose)
		}
		return readClosed
	}
	if res == readIdle && err == nil { // first delivered its messages, or the reader leaves
		if wc.linger != 0 {
			_ = wc.clearLinger()
		}
		return readIdle
	}
	if res != readIdle {
		return res
	}
	if !first {
		return readUsual // the read failed before the callback ran: the usual read reports it
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return readUsual // the connection failed: the usual read reports it
	}
	if wc.br.Buffered() > 0 {
		// A message that arrived in part: the usual read waits for the rest, as awaitData's
		// caller does.
		return readUsual
	}
	_ = wc.clearLinger()
	return readIdle
}

// directRead is the state of a readDirect, which its callback (fn, made once, so that a
// readDirect allocates nothing) works with.
type directRead struct {
	c      *Conn
	ws     *websocket.Conn
	wc     *wsNetConn
	linger time.Duration
	first  bool // end at the next wait for data once a message is delivered (done)
	done   bool // first's message was delivered
	res    readResult
	fn     func(uintptr) bool

	// The wait of a watched connection's reader (without first): wake is the channel it
	// waits on (wsNetConn.wake), and last is when the reader last delivered a message, as
	// the time since epoch. timer wakes the reader (cur) once the linger may have passed;
	// armed is set while it is due. The timer is set once per wait, or once per two lingers
	// or so while messages flow, so a message costs no timer change and the wait is a plain
	// receive.
	wake  chan struct{}
	last  time.Duration
	epoch time.Time
	timer *time.Timer
	armed atomic.Bool
	cur   atomic.Pointer[wsNetConn]
}

// directReads holds the directRead of the readers that are not inside readDirect, with their
// wake channel and timer.
var directReads = sync.Pool{New: func() any {
	d := &directRead{wake: make(chan struct{}, 1)}
	d.timer = time.AfterFunc(time.Hour, d.lingerPassed)
	d.timer.Stop()
	d.fn = d.callback
	return d
}}

// lingerPassed is the timer's function: it wakes the reader, which looks at the time since its
// last message. A call that comes late, after the reader left, wakes another reader of the
// connection or of the next one to use d: a wake-up it handles as data that was not there.
func (d *directRead) lingerPassed() {
	d.armed.Store(false)
	if wc := d.cur.Load(); wc != nil {
		wc.wakeReader()
	}
}

// reset clears d for the pool; it keeps the callback, the wake channel (empty: a reader
// receives every value sent to it) and the timer, stopped.
func (d *directRead) reset() {
	d.cur.Store(nil)
	if d.armed.Load() {
		d.timer.Stop()
		d.armed.Store(false)
	}
	d.c, d.ws, d.wc, d.linger, d.first, d.done, d.res = nil, nil, nil, 0, false, false, readIdle
	d.last, d.epoch = 0, time.Time{}
}

// callback is readDirect's syscall.RawConn.Read callback; see readDirect.
func (d *directRead) callback(uintptr) bool {
	c, ws, wc := d.c, d.ws, d.wc
	wc.direct = true // the descriptor read is wc.fd, the one the poller watches
	defer func() { wc.direct = false }()
	for {
		switch wc.buffered() {
		case bufferedMessage:
			if !c.readOne(ws) {
				d.res = readClosed
				return true
			}
			if !d.first {
				d.last = time.Since(d.epoch)
				continue
			}
			d.done = true // the next wait for data ends the read
			if wc.moveLinger(d.linger, d.epoch) != nil {
				d.res = readUsual
				return true
			}
			continue
		case bufferedControl:
			if err := wc.readControl(ws); err != nil {
				c.closeNow(ReasonTransportClose) // a close frame, or one that breaks the protocol
				d.res = readClosed
				return true
			}
			continue
		case bufferedTooBig:
			d.res = readUsual
			return true
		}
		switch {
		case wc.closeReq.Load():
			return true
		case wc.drained:
			wc.drained = false
			if d.first {
				return d.stop() // wait for the next arrival
			}
			if !d.await() {
				return true
			}
			continue
		}
		if _, err := wc.br.Peek(wc.br.Buffered() + 1); err != nil {
			if errors.Is(err, errWouldBlock) {
				if d.first {
					return d.stop()
				}
				if !d.await() {
					return true
				}
				continue
			}
			d.res = readUsual // the usual read reports the failure (bufio.Reader forgets it)
			return true
		}
	}
}

// await waits for the next arrival on a watched connection (see wait): it reports true when
// the reader reads again, and false, with res set, when the callback returns.
func (d *directRead) await() bool {
	switch d.wait() {
	case waitWoken:
		return true
	case waitIdle:
		d.res = readIdle
	default:
		d.res = readUsual
	}
	return false
}

// What wait reports.
const (
	waitWoken = iota // data arrived, or the reader must look at closeReq
	waitIdle         // the linger passed: the connection has no reader any more
	waitUsual        // the linger passed with part of a message in the read buffer
)

// wait is the wait for data of a watched connection's reader, after its last read found the
// socket empty: it moves the state to readerWaiting (unless an event came since that read)
// and waits on the wake channel until the poller, a Close or the timer wakes it. When the
// timer ran out and linger passed since the last message, it ends the wait instead (see
// expire).
func (d *directRead) wait() int {
	wc := d.wc
	if !wc.rstate.CompareAndSwap(readerRunning, readerWaiting) {
		wc.rstate.Store(readerRunning) // readerEvent: an event came since the last read
		return waitWoken
	}
	if wc.closeReq.Load() { // a Close that found the reader running
		return d.unwait(waitWoken)
	}
	if !d.armed.Load() {
		// The clock is read only here, when the timer is not due: at the reader's first
		// wait, and after the timer ran out, about once per two lingers while messages flow.
		left := d.linger - (time.Since(d.epoch) - d.last)
		if left <= 0 {
			return d.expire()
		}
		// Due up to a linger late, as the read deadline of awaitData: a busy connection's
		// timer then runs out once per two lingers or so, not once per linger.
		d.armed.Store(true)
		d.timer.Reset(left + d.linger)
	}
	<-d.wake
	return waitWoken
}

// expire ends a wait whose linger passed: the reader leaves (readerNone) when nothing is
// buffered, or reads the rest of a message the usual way; an event that came first wins.
func (d *directRead) expire() int {
	if d.wc.br.Buffered() > 0 {
		return d.unwait(waitUsual)
	}
	if d.wc.rstate.CompareAndSwap(readerWaiting, readerNone) {
		return waitIdle
	}
	<-d.wake // an event moved the state to readerRunning, and sends
	return waitWoken
}

// unwait moves the state back from readerWaiting to readerRunning, or receives the wake-up of
// the event that did so first, and returns r.
func (d *directRead) unwait(r int) int {
	if !d.wc.rstate.CompareAndSwap(readerWaiting, readerRunning) {
		<-d.wake
	}
	return r
}

// stop is the callback's answer when it is about to wait for data: true (with res readIdle)
// once first's message was delivered and the read buffer is empty, false (wait) otherwise.
func (d *directRead) stop() bool {
	return d.done && d.wc.br.Buffered() == 0
}

// moveLinger sets the read deadline of the linger, as awaitData does: it is moved only when
// less than d of it is left.
func (wc *wsNetConn) moveLinger(d time.Duration, epoch time.Time) error {
	if now := time.Since(epoch); wc.linger-now < d {
		wc.linger = now + 2*d
		return wc.Conn.SetReadDeadline(epoch.Add(wc.linger))
	}
	return nil
}

// readFD is wsNetConn.Read inside readDirect's callback: one read that does not wait. It
// records whether the read drained the socket.
func (wc *wsNetConn) readFD(p []byte) (int, error) {
	for {
		n, err := syscall.Read(wc.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			wc.drained = false
			return 0, errWouldBlock
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0 && len(p) > 0:
			return 0, errEOFDirect
		}
		wc.drained = n < len(p)
		return n, nil
	}
}

// errEOFDirect ends readDirect when the client closed its side; the usual read then reads the
// end of the stream again and reports it.
var errEOFDirect = errors.New("engineio: end of stream")

// What the read buffer holds, for readDirect.
const (
	bufferedPart    = iota // part of a message, with room for more
	bufferedMessage        // a whole data message (after any control frames between its fragments), or a frame refused from its header
	bufferedControl        // a whole control frame, before any message
	bufferedTooBig         // part of a message that does not fit the buffer
)

// buffered tells what the read buffer holds; readPlainMessage and readControl read only what
// it reports whole, so they never need a read that would wait.
func (wc *wsNetConn) buffered() int {
	b, _ := wc.br.Peek(wc.br.Buffered())
	size := int64(wc.br.Size())
	part := bufferedPart
	if int64(len(b)) >= size {
		part = bufferedTooBig
	}
	for first := true; ; first = false {
		if len(b) < 2 {
			return part
		}
		op, masked, n := int(b[0]&0x0f), b[1]&0x80 != 0, int64(b[1]&0x7f)
		final, control := b[0]&0x80 != 0, op >= websocket.CloseMessage
		if b[0]&0x70 != 0 || !masked || op > websocket.PongMessage ||
			(op > websocket.BinaryMessage && !control) || (control && (n > maxControlPayload || !final)) {
			return bufferedMessage // readPlainMessage refuses it from its header
		}
		hl := int64(2)
		switch n {
		case 126:
			if len(b) < 4 {
				return part
			}
			n, hl = int64(b[2])<<8|int64(b[3]), 4
		case 127:
			if len(b) < 10 {
				return part
			}
			n, hl = 0, 10
			for _, x := range b[2:10] {
				n = n<<8 | int64(x)
			}
			if n < 0 || n > size {
				return bufferedTooBig // the usual read checks the limit
			}
		}
		total := hl + 4 + n
		if total > int64(len(b)) {
			if total > size {
				return bufferedTooBig
			}
			return part
		}
		switch {
		case control && first:
			return bufferedControl
		case !control && final:
			return bufferedMessage
		}
		b = b[total:]
	}
}

// readControl reads the control frame at the start of the read buffer, which buffered
// reported whole, and handles it as readPlainMessage does.
func (wc *wsNetConn) readControl(ws *websocket.Conn) error {
	h, _ := wc.br.Peek(6)
	op, n := int(h[0]&0x0f), int(h[1]&0x7f)
	key := [4]byte(h[2:6])
	_, _ = wc.br.Discard(6)
	return wc.readControlPayload(ws, op, n, key)
}
