package bench

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/client"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

// bcastSlot tracks the deliveries of one broadcast.
type bcastSlot struct {
	remaining atomic.Int64
	last      time.Time // written by the delivery that brings remaining to 0
	done      chan struct{}
}

// broadcast connects N members that each join Room (waiting for the join
// acknowledgement), and one sender that is not a member. The sender emits
// 2<k>["bcast","<room>","<payload k>"] Count times, sequentially: it waits
// for the acknowledgement of broadcast k and for all N deliveries of
// broadcast k before it sends broadcast k+1. So each broadcast is measured
// alone, from the send to its last delivery, and deliveries per second is
// the rate of that sequential pattern, not the server's peak fan-out rate
// with several broadcasts in flight. Every member checks that it receives
// each broadcast exactly once, in order, with the right payload; a delivery
// missing after Timeout fails the run.
func (r *runner) broadcast(ctx context.Context) error {
	cfg, res := r.cfg, r.res
	res.Unit = "deliveries"
	n, k := cfg.N, cfg.Count
	expected := make([]string, k)
	wantData := make([][]byte, k) // the data of each delivery as servers encode it
	var buf []byte
	for s := range expected {
		buf = makePayload(buf, 'b', 0, int64(s), cfg.Payload)
		expected[s] = string(buf)
		wantData[s] = wire.AppendEvent(nil, wire.NoID, "bcast", expected[s])[1:]
	}
	slots := make([]bcastSlot, k)
	for s := range slots {
		slots[s].remaining.Store(int64(n))
		slots[s].done = make(chan struct{})
	}
	lastSeq := make([]int64, n) // each element is only touched by one reader goroutine
	joinAcks := make([]chan wire.Packet, n)
	for i := range joinAcks {
		lastSeq[i] = -1
		joinAcks[i] = make(chan wire.Packet, 1)
	}

	member := func(i int) func(wire.Packet) {
		return func(p wire.Packet) {
			switch p.Type {
			case wire.SIOAck:
				select {
				case joinAcks[i] <- p:
				default:
					r.chk.Dup("member %d: unsolicited ack id %d", i, p.ID)
				}
			case wire.SIOEvent:
				r.deliver(i, p, expected, wantData, slots, &lastSeq[i])
			default:
				r.chk.Wrong("member %d: unexpected packet type %c", i, p.Type)
			}
		}
	}
	join := func(ctx context.Context, i int, c *client.Conn) error {
		pkt := wire.AppendEvent(nil, 0, "join", cfg.Room)
		if err := c.Send(pkt); err != nil {
			return fmt.Errorf("sending join: %w", err)
		}
		t := time.NewTimer(cfg.Timeout)
		defer t.Stop()
		select {
		case p := <-joinAcks[i]:
			if p.ID != 0 {
				r.chk.Wrong("member %d: join acknowledged with id %d, want 0", i, p.ID)
				return fmt.Errorf("bad join acknowledgement")
			}
			return nil
		case <-t.C:
			r.chk.Lost(1, "member %d: no join acknowledgement within %v", i, cfg.Timeout)
			return fmt.Errorf("join not acknowledged")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.logf("opening %d members of room %q", n, cfg.Room)
	members, _, err := r.connectAll(ctx, n, member, join)
	if err != nil {
		return err
	}
	defer r.closeAll(members)

	senderAcks := make(chan wire.Packet, ackQueue)
	sender := func(int) func(wire.Packet) {
		return func(p wire.Packet) {
			switch p.Type {
			case wire.SIOAck:
				select {
				case senderAcks <- p:
				default:
					r.chk.Dup("sender: more than %d unsolicited acks", ackQueue)
				}
			default:
				r.chk.Wrong("sender: unexpected packet %c%s (the sender is not in the room)", p.Type, wire.Truncate(p.Data))
			}
		}
	}
	sc, _, err := r.connectAll(ctx, 1, sender, nil)
	if err != nil {
		return err
	}
	defer r.closeAll(sc)
	res.Connections = n + 1
	snd := sc[0]

	r.logf("sending %d broadcasts to %d members", k, n)
	lat := make([]time.Duration, 0, k)
	m := startMeter(cfg.PID)
	timer := time.NewTimer(cfg.Timeout)
	defer timer.Stop()
	var pkt []byte
	var delivered int64
	step := max(k/10, 1)
	for s := range k {
		pkt = append(pkt[:0], wire.SIOEvent)
		pkt = strconv.AppendInt(pkt, int64(s), 10)
		pkt = append(pkt, `["bcast",`...)
		pkt = wire.AppendString(pkt, cfg.Room)
		pkt = append(pkt, ',', '"')
		pkt = append(pkt, expected[s]...)
		pkt = append(pkt, '"', ']')
		t0 := time.Now()
		if err := snd.Send(pkt); err != nil {
			r.chk.Fail("sender: sending broadcast %d: %v", s, err)
			break
		}
		timer.Reset(cfg.Timeout)
		if !r.waitBroadcast(ctx, s, snd, senderAcks, &slots[s], timer) {
			delivered += int64(n) - max(slots[s].remaining.Load(), 0)
			break
		}
		delivered += int64(n)
		lat = append(lat, slots[s].last.Sub(t0))
		if (s+1)%step == 0 {
			r.logf("%d/%d broadcasts delivered", s+1, k)
		}
	}
	res.Broadcasts = len(lat)
	res.Ops = delivered
	res.Latency = summarize(lat)
	if err := m.stop(res); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil // the checker holds the reason
	}
	sleep(ctx, cfg.Grace) // late duplicates
	r.checkAlive(members)
	r.checkAlive(sc)
	return nil
}

// waitBroadcast waits for the sender's acknowledgement of broadcast s and
// for all its deliveries, within the timer. It reports whether both came.
func (r *runner) waitBroadcast(ctx context.Context, s int, snd *client.Conn, acks <-chan wire.Packet,
	slot *bcastSlot, timer *time.Timer) bool {
	acked := false
	done := slot.done // set to nil once closed, to stop selecting on it
	for {
		select {
		case p := <-acks:
			if p.ID != int64(s) || acked {
				r.chk.Wrong("sender: ack id %d while waiting for %d", p.ID, s)
				return false
			}
			acked = true
			if done == nil {
				return true
			}
		case <-done:
			if acked {
				return true
			}
			done = nil
		case <-timer.C:
			if !acked {
				r.chk.Lost(1, "sender: no ack for broadcast %d within %v", s, r.cfg.Timeout)
			}
			if rem := slot.remaining.Load(); rem > 0 {
				r.chk.Lost(rem, "broadcast %d: %d of %d deliveries missing after %v", s, rem, r.cfg.N, r.cfg.Timeout)
			}
			return false
		case <-snd.Done():
			r.chk.Fail("sender: connection ended: %v", snd.Err())
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// bcastPrefix starts the data of every delivery in the usual encoding.
const bcastPrefix = `["bcast","b0.`

// deliver checks one event received by member i and counts the delivery.
// The usual encoding of a delivery is checked without allocating: its
// sequence id is read after bcastPrefix and the whole data compared with
// the one expected for that id; any other encoding is decoded and checked.
func (r *runner) deliver(i int, p wire.Packet, expected []string, wantData [][]byte, slots []bcastSlot, last *int64) {
	seq, ok := fastSeq(p.Data, wantData)
	if !ok {
		name, args, err := wire.Event(p.Data)
		if err != nil || name != "bcast" || len(args) != 1 {
			r.chk.Wrong("member %d: unexpected event %s", i, wire.Truncate(p.Data))
			return
		}
		var kind byte
		kind, _, seq, ok = parsePayload(args[0])
		if !ok || kind != 'b' || seq < 0 || seq >= int64(len(expected)) || args[0] != expected[seq] {
			r.chk.Wrong("member %d: unexpected broadcast payload %q", i, wire.Truncate([]byte(args[0])))
			return
		}
	}
	switch {
	case seq <= *last:
		r.chk.Dup("member %d: broadcast %d again (last was %d)", i, seq, *last)
		return
	case seq > *last+1:
		r.chk.Lost(seq-*last-1, "member %d: broadcasts %d to %d never arrived", i, *last+1, seq-1)
	}
	*last = seq
	slot := &slots[seq]
	if slot.remaining.Add(-1) == 0 {
		// Only the last delivery's time is used: the clock is read once
		// per broadcast, right after its last delivery was read.
		slot.last = time.Now()
		close(slot.done)
	}
}

// fastSeq returns the sequence id of data when data is exactly the usual
// encoding of that broadcast, wantData[seq].
func fastSeq(data []byte, wantData [][]byte) (int64, bool) {
	if !bytes.HasPrefix(data, []byte(bcastPrefix)) {
		return 0, false
	}
	var seq int64
	j := len(bcastPrefix)
	for ; j < len(data) && data[j] >= '0' && data[j] <= '9' && j < len(bcastPrefix)+18; j++ {
		seq = seq*10 + int64(data[j]-'0')
	}
	if j == len(bcastPrefix) || seq >= int64(len(wantData)) || !bytes.Equal(data, wantData[seq]) {
		return 0, false
	}
	return seq, true
}
