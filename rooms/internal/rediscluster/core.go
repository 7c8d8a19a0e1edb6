package rediscluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
	"github.com/redis/go-redis/v9"
)

// Core is what Adapter and ShardedAdapter share: the local rooms, the adapter's life, and
// the bookkeeping of the requests that wait for the answers of the other servers. The two
// protocols differ in their channels and their encoding only; each adapter passes in what
// is its own.
type Core struct {
	Local     *rooms.Memory
	Namespace rooms.Namespace

	timeout      time.Duration // the options' RequestsTimeout
	onError      func(error)   // the options' OnError
	newID        func() string // the request IDs of the protocol
	CountServers func(context.Context) (int, error)

	Ctx    context.Context // ended by Close
	cancel context.CancelFunc
	WG     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	requests map[string]*pending
	acks     map[string]*ackRequest

	ackIDs atomic.Uint64
}

// pending is a request of this server waiting for the answers of the others.
type pending struct {
	Kind      int
	want, got int
	sockets   []sockets.Info
	responses []parser.Args
	done      chan struct{} // closed when got reaches want
}

// ackRequest is a broadcast with acknowledgements of this server, gathering the client
// counts and the acknowledgements of the other servers.
type ackRequest struct {
	ack     rooms.AckFunc
	mu      sync.Mutex
	servers int // servers that told their client count
	clients int
	changed chan struct{} // signalled on each count
}

func (c *Core) Init(nsp rooms.Namespace, timeout time.Duration, onError func(error), newID func() string) {
	c.Local = rooms.NewMemory(nsp)
	c.Namespace = nsp
	c.timeout = timeout
	c.onError = onError
	c.newID = newID
	c.requests = make(map[string]*pending)
	c.acks = make(map[string]*ackRequest)
	c.ackIDs.Store(remoteAckBase)
	c.Ctx, c.cancel = context.WithCancel(context.Background())
}

func (c *Core) Report(err error) {
	if c.onError != nil && err != nil {
		c.onError(err)
	}
}

// ReceiveFailed handles the error of a receive from ps, for the reader goroutines. A
// timeout means that nothing came for a while: it pings ps to check that the connection is
// alive, as a dead one fails the next receive, which reconnects. Another error is reported
// and waited out for *backoff, which then doubles up to backoffMax. failed tells which of the
// two err was; ok is false when the adapter closed during the wait.
func (c *Core) ReceiveFailed(ps *redis.PubSub, err error, backoff *time.Duration) (failed, ok bool) {
	if isTimeout(err) {
		ctx, cancel := context.WithTimeout(c.Ctx, c.timeout)
		_ = ps.Ping(ctx)
		cancel()
		return false, true
	}
	c.Report(fmt.Errorf("redisadapter: receive from Redis: %w", err))
	if !Sleep(c.Ctx, *backoff) {
		return true, false
	}
	*backoff = min(2**backoff, BackoffMax)
	return true, true
}

// Receive reads the messages of the subscription ps in order until the adapter closes,
// handing each confirmation of a subscription to onSub and each message to onMsg. The pub/sub
// connection reconnects and subscribes again by itself after an error.
func (c *Core) Receive(ps *redis.PubSub, onSub func(*redis.Subscription), onMsg func(*redis.Message)) {
	backoff := BackoffMin
	for {
		msg, err := ps.ReceiveTimeout(c.Ctx, PingInterval)
		if c.Ctx.Err() != nil {
			return
		}
		if err != nil {
			if _, ok := c.ReceiveFailed(ps, err, &backoff); !ok {
				return
			}
			continue
		}
		backoff = BackoffMin
		switch m := msg.(type) {
		case *redis.Subscription:
			onSub(m)
		case *redis.Message:
			onMsg(m)
		}
	}
}

// Shutdown marks the adapter closed, ends its context, runs closeConns, waits for the
// adapter's goroutines and forgets the local rooms. A second call does nothing.
func (c *Core) Shutdown(closeConns func() error) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	err := closeConns()
	c.WG.Wait()
	_ = c.Local.Close()
	if err != nil {
		return fmt.Errorf("redisadapter: close: %w", err)
	}
	return nil
}

// goTracked runs f on a goroutine that Close waits for, unless the adapter is closed.
func (c *Core) goTracked(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.WG.Add(1)
	go func() {
		defer c.WG.Done()
		f()
	}()
	return true
}

// nextRemoteAckID returns an acknowledgement ID for another server's broadcast.
func (c *Core) nextRemoteAckID() uint64 {
	id := c.ackIDs.Add(1)
	if id > parser.MaxAckID {
		c.ackIDs.Store(remoteAckBase)
		id = c.ackIDs.Add(1)
	}
	return id
}

// CountSubscribers returns the number of subscribers of channel: PUBSUB NUMSUB (summed over
// the masters of a cluster), or PUBSUB SHARDNUMSUB (summed over the shards) when sharded.
func CountSubscribers(ctx context.Context, client redis.UniversalClient, timeout time.Duration, channel string, sharded bool) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	numSub := func(ctx context.Context, c redis.UniversalClient) (map[string]int64, error) {
		if sharded {
			return c.PubSubShardNumSub(ctx, channel).Result()
		}
		return c.PubSubNumSub(ctx, channel).Result()
	}
	if cc, ok := client.(*redis.ClusterClient); ok {
		var total atomic.Int64
		each := func(ctx context.Context, c *redis.Client) error {
			m, err := numSub(ctx, c)
			total.Add(m[channel])
			return err
		}
		var err error
		if sharded {
			err = cc.ForEachShard(ctx, each)
		} else {
			err = cc.ForEachMaster(ctx, each)
		}
		if err != nil {
			return 0, fmt.Errorf("redisadapter: server count: %w", err)
		}
		return int(total.Load()), nil
	}
	m, err := numSub(ctx, client)
	if err != nil {
		return 0, fmt.Errorf("redisadapter: server count: %w", err)
	}
	return int(m[channel]), nil
}

// newPending registers a request that waits for want answers.
func (c *Core) newPending(kind, want int) (string, *pending, error) {
	id := c.newID()
	p := &pending{Kind: kind, want: want, done: make(chan struct{})}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return "", nil, ErrClosed
	}
	c.requests[id] = p
	return id, p, nil
}

func (c *Core) dropPending(id string) {
	c.mu.Lock()
	delete(c.requests, id)
	c.mu.Unlock()
}

// await waits for the answers of request id, at most RequestsTimeout. After a nil return, p
// holds every answer and nothing writes to it any more.
func (c *Core) await(ctx context.Context, id string, p *pending, what string) error {
	t := time.NewTimer(c.timeout)
	defer t.Stop()
	var err error
	select {
	case <-p.done:
		return nil
	case <-t.C:
		err = ErrTimeout
	case <-ctx.Done():
		err = ctx.Err()
	case <-c.Ctx.Done():
		return ErrClosed
	}
	c.mu.Lock()
	delete(c.requests, id)
	got := p.got
	c.mu.Unlock()
	if err == ErrTimeout {
		return fmt.Errorf("%w to %s (%d of %d answered within %v)", ErrTimeout, what, got, p.want, c.timeout)
	}
	return fmt.Errorf("redisadapter: %s: %w (%d of %d other servers answered)", what, err, got, p.want)
}

// GatherSockets is FetchSockets: publish sends the request of kind fetch with request ID id.
func (c *Core) GatherSockets(ctx context.Context, sel rooms.Selection, kind int, publish func(id string) error) ([]sockets.Info, error) {
	local, _ := c.Local.FetchSockets(ctx, sel)
	if sel.Flags.Local {
		return local, nil
	}
	n, err := c.CountServers(ctx)
	if err != nil {
		return nil, err
	}
	if n <= 1 {
		return local, nil
	}
	id, p, err := c.newPending(kind, n-1)
	if err != nil {
		return nil, err
	}
	err = publish(id)
	if err == nil {
		err = c.await(ctx, id, p, "fetch sockets")
	}
	if err != nil {
		c.dropPending(id)
		return nil, err
	}
	return append(local, p.sockets...), nil
}

// EmitToServers is ServerSideEmit: publish sends the request of kind, with packet, the
// array of the event and its arguments, and the request ID id ("" without withAck).
func (c *Core) EmitToServers(ctx context.Context, event string, args parser.Args, withAck bool, kind int, publish func(packet parser.Arg, id string) error) ([]parser.Args, error) {
	items := make([]any, 0, len(args)+1)
	items = append(items, event)
	items = append(items, args.Any()...)
	data, atts, err := parser.MarshalArgs(items...)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: server-side emit: %w", err)
	}
	packet, err := parser.NewArg(data, atts)
	if err != nil {
		return nil, fmt.Errorf("redisadapter: server-side emit: %w", err)
	}
	if !withAck {
		return nil, publish(packet, "")
	}
	n, err := c.CountServers(ctx)
	if err != nil {
		return nil, err
	}
	if n <= 1 {
		return []parser.Args{}, nil
	}
	id, p, err := c.newPending(kind, n-1)
	if err != nil {
		return nil, err
	}
	if err := publish(packet, id); err != nil {
		c.dropPending(id)
		return nil, err
	}
	if err := c.await(ctx, id, p, "server-side emit"); err != nil {
		c.mu.Lock()
		partial := append([]parser.Args(nil), p.responses...)
		c.mu.Unlock()
		return partial, err
	}
	return p.responses, nil
}

// StartBroadcastWithAck is BroadcastWithAck: encode returns the request of the broadcast with
// request ID id, and publish queues it.
func (c *Core) StartBroadcastWithAck(p *parser.Packet, sel rooms.Selection, count func(n int), ack rooms.AckFunc, encode func(id string) ([]byte, error), publish func([]byte) error) error {
	if sel.Flags.Local {
		return c.Local.BroadcastWithAck(p, sel, count, ack)
	}
	timeout := sel.Flags.Timeout
	if timeout <= 0 {
		timeout = c.timeout
	}
	id := c.newID()
	msg, err := encode(id)
	if err != nil {
		_ = c.Local.BroadcastWithAck(p, localSelection(sel), count, ack)
		return fmt.Errorf("redisadapter: encode broadcast: %w", err)
	}
	ar := &ackRequest{ack: ack, changed: make(chan struct{}, 1)}
	c.mu.Lock()
	c.acks[id] = ar
	c.mu.Unlock()
	err = publish(msg)

	localN := 0
	_ = c.Local.BroadcastWithAck(p, localSelection(sel), func(n int) { localN = n }, ack)
	if err == nil && c.goTracked(func() { c.gatherCounts(id, ar, localN, timeout, count) }) {
		return nil
	}
	c.dropAck(id)
	count(localN)
	if err == nil {
		err = ErrClosed
	}
	return err
}

func (c *Core) dropAck(id string) {
	c.mu.Lock()
	delete(c.acks, id)
	c.mu.Unlock()
}

// gatherCounts waits for the client counts of the other servers, calls count with the
// total, then keeps the request open for their acknowledgements until timeout.
func (c *Core) gatherCounts(id string, ar *ackRequest, localN int, timeout time.Duration, count func(int)) {
	deadline := time.Now().Add(timeout)
	defer c.dropAck(id)
	n, err := c.CountServers(c.Ctx)
	if err != nil {
		c.Report(err)
	}
	t := time.NewTimer(min(timeout, c.timeout))
	defer t.Stop()
	clients := 0
wait:
	for {
		ar.mu.Lock()
		servers := ar.servers
		clients = ar.clients
		ar.mu.Unlock()
		if servers >= n-1 {
			break
		}
		select {
		case <-ar.changed:
		case <-t.C:
			c.Report(fmt.Errorf("%w to count the clients of a broadcast with acks (%d of %d answered)", ErrTimeout, servers, n-1))
			break wait
		case <-c.Ctx.Done():
			count(localN + clients)
			return
		}
	}
	count(localN + clients)
	Sleep(c.Ctx, time.Until(deadline))
}

// Lookup returns the broadcast with acknowledgements of id or, when there is none, the
// request of id; both nil when id is neither.
func (c *Core) Lookup(id string) (*ackRequest, *pending) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ar := c.acks[id]; ar != nil {
		return ar, nil
	}
	return nil, c.requests[id]
}

// AddCount takes the client count of another server.
func (ar *ackRequest) AddCount(n int) {
	ar.mu.Lock()
	ar.servers++
	ar.clients += n
	ar.mu.Unlock()
	select {
	case ar.changed <- struct{}{}:
	default:
	}
}

// AddAck takes an acknowledgement of a socket of another server, its first argument.
func (ar *ackRequest) AddAck(arg parser.Arg) {
	ar.ack("", parser.Args{arg})
}

// Answer records one answer to request id, sockets for a fetch or response for a
// server-side emit, unless the request ended meanwhile.
func (c *Core) Answer(id string, p *pending, sockets []sockets.Info, response parser.Arg, fetch bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.requests[id] != p {
		return // timed out meanwhile
	}
	if fetch {
		p.sockets = append(p.sockets, sockets...)
	} else {
		p.responses = append(p.responses, parser.Args{response})
	}
	p.got++
	if p.got == p.want {
		delete(c.requests, id)
		close(p.done)
	}
}

// LocalWireSockets describes the local sockets of sel, for the answer to a fetch.
func (c *Core) LocalWireSockets(sel rooms.Selection) []wireSocket {
	infos, _ := c.Local.FetchSockets(c.Ctx, sel)
	out := make([]wireSocket, len(infos))
	for i := range infos {
		out[i] = toWireSocket(&infos[i])
	}
	return out
}

// OnServerSideEmit hands the server-side emit of another server, data the array of the
// event and its arguments (placeholders naming atts), to the namespace. With withAck, reply
// gets the first argument of the namespace's acknowledgement, once (null when there is none).
func (c *Core) OnServerSideEmit(data json.RawMessage, atts [][]byte, withAck bool, reply func(first parser.Arg)) error {
	if len(data) == 0 {
		return Malformed("server-side emit without an event")
	}
	args, err := parser.SplitArgs(data, atts)
	if err != nil {
		return Malformed("server-side emit: %v", err)
	}
	if len(args) == 0 {
		return Malformed("server-side emit without an event")
	}
	var event string
	if err := args[0].Decode(&event); err != nil {
		return Malformed("server-side emit event: %v", err)
	}
	var ack func(parser.Args)
	if withAck {
		var once sync.Once
		ack = func(res parser.Args) {
			once.Do(func() {
				var first parser.Arg
				if len(res) > 0 {
					first = res[0]
				}
				reply(first)
			})
		}
	}
	c.Namespace.ServerSideEmit(event, args[1:], ack)
	return nil
}

// OnBroadcastWithAck sends the broadcast with acknowledgements of another server to the
// local sockets of sel, under an acknowledgement ID of this server's.
func (c *Core) OnBroadcastWithAck(p *parser.Packet, sel rooms.Selection, count func(n int), ack rooms.AckFunc) error {
	if sel.Flags.Timeout <= 0 {
		sel.Flags.Timeout = c.timeout
	}
	p.ID, p.HasID = c.nextRemoteAckID(), true
	return c.Local.BroadcastWithAck(p, sel, count, ack)
}
