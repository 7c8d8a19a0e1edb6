package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/socketio/msgpackparser"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// client is one Engine.IO connection and the sockets it opened, one per namespace.
type client struct {
	server *Server
	conn   *engineio.Conn
	dec    packetDecoder // used by the connection's reading goroutine only

	mu           sync.Mutex
	sockets      []*Socket          // connected, in the order they connected
	byName       map[string]*Socket // the same by namespace, made when there are many
	pending      map[string]bool    // namespaces whose CONNECT is being handled
	connectTimer *time.Timer

	// The inbox runs the application's code (middlewares, hooks, event handlers) in order,
	// on a goroutine that exists only while there is work. The packets in it are bounded in
	// number and bytes (admit); the disconnect hooks are not, as there is one per socket.
	inbox      []inboxItem
	inboxCount int
	inboxBytes int64
	room       chan struct{} // made when admit first waits; signalled when a counted item left the inbox
	running    bool
	finished   bool // closed, and the inbox has run dry: the server no longer waits

	closed bool // the connection closed (with the flags above, so that they share a word)
}

// inboxItem is a piece of work for the inbox: the handling of a packet (size >= 0, counted
// against the bounds) or a hook (size < 0). It is an EVENT packet's when ev is set, fn's
// otherwise.
type inboxItem struct {
	fn   func()
	ev   *eventTask
	size int64
}

// eventTask is the handling of an EVENT packet, and the state of its acknowledgement: one
// allocation per event serves the inbox, the event's arguments (when there are at most
// eventArgsInline, the name included), the []json.RawMessage of a JSON-only handler, and the
// Ack handed to the handler. A task is never reused: the handler may keep its arguments.
type eventTask struct {
	s     *Socket
	state atomic.Uint64 // the ack id, and the flags taskHasID and taskAcked
	args  Args          // the elements of the payload, the event name first; in argv when they fit
	argv  [eventArgsInline]Arg
	raw   [eventArgsInline - 1]json.RawMessage // room for the arguments of a JSON-only handler
}

// eventArgsInline is the number of payload elements an eventTask holds without another
// allocation: the event name and one argument, the most common event.
const eventArgsInline = 2

// The flags of eventTask.state, above the ack id (at most parser.MaxAckID, 53 bits).
const (
	taskHasID = 1 << 62 // the event asked for an acknowledgement
	taskAcked = 1 << 63 // the acknowledgement was sent
)

func (t *eventTask) run() { t.s.onEvent(t) }

// hasID reports whether the event asked for an acknowledgement.
func (t *eventTask) hasID() bool { return t.state.Load()&taskHasID != 0 }

// ack is the Ack of an event that asked for one: it sends the ACK packet the first time.
func (t *eventTask) ack(args ...any) error {
	st := t.state.Load()
	for {
		if st&taskAcked != 0 {
			return ErrAlreadyAcked
		}
		if t.state.CompareAndSwap(st, st|taskAcked) {
			break
		}
		st = t.state.Load()
	}
	return t.s.sendAck(st&parser.MaxAckID, args)
}

// runnerJob hands a client to the goroutine that runs its inbox, with the first item, which
// did not go through the inbox: the inbox is empty while no goroutine runs it. The zero job
// tells a waiting runner to end.
type runnerJob struct {
	c     *client
	first inboxItem
}

func newClient(s *Server, c *engineio.Conn) {
	cl := &client{
		server: s,
		conn:   c,
		dec:    s.newDecoder(),
	}
	s.clientStarted()
	cl.connectTimer = time.AfterFunc(s.opts.ConnectTimeout, cl.onConnectTimeout)
	c.OnMessage(cl.onMessage)
	c.OnClose(func(reason engineio.CloseReason) { cl.onClose(DisconnectReason(reason)) })
	if cl.isV3() {
		cl.onPacket(&parser.Packet{Type: parser.Connect, Namespace: parser.MainNamespace})
	}
}

func (c *client) onConnectTimeout() {
	c.mu.Lock()
	idle := len(c.sockets) == 0 && len(c.pending) == 0 && !c.closed
	c.mu.Unlock()
	if idle {
		c.conn.Close()
	}
}

// dispatch queues fn on the inbox; size is the bytes of the packet it handles, counted by a
// successful admit before, or -1 for work that is not counted.
func (c *client) dispatch(fn func(), size int64) { c.queue(inboxItem{fn: fn, size: size}) }

// queue queues the work it on the inbox, or hands it to a goroutine that runs the inbox when
// none does: the inbox is then empty, so it goes first.
func (c *client) queue(it inboxItem) {
	c.mu.Lock()
	if c.running {
		if c.inbox == nil {
			c.inbox = make([]inboxItem, 0, 4) // room for a burst without regrowing
		}
		c.inbox = append(c.inbox, it)
		c.mu.Unlock()
		return
	}
	c.running = true
	c.mu.Unlock()
	job := runnerJob{c: c, first: it}
	if r := c.server.runners.take(); r != nil {
		r.jobs <- job // r waits for it: the channel's one slot is free
		return
	}
	go runInboxes(&c.server.runners, job)
}

// runnerLinger is how long (at least; at most twice that) a goroutine that ran an inbox waits
// for another inbox with work before it ends. Handing work to such a goroutine costs a wake-up
// instead of a goroutine start and the growth of a new goroutine's stack (handlers, encoders
// and the engine's send path need several KiB of it), which dominated the cost of a request
// and its ack. A waiting goroutine holds no connection: an idle server has none once the
// linger is over.
const runnerLinger = 20 * time.Millisecond

// runnerPool holds the goroutines that ran an inbox and wait for another. The one that waited
// least is handed the next inbox, so the goroutines beyond what the load needs end after
// their linger. A waiting goroutine receives on a channel of its own, and its linger is a
// timer checked every runnerLinger, not moved at each inbox: handing an inbox over costs a
// lock and a channel send to a parked receiver, without a select or a timer change.
type runnerPool struct {
	mu   sync.Mutex
	idle []*runner // waiting, the most recent last
}

// runner is a goroutine that runs inboxes (runInboxes).
type runner struct {
	pool  *runnerPool
	jobs  chan runnerJob // one slot: a job or the zero job is sent only to a runner taken from idle
	timer *time.Timer
	// Guarded by pool.mu: waiting is set while the runner is in idle; served counts the
	// inboxes it ran, seen is served at the last check of its linger; armed is set while the
	// timer runs (it stops while the runner runs an inbox, so a long handler costs no timer).
	waiting      bool
	armed        bool
	served, seen uint64
}

// take returns a waiting runner, taken out of the pool, or nil.
func (p *runnerPool) take() *runner {
	p.mu.Lock()
	n := len(p.idle)
	if n == 0 {
		p.mu.Unlock()
		return nil
	}
	r := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	r.waiting = false
	p.mu.Unlock()
	return r
}

// wait puts r in the pool after it ran an inbox.
func (p *runnerPool) wait(r *runner) {
	p.mu.Lock()
	r.served++
	r.waiting = true
	p.idle = append(p.idle, r)
	switch {
	case r.timer == nil: // under the lock expire reads it with
		r.timer = time.AfterFunc(runnerLinger, r.expire)
		r.armed = true
	case !r.armed:
		r.seen = r.served
		r.timer.Reset(runnerLinger)
		r.armed = true
	}
	p.mu.Unlock()
}

// expire is r's linger timer: a runner that waited through a whole period without running an
// inbox leaves the pool and is told to end; one that ran an inbox since the last period waits
// another; one that runs an inbox now lets the timer stop, and wait arms it again.
func (r *runner) expire() {
	p := r.pool
	p.mu.Lock()
	switch {
	case !r.waiting:
		r.armed = false
		p.mu.Unlock()
		return
	case r.served != r.seen:
		r.seen = r.served
		r.timer.Reset(runnerLinger)
		p.mu.Unlock()
		return
	}
	i := slices.Index(p.idle, r)
	p.idle = slices.Delete(p.idle, i, i+1)
	r.waiting = false
	r.armed = false
	p.mu.Unlock()
	r.jobs <- runnerJob{}
}

// runInboxes runs the inbox of the client of job, then the inboxes handed to it, until it
// waited runnerLinger for one in vain.
func runInboxes(p *runnerPool, job runnerJob) {
	r := &runner{pool: p, jobs: make(chan runnerJob, 1)}
	for job.c != nil {
		job.c.run(&job.first)
		job.c.drain()
		p.wait(r)
		job = <-r.jobs
	}
}

// admit waits until the inbox has room for a packet of size bytes and reserves it. It returns
// false when the connection closed meanwhile, or when the wait took longer than
// Options.InboxTimeout, in which case the connection is closed.
func (c *client) admit(size int64) bool {
	o := &c.server.opts
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	c.mu.Lock()
	for c.inboxCount > 0 && (c.inboxCount >= o.MaxInboxPackets || c.inboxBytes+size > o.MaxInboxBytes) {
		if c.closed {
			c.mu.Unlock()
			return false
		}
		if c.room == nil { // made under the lock that run takes to give room back: no signal is lost
			c.room = make(chan struct{}, 1)
		}
		room := c.room
		c.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(o.InboxTimeout)
		}
		select {
		case <-room:
		case <-c.conn.Done():
			return false
		case <-timer.C:
			c.close(ReasonInboxTimeout, false)
			return false
		}
		c.mu.Lock()
	}
	c.inboxCount++
	c.inboxBytes += size
	c.mu.Unlock()
	return true
}

// inboxReused is the capacity of the largest inbox kept for reuse while its goroutine runs.
const inboxReused = 64

func (c *client) drain() {
	c.mu.Lock()
	for len(c.inbox) > 0 {
		batch := c.inbox
		c.inbox = nil
		c.mu.Unlock()
		for i := range batch {
			c.run(&batch[i]) // clears the item
		}
		c.mu.Lock()
		if c.inbox == nil && cap(batch) <= inboxReused {
			c.inbox = batch[:0] // for what comes while this goroutine runs the inbox
		}
	}
	c.running = false
	c.inbox = nil // an idle client keeps no inbox
	finish := c.finishLocked()
	c.mu.Unlock()
	if finish {
		c.server.clientFinished()
	}
}

// run does the work it of the inbox, and gives back what it held of the inbox's bounds.
func (c *client) run(it *inboxItem) {
	if it.ev != nil {
		it.ev.run()
	} else {
		it.fn()
	}
	size := it.size
	*it = inboxItem{}
	if size < 0 {
		return
	}
	c.mu.Lock()
	c.inboxCount--
	c.inboxBytes -= size
	room := c.room // nil while admit never waited
	c.mu.Unlock()
	if room != nil {
		select {
		case room <- struct{}{}:
		default:
		}
	}
}

// finishLocked reports, once, that the client is closed and has no work left: its disconnect
// hooks have all run.
func (c *client) finishLocked() bool {
	if !c.closed || c.running || len(c.inbox) > 0 || c.finished {
		return false
	}
	c.finished = true
	return true
}

func (c *client) onMessage(data []byte, binary bool) {
	if d, ok := c.dec.(*parser.Decoder); ok && !binary {
		// The packet lives on the stack: what outlives the call (an event's task, a
		// binary packet waiting for its attachments) is copied out of it.
		var p parser.Packet
		complete, err := d.DecodeTextTo(data, &p)
		if err != nil {
			c.close(ReasonForcedClose, true) // as Node: a packet that does not decode closes the connection
			return
		}
		if complete {
			c.onPacket(&p)
		}
		return
	}
	var p *parser.Packet
	var complete bool
	var err error
	if binary {
		p, complete, err = c.dec.DecodeBinary(data)
	} else {
		p, complete, err = c.dec.DecodeText(data)
	}
	if err != nil {
		c.close(ReasonForcedClose, true) // as Node: a packet that does not decode closes the connection
		return
	}
	if complete {
		c.onPacket(p)
	}
}

// packetSize is the number of bytes a decoded packet holds.
func packetSize(p *parser.Packet) int64 {
	n := int64(len(p.Data))
	for _, a := range p.Attachments {
		n += int64(len(a))
	}
	return n
}

func (c *client) onPacket(p *parser.Packet) {
	if p.Type == parser.Connect && c.isV3() {
		p.Namespace, p.Data = splitV3Namespace(p.Namespace)
	}
	nsp := p.Namespace
	c.mu.Lock()
	s := c.socketLocked(nsp)
	pending := c.pending[nsp]
	if p.Type == parser.Connect {
		if s != nil || pending {
			c.mu.Unlock()
			c.close(ReasonForcedClose, true) // a second CONNECT on a namespace
			return
		}
		if c.pending == nil {
			c.pending = make(map[string]bool, 1)
		}
		c.pending[nsp] = true
		c.mu.Unlock()
		auth := p.Data
		size := packetSize(p)
		if !c.admit(size) {
			return
		}
		c.dispatch(func() { c.connect(nsp, auth) }, size)
		return
	}
	c.mu.Unlock()
	if s == nil && !pending {
		c.close(ReasonForcedClose, true) // a packet for a namespace the client did not join
		return
	}
	switch p.Type {
	case parser.Ack, parser.BinaryAck:
		if s != nil {
			s.onAck(p) // answers complete waiters at once, even while a handler runs
		}
	case parser.Event, parser.BinaryEvent:
		size := packetSize(p)
		if !c.admit(size) {
			return
		}
		t := &eventTask{s: s}
		if p.HasID {
			t.state.Store(p.ID | taskHasID) // p.ID <= parser.MaxAckID, as the decoders check
		}
		args, err := parser.AppendArgs(t.argv[:0], p.Data, p.Attachments)
		if err != nil {
			known := s // not s itself: a variable a closure writes to would be allocated
			c.dispatch(func() {
				s := known
				if s == nil {
					s = c.socket(nsp)
				}
				if s != nil {
					s.reportError(fmt.Errorf("socketio: bad event payload: %w", err))
				}
			}, size)
			return
		}
		t.args = args
		if s == nil { // the CONNECT of its namespace is being handled: the socket is known once it ran
			c.dispatch(func() {
				if t.s = c.socket(nsp); t.s != nil {
					t.s.onEvent(t)
				}
			}, size)
			return
		}
		c.queue(inboxItem{ev: t, size: size})
	case parser.Disconnect:
		if s != nil {
			s.onClose(ReasonClientNamespaceDisconnect)
		} else {
			c.dispatch(func() {
				if s := c.socket(nsp); s != nil {
					s.onClose(ReasonClientNamespaceDisconnect)
				}
			}, -1)
		}
	default: // CONNECT_ERROR from a client
		c.close(ReasonForcedClose, true)
	}
}

func (c *client) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.socketLocked(nsp)
}

// socketsIndexed is the number of sockets of a client beyond which they are also kept in a map
// by namespace; below, a client (nearly always on one namespace) looks them up in its list.
const socketsIndexed = 8

// socketLocked returns the connected socket of namespace nsp, or nil.
func (c *client) socketLocked(nsp string) *Socket {
	if c.byName != nil {
		return c.byName[nsp]
	}
	for _, s := range c.sockets {
		if s.nsp.name == nsp {
			return s
		}
	}
	return nil
}

// addSocketLocked records a connected socket; there is none yet for its namespace.
func (c *client) addSocketLocked(s *Socket) {
	c.sockets = append(c.sockets, s)
	switch {
	case c.byName != nil:
		c.byName[s.nsp.name] = s
	case len(c.sockets) > socketsIndexed:
		c.byName = make(map[string]*Socket, len(c.sockets))
		for _, x := range c.sockets {
			c.byName[x.nsp.name] = x
		}
	}
}

// connect handles a CONNECT packet: namespace lookup, middlewares, then the connection hooks.
func (c *client) connect(name string, auth json.RawMessage) {
	done := func() {
		c.mu.Lock()
		c.unpendLocked(name)
		c.mu.Unlock()
	}
	nsp, err := c.server.lookup(name, auth)
	if err != nil {
		done()
		c.sendConnectError(name, err)
		return
	}
	defer nsp.connectDone() // after the socket is added to the namespace, or refused
	s, missed := c.recoverOrNew(nsp, auth)
	mws, hooks := nsp.chain()
	if s.recovered && !c.server.opts.ConnectionStateRecovery.RunMiddlewares {
		mws = nil
	}
	for _, mw := range mws {
		var err error
		if perr := c.server.protect("namespace middleware", func() { err = mw(s) }); perr != nil {
			s.reportError(perr)
			err = fmt.Errorf("socketio: middleware panic: %v", perr.Value)
		}
		if err != nil {
			done()
			if c.isV3() {
				var ce *ConnectError
				var data any
				if errors.As(err, &ce) {
					data = ce.Data
				}
				_ = c.send(&parser.Packet{Type: parser.ConnectError, Namespace: name, Data: v3ConnectError(err, data)}, false)
				return
			}
			c.sendConnectError(name, err)
			return
		}
	}
	c.mu.Lock()
	c.unpendLocked(name)
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.addSocketLocked(s)
	c.stopConnectTimerLocked()
	c.mu.Unlock()
	s.onConnect(hooks, missed)
}

// unpendLocked ends the handling of a CONNECT to namespace name. The map of pending namespaces is
// dropped when it empties, so that an idle connection does not keep it.
func (c *client) unpendLocked(name string) {
	delete(c.pending, name)
	if len(c.pending) == 0 {
		c.pending = nil
	}
}

// stopConnectTimerLocked stops the timer that closes a connection without any namespace, and
// lets it go: a connected client does not keep it.
func (c *client) stopConnectTimerLocked() {
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
}

// recoverOrNew returns the socket of a CONNECT: the recovered one when the auth payload names a
// session (pid) and the last broadcast the client got (offset) that the namespace can restore,
// a new one otherwise.
func (c *client) recoverOrNew(nsp *Namespace, auth json.RawMessage) (*Socket, []*parser.Packet) {
	if nsp.sessions != nil && len(auth) > 0 && auth[0] == '{' {
		var ref struct {
			PID    any `json:"pid"`
			Offset any `json:"offset"`
		}
		if json.Unmarshal(auth, &ref) == nil {
			pid, ok1 := ref.PID.(string)
			offset, ok2 := ref.Offset.(string)
			if ok1 && ok2 {
				if sess, missed, ok := nsp.sessions.RestoreSession(pid, offset); ok {
					s := newSocket(nsp, c, auth)
					s.id, s.recovered = sess.SID, true
					s.data = sess.Data
					r := s.rareLocked() // the socket is not shared yet
					r.pid, r.restoredRooms = sess.PID, sess.Rooms
					return s, missed
				}
			}
		}
	}
	s := newSocket(nsp, c, auth)
	if nsp.sessions != nil {
		s.rareLocked().pid = newID() // the socket is not shared yet
	}
	return s, nil
}

func (c *client) sendConnectError(nsp string, err error) {
	body := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{Message: err.Error()}
	var ce *ConnectError
	if errors.As(err, &ce) {
		body.Data = ce.Data
	}
	data, merr := json.Marshal(body)
	if merr != nil {
		data, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{err.Error()})
	}
	_ = c.send(&parser.Packet{Type: parser.ConnectError, Namespace: nsp, Data: data}, false)
}

// send encodes p and queues it. A receiver whose queue is full is disconnected, unless the
// packet is volatile, in which case the packet is dropped.
func (c *client) send(p *parser.Packet, volatile bool) error {
	if c.server.opts.Parser == ParserMsgpack {
		b, err := msgpackparser.Encode(p)
		if err != nil {
			return fmt.Errorf("socketio: encode %s: %w", p.Type, err)
		}
		return c.sent(c.conn.Send(b, true), p.Namespace, volatile)
	}
	text, atts, err := parser.Encode(p)
	if err != nil {
		return fmt.Errorf("socketio: encode %s: %w", p.Type, err)
	}
	return c.sendText(text, atts, p.Namespace, volatile)
}

// sendText queues the text frame of a packet of namespace nsp, encoded by the JSON parser, and
// its attachments; see send.
func (c *client) sendText(text []byte, atts [][]byte, nsp string, volatile bool) error {
	if len(atts) == 0 {
		return c.sent(c.conn.Send(text, false), nsp, volatile)
	}
	return c.sent(c.conn.SendPrepared(preparedFrames(text, atts)...), nsp, volatile)
}

// sent handles err, the result of queueing a packet of namespace nsp; see send.
func (c *client) sent(err error, nsp string, volatile bool) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, engineio.ErrQueueFull):
		c.server.slowConsumer(c.conn, nsp, volatile)
		if volatile {
			return nil
		}
		c.conn.Abort()
		return ErrDisconnected
	case errors.Is(err, engineio.ErrClosed):
		return ErrDisconnected
	}
	return err
}

// close disconnects every socket of the client with reason, then closes the connection:
// gracefully (what is queued is sent first) or at once.
func (c *client) close(reason DisconnectReason, graceful bool) {
	c.closeSockets(reason)
	if graceful {
		c.conn.Close()
	} else {
		c.conn.Abort()
	}
}

func (c *client) closeSockets(reason DisconnectReason) {
	c.mu.Lock()
	c.closed = true
	c.stopConnectTimerLocked()
	socks := c.socketsLocked()
	c.mu.Unlock()
	for _, s := range socks {
		s.onClose(reason)
	}
	c.mu.Lock()
	finish := c.finishLocked()
	c.mu.Unlock()
	if finish {
		c.server.clientFinished()
	}
}

// disconnectAll disconnects every socket of the client from its namespace, each with a
// DISCONNECT packet, then closes the connection once they are sent.
func (c *client) disconnectAll() {
	c.mu.Lock()
	socks := c.socketsLocked()
	c.mu.Unlock()
	for _, s := range socks {
		s.Disconnect(false)
	}
	c.close(ReasonServerNamespaceDisconnect, true)
}

// socketsLocked returns the connected sockets in the order they connected, the order in which
// Node disconnects them.
func (c *client) socketsLocked() []*Socket {
	return slices.Clone(c.sockets) // in the order they connected
}

// onClose runs when the Engine.IO connection closed.
func (c *client) onClose(reason DisconnectReason) { c.closeSockets(reason) }

func (c *client) removeSocket(s *Socket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.sockets, s)
	if i < 0 {
		return
	}
	c.sockets = slices.Delete(c.sockets, i, i+1)
	if c.byName != nil {
		delete(c.byName, s.nsp.name)
	}
	if len(c.sockets) == 0 {
		c.sockets, c.byName = nil, nil
	}
}
