package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/client"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/procstat"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

// workerConfig is what one load-generator process does: it holds N members of the rooms on
// one server, and (Sender) the connection that sends the broadcasts.
type workerConfig struct {
	URL         string
	N           int
	First       int // the cluster-wide index of the first member, for the room assignment
	Rooms       int
	Sender      bool
	Concurrency int
	Timeout     time.Duration
}

// workerResult is what a worker reports on stdout after a run, as one JSON line.
type workerResult struct {
	Members    int      `json:"members"`
	Deliveries int64    `json:"deliveries"`
	Expected   int64    `json:"expected"`
	Lost       int64    `json:"lost"`
	Dups       int64    `json:"dups"`
	Wrong      int64    `json:"wrong"`
	Acks       int64    `json:"acks"`
	Failures   []string `json:"failures,omitempty"`
	// LatencyUS are the delivery latencies in microseconds, from the send (the wall clock in
	// the payload) to the arrival.
	LatencyUS []int64 `json:"latency_us"`
}

// member is the state of one member connection, touched only by its reader goroutine.
type member struct {
	room int
	next int64 // the next broadcast expected: room, room+Rooms, ...
	got  int64
}

// worker runs the worker protocol: it prints "ready" once its connections are open, then
// for each "run <count> <rate>" line on stdin runs the broadcasts and prints "result <json>";
// stdin's end closes everything.
type worker struct {
	cfg     workerConfig
	members []member
	conns   []*client.Conn
	poller  *client.Poller // reads every connection of the worker

	mu      sync.Mutex
	lat     []int64
	dups    atomic.Int64
	wrong   atomic.Int64
	lost    atomic.Int64
	deliv   atomic.Int64
	acks    atomic.Int64
	fails   []string
	joinAck []chan struct{}
}

func (w *worker) fail(format string, args ...any) {
	w.mu.Lock()
	if len(w.fails) < 20 {
		w.fails = append(w.fails, fmt.Sprintf(format, args...))
	}
	w.mu.Unlock()
}

func runWorker(ctx context.Context, cfg workerConfig, in io.Reader, out io.Writer) error {
	if _, err := procstat.RaiseFileLimit(); err != nil {
		return fmt.Errorf("raising the open-file limit: %w", err)
	}
	w := &worker{cfg: cfg, members: make([]member, cfg.N), joinAck: make([]chan struct{}, cfg.N)}
	for i := range w.members {
		r := (cfg.First + i) % cfg.Rooms
		w.members[i] = member{room: r, next: int64(r)}
		w.joinAck[i] = make(chan struct{}, 1)
	}
	p, err := client.NewPoller()
	if err != nil {
		return err
	}
	defer p.Close()
	w.poller = p
	if err := w.connect(ctx); err != nil {
		return err
	}
	defer w.closeAll()
	var sender *client.Conn
	if cfg.Sender {
		c, err := client.Dial(ctx, client.Config{URL: cfg.URL, Timeout: cfg.Timeout, Poller: w.poller, OnPacket: func(p wire.Packet) {
			if p.Type == wire.SIOAck {
				w.acks.Add(1)
			} else {
				w.wrong.Add(1)
				w.fail("sender: unexpected packet %c%s", p.Type, wire.Truncate(p.Data))
			}
		}})
		if err != nil {
			return fmt.Errorf("sender: %w", err)
		}
		defer c.Close()
		sender = c
	}
	fmt.Fprintln(out, "ready")
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "run" {
			return fmt.Errorf("unknown command %q", sc.Text())
		}
		count, err1 := strconv.Atoi(f[1])
		rate, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil || count <= 0 || rate <= 0 {
			return fmt.Errorf("bad command %q", sc.Text())
		}
		res := w.run(ctx, sender, count, rate)
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "result %s\n", b)
	}
	return sc.Err()
}

// connect opens the members with bounded concurrency; each joins its room and waits for
// the acknowledgement.
func (w *worker) connect(ctx context.Context) error {
	cfg := w.cfg
	w.conns = make([]*client.Conn, cfg.N)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next, done atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	t0 := time.Now()
	for range min(cfg.Concurrency, cfg.N) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.N || ctx.Err() != nil {
					return
				}
				err := w.open(ctx, i)
				if err != nil {
					once.Do(func() { first = fmt.Errorf("member %d: %w", i, err); cancel() })
					return
				}
				if d := done.Add(1); d%5000 == 0 {
					fmt.Fprintf(os.Stderr, "worker %s: %d/%d connected in %v\n", cfg.URL, d, cfg.N, time.Since(t0).Round(time.Second))
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		w.closeAll()
		return first
	}
	return ctx.Err()
}

func (w *worker) open(ctx context.Context, i int) error {
	m := &w.members[i]
	c, err := client.Dial(ctx, client.Config{URL: w.cfg.URL, Timeout: w.cfg.Timeout, Poller: w.poller, OnPacket: func(p wire.Packet) {
		w.onPacket(i, m, p)
	}})
	if err != nil {
		return err
	}
	w.conns[i] = c
	if err := c.Send(wire.AppendEvent(nil, 0, "join", "r"+strconv.Itoa(m.room))); err != nil {
		return fmt.Errorf("sending join: %w", err)
	}
	t := time.NewTimer(w.cfg.Timeout)
	defer t.Stop()
	select {
	case <-w.joinAck[i]:
		return nil
	case <-t.C:
		return fmt.Errorf("no join acknowledgement within %v", w.cfg.Timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// onPacket checks one packet of member i: broadcast k to its room must come once, in order.
func (w *worker) onPacket(i int, m *member, p wire.Packet) {
	now := time.Now().UnixNano()
	switch p.Type {
	case wire.SIOAck:
		select {
		case w.joinAck[i] <- struct{}{}:
		default:
			w.wrong.Add(1)
			w.fail("member %d: unsolicited ack %d", i, p.ID)
		}
		return
	case wire.SIOEvent:
	default:
		w.wrong.Add(1)
		w.fail("member %d: unexpected packet %c", i, p.Type)
		return
	}
	name, args, err := wire.Event(p.Data)
	var k, sent int64
	if err == nil && name == "bcast" && len(args) == 1 {
		a, b, ok := strings.Cut(args[0], ":")
		k, err = strconv.ParseInt(a, 10, 64)
		if err == nil && ok {
			sent, err = strconv.ParseInt(b, 10, 64)
		} else if err == nil {
			err = fmt.Errorf("no timestamp")
		}
	} else if err == nil {
		err = fmt.Errorf("not a bcast event")
	}
	if err != nil || k%int64(w.cfg.Rooms) != int64(m.room) {
		w.wrong.Add(1)
		w.fail("member %d: unexpected event %s", i, wire.Truncate(p.Data))
		return
	}
	switch {
	case k < m.next:
		w.dups.Add(1)
		w.fail("member %d: broadcast %d again or out of order (next %d)", i, k, m.next)
		return
	case k > m.next:
		missed := (k - m.next) / int64(w.cfg.Rooms)
		w.lost.Add(missed)
		w.fail("member %d: %d broadcasts before %d never arrived", i, missed, k)
	}
	m.next = k + int64(w.cfg.Rooms)
	m.got++
	w.deliv.Add(1)
	w.mu.Lock()
	w.lat = append(w.lat, (now-sent)/1000)
	w.mu.Unlock()
}

// run sends count broadcasts at rate per second when the worker holds the sender, and
// waits until every member got the broadcasts to its room, or the timeout after the last
// send.
func (w *worker) run(ctx context.Context, sender *client.Conn, count int, rate float64) workerResult {
	cfg := w.cfg
	var expected int64
	for i := range w.members {
		m := &w.members[i]
		if m.room < count {
			expected += int64((count-1-m.room)/cfg.Rooms + 1)
		}
	}
	start := time.Now()
	if sender != nil {
		interval := time.Duration(float64(time.Second) / rate)
		var pkt []byte
		for k := range count {
			if d := time.Until(start.Add(time.Duration(k) * interval)); d > 0 {
				time.Sleep(d)
			}
			pkt = append(pkt[:0], wire.SIOEvent)
			pkt = strconv.AppendInt(pkt, int64(k), 10)
			pkt = append(pkt, `["bcast","r`...)
			pkt = strconv.AppendInt(pkt, int64(k%cfg.Rooms), 10)
			pkt = append(pkt, `","`...)
			pkt = strconv.AppendInt(pkt, int64(k), 10)
			pkt = append(pkt, ':')
			pkt = strconv.AppendInt(pkt, time.Now().UnixNano(), 10)
			pkt = append(pkt, `"]`...)
			if err := sender.Send(pkt); err != nil {
				w.fail("sender: broadcast %d: %v", k, err)
				break
			}
		}
	}
	end := start.Add(time.Duration(float64(count)/rate*float64(time.Second)) + cfg.Timeout)
	for time.Now().Before(end) && ctx.Err() == nil {
		if w.deliv.Load() >= expected && (sender == nil || w.acks.Load() >= int64(count)) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(250 * time.Millisecond) // late duplicates
	res := workerResult{
		Members: cfg.N, Deliveries: w.deliv.Load(), Expected: expected, Dups: w.dups.Load(),
		Wrong: w.wrong.Load(), Acks: w.acks.Load(),
	}
	var missing int64
	for i := range w.members {
		m := &w.members[i]
		if m.room < count {
			want := int64((count-1-m.room)/cfg.Rooms + 1)
			if m.got < want {
				missing += want - m.got
			}
		}
	}
	res.Lost = missing
	if sender != nil && res.Acks != int64(count) {
		w.fail("sender: %d acknowledgements of %d broadcasts", res.Acks, count)
	}
	for i, c := range w.conns {
		if err := c.Err(); err != nil {
			w.fail("member %d: connection ended: %v", i, err)
			break
		}
	}
	w.mu.Lock()
	res.LatencyUS, w.lat = w.lat, nil
	res.Failures = w.fails
	w.mu.Unlock()
	return res
}

// closeAll closes the open members, several at a time.
func (w *worker) closeAll() {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(w.conns) {
					return
				}
				if c := w.conns[i]; c != nil {
					c.Close()
				}
			}
		})
	}
	wg.Wait()
}
