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

// ackQueue is how many acknowledgements a client buffers. A closed-loop
// client expects one at a time, so a full queue means the server sent
// acknowledgements nobody asked for.
const ackQueue = 64

// echo runs C clients in a closed loop: each emits
// 2<id>["echo","<payload>"] and waits for 3<id>["<payload>"] before the
// next one. The ack id is the client's sequence id, and the payload names
// the client and the sequence id, so a lost, duplicated, reordered or altered
// acknowledgement is detected. It measures acknowledgements per second and
// the round-trip latency, from the send to the read of the acknowledgement.
//
// Over WebSocket the loop runs on the reader (see echoWS): the goroutine
// that reads an acknowledgement checks it and sends the next request. Over
// polling every client runs on a goroutine of its own (echoLoop), since a
// polling reader must not wait for a POST.
func (r *runner) echo(ctx context.Context) error {
	if r.cfg.Transport == client.WebSocket {
		return r.echoWS(ctx)
	}
	cfg, res := r.cfg, r.res
	res.Unit = "acks"
	queues := make([]chan wire.Packet, cfg.C)
	for i := range queues {
		queues[i] = make(chan wire.Packet, ackQueue)
	}
	onPacket := func(i int) func(wire.Packet) {
		q := queues[i]
		return func(p wire.Packet) {
			switch p.Type {
			case wire.SIOAck:
				p.Data = append([]byte(nil), p.Data...) // the reader reuses its buffer
				select {
				case q <- p:
				default:
					r.chk.Dup("client %d: more than %d unsolicited acks, last id %d", i, ackQueue, p.ID)
				}
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

	var (
		measuring, stopped atomic.Bool
		issued             atomic.Int64
		wg                 sync.WaitGroup
	)
	lats := make([][]time.Duration, cfg.C)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lats[i] = r.echoLoop(ctx, i, c, queues[i], &measuring, &stopped, &issued)
		}()
	}
	if cfg.Warmup > 0 {
		r.logf("warming up for %v", cfg.Warmup)
		sleep(ctx, cfg.Warmup)
	}
	m := startMeter(cfg.PID)
	measuring.Store(true)
	if cfg.Count > 0 {
		r.logf("measuring %d acks", cfg.Count)
	} else {
		r.logf("measuring for %v", cfg.Duration)
		sleep(ctx, cfg.Duration)
		stopped.Store(true)
	}
	wg.Wait()
	if err := r.stopEcho(m, lats); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil // the checker holds the reason
	}
	// Late duplicates of the last acknowledgements.
	sleep(ctx, cfg.Grace)
	for i, q := range queues {
		select {
		case p := <-q:
			r.chk.Dup("client %d: ack id %d after the last request was answered", i, p.ID)
		default:
		}
	}
	r.checkAlive(conns)
	return nil
}

// stopEcho ends the measurement of an echo run: it reads the meters first,
// so that sorting the latencies is not counted as the client's work, then
// fills in the operations and the latency summary.
func (r *runner) stopEcho(m *meter, lats [][]time.Duration) error {
	n := 0
	for _, l := range lats {
		n += len(l)
	}
	r.res.Ops = int64(n)
	err := m.stop(r.res)
	all := make([]time.Duration, 0, n)
	for _, l := range lats {
		all = append(all, l...)
	}
	r.res.Latency = summarize(all)
	return err
}

// echoLoop is the closed loop of client i. It returns the latencies of the
// acknowledgements whose request was sent while measuring.
func (r *runner) echoLoop(ctx context.Context, i int, c *client.Conn, acks <-chan wire.Packet,
	measuring, stopped *atomic.Bool, issued *atomic.Int64) []time.Duration {
	cfg := r.cfg
	var lat []time.Duration
	var pkt, payload, scratch []byte
	timer := time.NewTimer(cfg.Timeout)
	defer timer.Stop()
	for seq := int64(0); ; seq++ {
		if ctx.Err() != nil || stopped.Load() {
			return lat
		}
		meas := measuring.Load()
		if meas && cfg.Count > 0 && issued.Add(1) > int64(cfg.Count) {
			return lat
		}
		payload = makePayload(payload, 'e', i, seq, cfg.Payload)
		pkt = append(pkt[:0], wire.SIOEvent)
		pkt = strconv.AppendInt(pkt, seq, 10)
		pkt = append(pkt, `["echo","`...)
		pkt = append(pkt, payload...)
		pkt = append(pkt, `"]`...)
		t0 := time.Now()
		if err := c.Send(pkt); err != nil {
			if ctx.Err() == nil {
				r.chk.Fail("client %d: sending echo %d: %v", i, seq, err)
			}
			return lat
		}
		timer.Reset(cfg.Timeout)
		select {
		case p := <-acks:
			d := time.Since(t0)
			timer.Stop()
			switch {
			case p.ID == wire.NoID:
				r.chk.Wrong("client %d: ack without an id", i)
				return lat
			case p.ID < seq:
				r.chk.Dup("client %d: ack id %d again while waiting for %d", i, p.ID, seq)
				return lat
			case p.ID > seq:
				r.chk.Wrong("client %d: ack id %d while waiting for %d", i, p.ID, seq)
				return lat
			}
			if !ackMatches(p.Data, payload, &scratch) {
				r.chk.Wrong("client %d: ack %d carries %s, want [%q]", i, seq, wire.Truncate(p.Data), payload)
				return lat
			}
			if meas {
				lat = append(lat, d)
			}
		case <-timer.C:
			r.chk.Lost(1, "client %d: no ack for echo %d within %v", i, seq, cfg.Timeout)
			return lat
		case <-c.Done():
			r.chk.Fail("client %d: connection ended while waiting for ack %d: %v", i, seq, c.Err())
			return lat
		case <-ctx.Done():
			return lat
		}
	}
}
