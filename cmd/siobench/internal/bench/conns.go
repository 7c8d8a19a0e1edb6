package bench

import (
	"context"
	"fmt"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/procstat"
)

// conns opens N connections, each completing the Socket.IO CONNECT, and
// measures the connection rate, the connect latency, the server's CPU time
// per connection, and, after holding the connections for Settle, the
// server's resident memory per connection.
func (r *runner) conns(ctx context.Context) error {
	cfg, res := r.cfg, r.res
	res.Unit = "connections"
	var rssBefore int64
	if cfg.PID > 0 {
		var err error
		if rssBefore, err = procstat.RSS(cfg.PID); err != nil {
			return fmt.Errorf("bench: reading the server's memory: %w", err)
		}
	}
	r.logf("opening %d connections, %d at a time", cfg.N, cfg.Concurrency)
	m := startMeter(cfg.PID)
	conns, lat, err := r.connectAll(ctx, cfg.N, nil, nil)
	if err != nil {
		return err
	}
	defer r.closeAll(conns)
	res.Connections = len(conns)
	res.Ops = int64(len(conns))
	res.Latency = summarize(lat)
	if err := m.stop(res); err != nil {
		return err
	}
	r.logf("holding %d connections for %v", len(conns), cfg.Settle)
	if !sleep(ctx, cfg.Settle) {
		return ctx.Err()
	}
	r.checkAlive(conns)
	if cfg.PID > 0 {
		rssAfter, err := procstat.RSS(cfg.PID)
		if err != nil {
			return fmt.Errorf("bench: reading the server's memory: %w", err)
		}
		res.Server.RSSBefore = rssBefore
		res.Server.RSSAfter = rssAfter
		res.Server.MemPerConn = float64(rssAfter-rssBefore) / float64(len(conns))
	}
	return nil
}
