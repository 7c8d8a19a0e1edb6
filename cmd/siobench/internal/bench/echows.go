package bench

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/client"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

// echoClient is the state of one closed-loop client of echoWS. Its fields
// are guarded by mu: they are used by the reader of the connection (which
// checks each acknowledgement and sends the next request), by the goroutine
// that starts the loop and by the watchdog.
type echoClient struct {
	mu      sync.Mutex
	i       int
	conn    *client.Conn
	seq     int64     // id of the request in flight, or of the last one
	sent    time.Time // when request seq was sent
	waiting bool      // request seq is not acknowledged yet
	meas    bool      // request seq was sent while measuring
	done    bool      // the loop ended: no request will follow
	payload []byte    // the payload of request seq
	pkt     []byte
	scratch []byte
	lat     []time.Duration
}

// echoLoopState is what the clients of one echoWS run share.
type echoLoopState struct {
	measuring, stopped atomic.Bool
	issued             atomic.Int64
	running            atomic.Int64  // clients whose loop has not ended
	allDone            chan struct{} // closed when running reaches zero
}

// echoWS is the echo scenario over WebSocket. Nothing runs per client: the
// reader of a connection (the Poller's goroutine for the raw transport)
// checks each acknowledgement where it is parsed, records its latency and
// sends the next request with a non-blocking write, so a round trip costs
// one write, one share of a read and two clock readings, and no goroutine
// switch, channel operation, timer or allocation. A watchdog goroutine
// looks for requests unanswered after Timeout and for connections that
// ended.
func (r *runner) echoWS(ctx context.Context) error {
	cfg, res := r.cfg, r.res
	res.Unit = "acks"
	st := &echoLoopState{allDone: make(chan struct{})}
	clients := make([]*echoClient, cfg.C)
	for i := range clients {
		clients[i] = &echoClient{i: i, seq: -1}
	}
	onPacket := func(i int) func(wire.Packet) {
		ec := clients[i]
		return func(p wire.Packet) {
			now := time.Now()
			switch p.Type {
			case wire.SIOAck:
				ec.mu.Lock()
				if r.checkAck(ec, p, now) {
					r.sendNext(ec, st)
				}
				ec.mu.Unlock()
			case wire.SIOEvent:
				// Servers may emit events of their own; echo ignores them.
			default:
				r.chk.Wrong("client %d: unexpected packet type %c", i, p.Type)
			}
		}
	}
	r.logf("opening %d %s clients", cfg.C, cfg.Transport)
	conns, _, err := r.connectAll(ctx, cfg.C, onPacket, nil)
	if err != nil {
		return err
	}
	defer r.closeAll(conns)
	res.Connections = len(conns)

	st.running.Store(int64(len(clients)))
	for i, ec := range clients {
		ec.mu.Lock()
		ec.conn = conns[i]
		r.sendNext(ec, st)
		ec.mu.Unlock()
	}
	watchdog := make(chan struct{})
	defer func() { <-watchdog }()
	wctx, stopWatchdog := context.WithCancel(ctx)
	defer stopWatchdog()
	go func() {
		defer close(watchdog)
		r.watchEcho(wctx, clients, st)
	}()

	if cfg.Warmup > 0 {
		r.logf("warming up for %v", cfg.Warmup)
		sleep(ctx, cfg.Warmup)
	}
	m := startMeter(cfg.PID)
	st.measuring.Store(true)
	if cfg.Count > 0 {
		r.logf("measuring %d acks", cfg.Count)
	} else {
		r.logf("measuring for %v", cfg.Duration)
		sleep(ctx, cfg.Duration)
		st.stopped.Store(true)
	}
	select {
	case <-st.allDone:
	case <-ctx.Done():
		st.stopped.Store(true)
	}
	lats := make([][]time.Duration, len(clients))
	for i, ec := range clients {
		ec.mu.Lock()
		lats[i] = ec.lat
		ec.mu.Unlock()
	}
	if err := r.stopEcho(m, lats); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil // the checker holds the reason
	}
	// Late duplicates of the last acknowledgements arrive with no request
	// in flight, and checkAck reports them.
	sleep(ctx, cfg.Grace)
	r.checkAlive(conns)
	return nil
}

// checkAck checks acknowledgement p of client ec, read at now, and records
// its latency. It reports whether the loop goes on. ec.mu is held.
func (r *runner) checkAck(ec *echoClient, p wire.Packet, now time.Time) bool {
	i := ec.i
	switch {
	case !ec.waiting && p.ID >= 0 && p.ID <= ec.seq:
		r.chk.Dup("client %d: ack id %d again, with no request in flight (last was %d)", i, p.ID, ec.seq)
		return false
	case !ec.waiting:
		r.chk.Dup("client %d: unsolicited ack id %d (last request was %d)", i, p.ID, ec.seq)
		return false
	case p.ID == wire.NoID:
		r.chk.Wrong("client %d: ack without an id", i)
		return false
	case p.ID < ec.seq:
		r.chk.Dup("client %d: ack id %d again while waiting for %d", i, p.ID, ec.seq)
		return false
	case p.ID > ec.seq:
		r.chk.Wrong("client %d: ack id %d while waiting for %d", i, p.ID, ec.seq)
		return false
	}
	if !ackMatches(p.Data, ec.payload, &ec.scratch) {
		r.chk.Wrong("client %d: ack %d carries %s, want [%q]", i, ec.seq, wire.Truncate(p.Data), ec.payload)
		return false
	}
	ec.waiting = false
	if ec.meas {
		ec.lat = append(ec.lat, now.Sub(ec.sent))
	}
	return true
}

// sendNext sends the next request of ec, or ends its loop when the run is
// over or the send fails. ec.mu is held.
func (r *runner) sendNext(ec *echoClient, st *echoLoopState) {
	cfg := r.cfg
	if ec.done {
		return
	}
	meas := st.measuring.Load()
	if st.stopped.Load() || (meas && cfg.Count > 0 && st.issued.Add(1) > int64(cfg.Count)) {
		r.endLoop(ec, st)
		return
	}
	seq := ec.seq + 1
	ec.payload = makePayload(ec.payload, 'e', ec.i, seq, cfg.Payload)
	pkt := append(ec.pkt[:0], wire.SIOEvent)
	pkt = strconv.AppendInt(pkt, seq, 10)
	pkt = append(pkt, `["echo","`...)
	pkt = append(pkt, ec.payload...)
	pkt = append(pkt, `"]`...)
	ec.pkt = pkt
	ec.seq, ec.meas, ec.waiting = seq, meas, true
	ec.sent = time.Now()
	if err := ec.conn.Send(pkt); err != nil {
		ec.waiting = false
		if !st.stopped.Load() {
			r.chk.Fail("client %d: sending echo %d: %v", ec.i, seq, err)
		}
		r.endLoop(ec, st)
	}
}

// endLoop marks the loop of ec as ended. ec.mu is held.
func (r *runner) endLoop(ec *echoClient, st *echoLoopState) {
	if ec.done {
		return
	}
	ec.done = true
	if st.running.Add(-1) == 0 {
		close(st.allDone)
	}
}

// watchEcho reports, until ctx is done, a request left unanswered for
// longer than Timeout or a connection that ended while its loop ran. Either
// fails the run, and no client sends again once it returned.
func (r *runner) watchEcho(ctx context.Context, clients []*echoClient, st *echoLoopState) {
	every := min(max(r.cfg.Timeout/10, 10*time.Millisecond), time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	defer st.stopped.Store(true) // no request follows a failure
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		for _, ec := range clients {
			ec.mu.Lock()
			late := ec.waiting && now.Sub(ec.sent) > r.cfg.Timeout
			ended := !ec.done && ec.conn.Err() != nil
			seq := ec.seq
			ec.mu.Unlock()
			// Report first, then end the loop: the run is cancelled before
			// the last loop's end lets echoWS go on.
			switch {
			case late:
				r.chk.Lost(1, "client %d: no ack for echo %d within %v", ec.i, seq, r.cfg.Timeout)
			case ended:
				r.chk.Fail("client %d: connection ended while waiting for ack %d: %v", ec.i, seq, ec.conn.Err())
			default:
				continue
			}
			ec.mu.Lock()
			r.endLoop(ec, st)
			ec.mu.Unlock()
			return
		}
	}
}
