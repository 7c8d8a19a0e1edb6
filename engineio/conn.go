package engineio

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/engineio/parser"
	"github.com/echo-socketio/echo-socketio/internal/rawquery"
)

// CloseReason tells why a session closed. The values are those of the official server.
type CloseReason string

// The reasons a session closes for.
const (
	// ReasonTransportClose: the client closed the connection or sent a close packet.
	ReasonTransportClose CloseReason = "transport close"
	// ReasonTransportError: the transport failed (an aborted poll, overlapping requests, a
	// write that timed out, a message over the size limit).
	ReasonTransportError CloseReason = "transport error"
	// ReasonPingTimeout: the client did not answer a ping within PingTimeout.
	ReasonPingTimeout CloseReason = "ping timeout"
	// ReasonParseError: the client sent a packet that could not be decoded.
	ReasonParseError CloseReason = "parse error"
	// ReasonForcedClose: the application closed the session with Close.
	ReasonForcedClose CloseReason = "forced close"
	// ReasonServerShuttingDown: the server is shutting down (socketio.ReasonServerShuttingDown
	// has the same name and value).
	ReasonServerShuttingDown CloseReason = "server shutting down"
	// ReasonServerShutdown is the former name of ReasonServerShuttingDown.
	//
	// Deprecated: use ReasonServerShuttingDown.
	ReasonServerShutdown = ReasonServerShuttingDown
)

type connState uint8

const (
	stateOpen connState = iota
	stateClosing
	stateClosed
)

// outPacket is a packet waiting in a session's send queue.
type outPacket struct {
	pkt  parser.Packet
	prep *Prepared
}

// Conn is one Engine.IO session. Its methods are safe for concurrent use.
//
// The fields a send uses come first, on the first two cache lines of the struct (its size
// class, 256 bytes, keeps it aligned on them): a broadcast touches them in each of thousands
// of sessions, where each line is likely a cache miss.
type Conn struct {
	srv *Server

	// The fields below are guarded by mu, but for the atomics and those set at the handshake
	// and never changed (protocol, id, hs).
	mu    sync.Mutex
	state connState
	// base64 is set for a v3 client that asked, in its handshake, for binary data in base64
	// (b64): its polling payloads never use the binary framing.
	base64 bool
	// clientClosed is set when the client's close packet closed the session: a pending poll
	// is then released with a noop, not a close packet, as the official server does.
	clientClosed bool
	writing      bool // a websocket writer runs
	awaitingPong bool
	// protocol is the Engine.IO protocol revision of the session: 4, or 3 (AllowEIO3). It
	// never changes.
	protocol int
	// queue holds the packets waiting; it is nil when none is (a drained queue goes back to
	// the server's pool, see queuePool).
	queue []outPacket

	// Flush: taken counts the packets taken from the queue, written those a transport has
	// written (websocket) or put in a response (polling); flushed is closed when written grows.
	taken, written uint64
	flushed        chan struct{}

	ws *websocket.Conn // the websocket transport
	// wc is ws's connection when the session writes it from the sender's goroutine without
	// blocking (see directConn); nil otherwise. Set with ws, never changed after.
	wc *wsNetConn

	id string
	hs handshakeRecord // what is kept of the handshake request (see request.go)

	onMessage atomic.Pointer[func(data []byte, binary bool)]
	onClose   atomic.Pointer[func(reason CloseReason)]

	reason    CloseReason // the reason of a graceful close in progress
	transport string
	// done is made by the first Done and closed when the session closes; a session closed
	// before anyone asked returns closedChan.
	done chan struct{}

	// polling is the state of the polling transport and of the upgrade; nil for a session
	// that started on a websocket.
	polling *pollingState

	// delivery: one goroutine at a time hands the client's packets to the application, in
	// order, across transports and upgrades (see deliver).
	deliverMu  sync.Mutex
	delivering atomic.Int32 // a message handler is running (or waiting for room)

	// heartbeat
	hbTimer *time.Timer
	hbDue   time.Duration // since srv.epoch: when the heartbeat is due (see armHeartbeatLocked)
}

// pollingState is what a session that started on polling keeps for its polls and for its
// upgrade to websocket. Sessions that start on a websocket, most of them, have none.
type pollingState struct {
	active     bool // a GET is pending
	postActive bool // a POST is being read
	wake       chan struct{}
	closeTimer *time.Timer // a graceful close waiting for the next poll

	upgrading    bool
	probed       bool
	upgraded     bool
	probeWS      *websocket.Conn
	upgradeTimer *time.Timer
}

// queuePool keeps the drained send queues of a server's sessions for reuse by any session, so
// that an idle session keeps none. A queue travels in an outQueue box; the empty boxes are
// kept too, so that neither taking nor giving back a queue allocates.
type queuePool struct {
	full  sync.Pool // of *outQueue holding an empty queue
	boxes sync.Pool // of empty *outQueue
}

type outQueue struct{ pkts []outPacket }

func (p *queuePool) get() []outPacket {
	if q, _ := p.full.Get().(*outQueue); q != nil {
		pkts := q.pkts
		q.pkts = nil
		p.boxes.Put(q)
		return pkts
	}
	return make([]outPacket, 0, 4)
}

// put keeps pkts, which must be cleared, for reuse.
func (p *queuePool) put(pkts []outPacket) {
	q, _ := p.boxes.Get().(*outQueue)
	if q == nil {
		q = new(outQueue)
	}
	q.pkts = pkts[:0]
	p.full.Put(q)
}

func newConn(s *Server, r *http.Request, id, transport string) *Conn {
	protocol := 4
	if rawquery.Get(r.URL.RawQuery, "EIO") == "3" {
		protocol = 3
	}
	c := &Conn{
		srv:       s,
		id:        id,
		hs:        newHandshakeRecord(r),
		protocol:  protocol,
		base64:    rawquery.Get(r.URL.RawQuery, "b64") != "",
		transport: transport,
	}
	if transport == TransportPolling { // a websocket session never polls
		c.polling = &pollingState{wake: make(chan struct{}, 1)}
	}
	return c
}

// ID returns the session ID.
func (c *Conn) ID() string { return c.id }

// Transport returns the name of the transport in use: "polling" or "websocket".
func (c *Conn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// Protocol returns the Engine.IO protocol revision the client speaks: 4, or 3 for the clients
// that Options.AllowEIO3 lets in.
func (c *Conn) Protocol() int { return c.protocol }

// Done returns a channel that is closed when the session is closed.
func (c *Conn) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.doneLocked()
}

// closedChan is the Done channel of a session that closed before anyone asked for it.
var closedChan = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

func (c *Conn) doneLocked() chan struct{} {
	if c.done == nil {
		if c.state == stateClosed {
			return closedChan
		}
		c.done = make(chan struct{}) // most sessions are never asked: made on demand
	}
	return c.done
}

// pushLocked queues p, in a queue from the server's pool when none is in use.
func (c *Conn) pushLocked(p outPacket) {
	if cap(c.queue) == 0 {
		c.queue = c.srv.queues.get()
	}
	c.queue = append(c.queue, p)
}

// OnMessage sets the handler of the messages the client sends. It runs on the goroutine that
// read the message, one message at a time and in order, never on two goroutines at once, even
// while the session moves from polling to websocket. While it runs the session reads nothing
// else: a handler that blocks applies backpressure to the client (the TCP window of a
// websocket closes; a polling POST is answered later). A pong that is late because the handler
// was running does not close the session. A panic in the handler is recovered, reported to
// the server's error hook and closes the session. data belongs to the handler. On Linux, a
// websocket session closed while the handler runs may close its network connection only once
// the handler returns (the reader holds the connection's read lock meanwhile). Set it in the
// connection hook.
func (c *Conn) OnMessage(fn func(data []byte, binary bool)) { c.onMessage.Store(&fn) }

// OnClose sets the hook that runs once when the session closes, with the reason. Set it in
// the connection hook.
func (c *Conn) OnClose(fn func(reason CloseReason)) { c.onClose.Store(&fn) }

// Send queues a message for the client. Binary messages travel as binary websocket frames, or
// base64 on polling. The caller must not modify data afterwards. Send never blocks: it returns
// ErrQueueFull when MaxQueuedPackets are already waiting and ErrClosed after the session
// closed.
func (c *Conn) Send(data []byte, binary bool) error {
	return c.enqueue(outPacket{pkt: parser.Packet{Type: parser.Message, Data: data, Binary: binary}}, false)
}

// SendPrepared queues messages prepared once for many sessions, as a broadcast does. The
// messages are queued together, one after the other with nothing between them, or not at all.
// See Send for the errors.
func (c *Conn) SendPrepared(ps ...*Prepared) error {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return ErrClosed
	}
	if len(c.queue)+len(ps) > c.srv.opts.MaxQueuedPackets {
		c.mu.Unlock()
		return ErrQueueFull
	}
	if len(ps) == 1 && c.sendNowLocked(outPacket{pkt: ps[0].pkt, prep: ps[0]}) {
		return nil
	}
	for _, p := range ps {
		c.pushLocked(outPacket{pkt: p.pkt, prep: p})
	}
	ws, wc, batch := c.kickInlineLocked()
	c.mu.Unlock()
	if ws != nil {
		c.writeInline(ws, wc, batch)
	}
	return nil
}

// Flush waits until the messages queued so far are on their way to the client: written on a
// websocket, or in the body of the pending polling request's response. Messages queued
// afterwards travel in later writes or responses. On polling without a pending request (or
// while an upgrade pauses polling) it returns at once, and the messages wait for the next
// request together with those queued after them, as on the official server. It also returns
// when the session closes, and after WriteTimeout at most.
func (c *Conn) Flush() {
	var timer *time.Timer // made only when Flush has to wait, which a written queue does not
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	c.mu.Lock()
	target := c.taken + uint64(len(c.queue))
	for c.written < target && c.state == stateOpen && (c.transport == TransportWebsocket || c.polling.active) {
		if c.flushed == nil {
			c.flushed = make(chan struct{})
		}
		ch, done := c.flushed, c.doneLocked()
		c.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(c.srv.opts.WriteTimeout)
		}
		select {
		case <-ch:
		case <-done:
			return
		case <-timer.C:
			return
		}
		c.mu.Lock()
	}
	c.mu.Unlock()
}

// wroteLocked records that n packets taken from the queue were written, and wakes Flush.
func (c *Conn) wroteLocked(n int) {
	c.written += uint64(n)
	if c.flushed != nil {
		close(c.flushed)
		c.flushed = nil
	}
}

// Abort closes the session at once, dropping what is queued, with the reason
// "transport error". A server uses it on a client that cannot keep up.
func (c *Conn) Abort() { c.closeNow(ReasonTransportError) }

// Close flushes what is queued for the client, then closes the session with the reason
// "forced close".
func (c *Conn) Close() { c.closeGracefully(ReasonForcedClose) }

func (c *Conn) enqueue(p outPacket, control bool) error {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return ErrClosed
	}
	if !control && len(c.queue) >= c.srv.opts.MaxQueuedPackets {
		c.mu.Unlock()
		return ErrQueueFull
	}
	if c.sendNowLocked(p) {
		return nil
	}
	c.pushLocked(p)
	ws, wc, batch := c.kickInlineLocked()
	c.mu.Unlock()
	if ws != nil {
		c.writeInline(ws, wc, batch)
	}
	return nil
}

// kickInlineLocked is kickLocked for a caller that can write: when the websocket writer is
// idle and the connection can be written without blocking (c.wc), it marks the writer busy,
// takes the queue and returns the websocket, its connection and the batch, which the caller
// writes with writeInline after unlocking.
func (c *Conn) kickInlineLocked() (*websocket.Conn, *wsNetConn, []outPacket) {
	if c.wc != nil && !c.writing && len(c.queue) > 0 {
		c.writing = true
		return c.ws, c.wc, c.takeQueueLocked()
	}
	c.kickLocked()
	return nil, nil, nil
}

// kickLocked makes the transport send what is queued: it starts the websocket writer if it is
// not running, or wakes the pending poll.
func (c *Conn) kickLocked() {
	if c.transport == TransportWebsocket {
		if !c.writing && c.ws != nil && len(c.queue) > 0 {
			c.writing = true
			go c.writeLoop(c.ws)
		}
		return
	}
	select {
	case c.polling.wake <- struct{}{}:
	default:
	}
}

// takeQueueLocked returns the queued packets and leaves the queue empty (nil).
func (c *Conn) takeQueueLocked() []outPacket {
	batch := c.queue
	c.taken += uint64(len(batch))
	c.queue = nil
	return batch
}

// recycle gives a drained batch back to the server's pool, for the next queue of any session.
func (c *Conn) recycle(batch []outPacket) {
	clear(batch)
	c.recycleLocked(batch)
}

// recycleLocked is recycle for a caller that cleared batch (it may hold c.mu).
func (c *Conn) recycleLocked(batch []outPacket) {
	if cap(batch) > 0 && cap(batch) <= 256 {
		c.srv.queues.put(batch)
	}
}

// openPrefix starts the data of every open packet; the session ID follows, then the server's
// openTail for the transport.
const openPrefix = `{"sid":"`

// openTail returns what follows the session ID in the data of an open packet on a transport:
// the upgrades and the server's options. NewServer builds it once per transport.
func openTail(o *Options, transport string) string {
	upgrades := `[]`
	if transport == TransportPolling && !o.DisableUpgrades && o.allows(TransportWebsocket) {
		upgrades = `["websocket"]`
	}
	return `","upgrades":` + upgrades + `,"pingInterval":` + msString(o.PingInterval) +
		`,"pingTimeout":` + msString(o.PingTimeout) + `,"maxPayload":` + itoa64(o.MaxHTTPBufferSize) + `}`
}

func (c *Conn) sendOpen(transport string) {
	tail := c.srv.openTailWS
	if transport == TransportPolling {
		tail = c.srv.openTailPolling
	}
	data := make([]byte, 0, len(openPrefix)+len(c.id)+len(tail))
	data = append(append(append(data, openPrefix...), c.id...), tail...)
	_ = c.enqueue(outPacket{pkt: parser.Packet{Type: parser.Open, Data: data}}, true)
}

// onPacket handles one packet from the client.
func (c *Conn) onPacket(p parser.Packet) {
	switch p.Type {
	case parser.Message:
		if obs := c.srv.observed(); obs != nil {
			for _, o := range obs {
				if o.MessageReceived != nil {
					o.MessageReceived(c, len(p.Data))
				}
			}
		}
		if fn := c.onMessage.Load(); fn != nil {
			c.delivering.Add(1)
			ok := c.srv.protect("OnMessage", func() { (*fn)(p.Data, p.Binary) })
			c.delivering.Add(-1)
			if !ok {
				c.closeNow(ReasonTransportError)
			}
		}
	case parser.Pong:
		c.onPong()
	case parser.Ping:
		if c.protocol == 3 {
			c.onPingV3()
		}
	case parser.Close:
		// Only a polling client closes with a close packet; on a websocket the official
		// server ignores it (its clients close the websocket itself), and so does this one.
		c.mu.Lock()
		polling := c.transport == TransportPolling
		if polling && c.state != stateClosed {
			c.clientClosed = true
		}
		c.mu.Unlock()
		if polling {
			c.closeNow(ReasonTransportClose)
		}
	}
}

// closeGracefully flushes the queue, then closes the session with reason.
func (c *Conn) closeGracefully(reason CloseReason) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	c.state = stateClosing
	c.reason = reason
	c.stopTimersLocked()
	if c.transport == TransportWebsocket {
		ws := c.ws
		if c.writing || ws == nil {
			c.mu.Unlock() // the writer finishes the close when the queue is drained
			return
		}
		c.mu.Unlock()
		c.finishWebsocketClose(ws, reason)
		return
	}
	// Polling: the next poll takes the queue and the close packet. Without a poll within the
	// ping timeout the session closes all the same.
	c.polling.closeTimer = time.AfterFunc(c.srv.opts.PingTimeout, func() { c.closeNow(reason) })
	c.kickLocked()
	c.mu.Unlock()
}

// finishWebsocketClose closes the session once its queue is flushed; closeNow sends the close
// frame.
func (c *Conn) finishWebsocketClose(_ *websocket.Conn, reason CloseReason) {
	c.closeNow(reason)
}

// closeFrame is the close frame the server ends a websocket with: one without a status code,
// as the official server sends it, whatever the reason.
var closeFrame = []byte{}

func (c *Conn) stopTimersLocked() {
	if c.hbTimer != nil {
		c.hbTimer.Stop()
	}
	if c.polling != nil && c.polling.upgradeTimer != nil {
		c.polling.upgradeTimer.Stop()
	}
}

// closeNow closes the session at once and runs the close hook. It is idempotent.
func (c *Conn) closeNow(reason CloseReason) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	c.state = stateClosed
	c.stopTimersLocked()
	ws := c.ws
	var probe *websocket.Conn
	if c.polling != nil {
		if c.polling.closeTimer != nil {
			c.polling.closeTimer.Stop()
		}
		probe = c.polling.probeWS
		c.polling.probeWS = nil
	}
	c.queue = nil
	if c.done != nil {
		close(c.done)
	}
	c.mu.Unlock()
	if ws != nil {
		if reason != ReasonTransportClose { // otherwise the peer has gone already
			writeClose(ws, closeFrame)
		}
		_ = ws.Close()
	}
	if probe != nil {
		_ = probe.Close()
	}
	c.srv.unregister(c)
	for _, o := range c.srv.observed() {
		if o.SessionClosed != nil {
			o.SessionClosed(c, reason)
		}
	}
	if fn := c.onClose.Load(); fn != nil {
		c.srv.protect("OnClose", func() { (*fn)(reason) })
	}
}

// Prepared is a message encoded once for many sessions: a broadcast sends the same Prepared
// to every receiver, so the websocket frame is built once, not once per receiver.
type Prepared struct {
	pkt  parser.Packet
	once sync.Once
	pm   *websocket.PreparedMessage
	err  error

	onceV3 sync.Once // the websocket frame for v3 sessions, whose binary frames differ
	pmV3   *websocket.PreparedMessage
	errV3  error

	// The frames written by the session itself on a connection without extensions (see
	// wsNetConn.plain), for v4 and text frames, and for v3 binary frames.
	plainOnce, plainOnceV3 sync.Once
	plain, plainV3         []byte
}

// plainFrame returns the websocket frame of the message for a session of the given protocol
// revision whose connection negotiated no extension, built once.
func (p *Prepared) plainFrame(protocol int) []byte {
	if protocol == 3 && p.pkt.Binary {
		p.plainOnceV3.Do(func() { p.plainV3 = appendFrame(nil, p.pkt, 3) })
		return p.plainV3
	}
	p.plainOnce.Do(func() { p.plain = appendFrame(nil, p.pkt, 4) })
	return p.plain
}

// NewPrepared returns a message to send with Conn.SendPrepared. data must not be modified
// afterwards.
func NewPrepared(data []byte, binary bool) *Prepared {
	return &Prepared{pkt: parser.Packet{Type: parser.Message, Data: data, Binary: binary}}
}

func (p *Prepared) websocketMessage(protocol int) (*websocket.PreparedMessage, error) {
	if protocol == 3 {
		if !p.pkt.Binary {
			return p.websocketMessage(4) // text frames are the same
		}
		p.onceV3.Do(func() {
			frame, _ := parser.WebsocketFrameV3(nil, p.pkt)
			p.pmV3, p.errV3 = websocket.NewPreparedMessage(websocket.BinaryMessage, frame)
		})
		return p.pmV3, p.errV3
	}
	p.once.Do(func() {
		frame, binary := parser.WebsocketFrame(nil, p.pkt)
		mt := websocket.TextMessage
		if binary {
			mt = websocket.BinaryMessage
		}
		p.pm, p.err = websocket.NewPreparedMessage(mt, frame)
	})
	return p.pm, p.err
}
