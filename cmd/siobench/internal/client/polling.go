package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

// maxBody bounds the size of one polling response.
const maxBody = 16 << 20

// pollTransport is an HTTP long-polling Engine.IO session. At most one GET
// and one POST are in flight at a time, as the protocol requires.
type pollTransport struct {
	hc      *http.Client
	url     string
	timeout time.Duration
	hb      time.Duration
	ctx     context.Context // cancelled by close, aborts the pending GET
	cancel  context.CancelFunc
	pmu     sync.Mutex // serializes POSTs
}

func dialPolling(ctx context.Context, cfg Config) (*pollTransport, wire.Open, error) {
	var open wire.Open
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	u, err := endpoint(cfg, "")
	if err != nil {
		return nil, open, err
	}
	body, err := do(ctx, hc, http.MethodGet, u, nil)
	if err != nil {
		return nil, open, fmt.Errorf("client: polling handshake: %w", err)
	}
	pkts := wire.SplitPayload(body)
	if len(pkts) != 1 {
		return nil, open, fmt.Errorf("client: polling handshake: expected one packet, got %d", len(pkts))
	}
	open, err = wire.ParseOpen(pkts[0])
	if err != nil {
		return nil, open, err
	}
	su, err := endpoint(cfg, open.SID)
	if err != nil {
		return nil, open, err
	}
	tctx, cancel := context.WithCancel(context.Background())
	return &pollTransport{
		hc:      hc,
		url:     su,
		timeout: cfg.Timeout,
		hb:      heartbeat(open),
		ctx:     tctx,
		cancel:  cancel,
	}, open, nil
}

// do performs one request and returns the body of a 200 response.
func do(ctx context.Context, hc *http.Client, method, u string, body []byte) ([]byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, wire.Truncate(b))
	}
	return b, nil
}

func (t *pollTransport) post(body []byte) error {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	ctx, cancel := context.WithTimeout(t.ctx, t.timeout)
	defer cancel()
	b, err := do(ctx, t.hc, http.MethodPost, t.url, body)
	if err != nil {
		return fmt.Errorf("client: polling POST: %w", err)
	}
	if string(b) != "ok" {
		return fmt.Errorf("client: polling POST answered %q", wire.Truncate(b))
	}
	return nil
}

func (t *pollTransport) send(p []byte) error { return t.post(p) }

func (t *pollTransport) sendMessage(sio []byte) error {
	b := make([]byte, 0, len(sio)+1)
	b = append(b, wire.EIOMessage)
	return t.post(append(b, sio...))
}

func (t *pollTransport) start(c *Conn) { go c.readLoop() }

func (t *pollTransport) run(c *Conn) error {
	for {
		ctx, cancel := context.WithTimeout(t.ctx, t.hb)
		body, err := do(ctx, t.hc, http.MethodGet, t.url, nil)
		timedOut := ctx.Err() == context.DeadlineExceeded
		cancel()
		if err != nil {
			if t.ctx.Err() != nil {
				return ErrClosed
			}
			if timedOut {
				return ErrPingTimeout
			}
			return fmt.Errorf("client: polling GET: %w", err)
		}
		for _, p := range wire.SplitPayload(body) {
			if err := c.handle(p); err != nil {
				return err
			}
		}
	}
}

func (t *pollTransport) close() {
	// Tell the server, best effort, then abort the pending GET.
	ctx, cancel := context.WithTimeout(t.ctx, time.Second)
	t.pmu.Lock()
	do(ctx, t.hc, http.MethodPost, t.url, []byte{wire.EIOClose})
	t.pmu.Unlock()
	cancel()
	t.cancel()
}
