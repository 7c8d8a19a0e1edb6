package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/client"
	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

// connectAll opens n connections with at most r.cfg.Concurrency in flight.
// onPacket(i), when not nil, gives the packet callback of connection i, and
// after(i, conn), when not nil, runs right after connection i succeeded, on
// the same worker (Broadcast uses it to join the room). It returns the
// connections and the latency of each one. On the first failure it closes
// what it opened and returns the error.
func (r *runner) connectAll(ctx context.Context, n int, onPacket func(i int) func(wire.Packet),
	after func(ctx context.Context, i int, c *client.Conn) error) ([]*client.Conn, []time.Duration, error) {
	conns := make([]*client.Conn, n)
	lat := make([]time.Duration, n)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		done     atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	step := max(n/10, 1)
	for range min(r.cfg.Concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				cfg := r.clientConfig()
				if onPacket != nil {
					cfg.OnPacket = onPacket(i)
				}
				t0 := time.Now()
				c, err := client.Dial(ctx, cfg)
				if err != nil {
					fail(fmt.Errorf("connection %d: %w", i, err))
					return
				}
				lat[i] = time.Since(t0)
				conns[i] = c
				if after != nil {
					if err := after(ctx, i, c); err != nil {
						fail(fmt.Errorf("connection %d: %w", i, err))
						return
					}
				}
				if d := done.Add(1); d%int64(step) == 0 {
					r.logf("%d/%d connected", d, n)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		if err := ctx.Err(); err != nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		r.closeAll(conns)
		return nil, nil, firstErr
	}
	return conns, lat, nil
}

// closeAll closes the non-nil connections, several at a time.
func (r *runner) closeAll(conns []*client.Conn) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(r.cfg.Concurrency, len(conns)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(conns) {
					return
				}
				if conns[i] != nil {
					conns[i].Close()
				}
			}
		}()
	}
	wg.Wait()
}

// checkAlive reports every connection that ended before the scenario closed
// it.
func (r *runner) checkAlive(conns []*client.Conn) {
	for i, c := range conns {
		if err := c.Err(); err != nil {
			r.chk.Fail("connection %d ended early: %v", i, err)
			return
		}
	}
}
