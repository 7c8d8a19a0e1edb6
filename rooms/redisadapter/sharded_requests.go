package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/echo-socketio/echo-socketio/rooms/internal/rediscluster"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
	"github.com/redis/go-redis/v9"
)

// ServerCount returns the number of servers in the cluster, this one included: the
// subscribers of the namespace's channel (PUBSUB SHARDNUMSUB, summed over the nodes of a
// cluster), as the Node adapter counts them. A server that closes its adapter, or whose
// connection to Redis is gone, stops counting at once.
func (a *ShardedAdapter) ServerCount(ctx context.Context) (int, error) {
	return rediscluster.CountSubscribers(ctx, a.client, a.opts.RequestsTimeout, a.channel, true)
}

// request publishes a JSON message on the namespace's channel and waits until Redis has it.
func (a *ShardedAdapter) request(ctx context.Context, typ int, data any) error {
	b, err := json.Marshal(rediscluster.OutMsg{UID: a.node.UID, Nsp: a.node.Name, Type: typ, Data: data})
	if err != nil {
		return fmt.Errorf("redisadapter: encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
	defer cancel()
	return a.pub.Sync(ctx, a.channel, b)
}

// respond queues the JSON answer to a request of server uid, on that server's channel.
func (a *ShardedAdapter) respond(uid string, typ int, data any) error {
	b, err := json.Marshal(rediscluster.OutMsg{UID: a.node.UID, Nsp: a.node.Name, Type: typ, Data: data})
	if err != nil {
		return fmt.Errorf("redisadapter: encode response: %w", err)
	}
	_ = a.pub.Async(a.channel+uid+"#", b)
	return nil
}

// ServerSideEmit sends an event to the namespace's listeners on the other servers. With
// withAck, it waits for one answer from each of them (the first argument of each server's
// acknowledgement) until ctx ends or ShardedOptions.RequestsTimeout; when some servers did
// not answer, it returns the answers it has with an error that wraps ErrTimeout.
//
// Arguments with binary values travel in MessagePack, as the Node adapter sends them.
func (a *ShardedAdapter) ServerSideEmit(ctx context.Context, event string, args parser.Args, withAck bool) ([]parser.Args, error) {
	return a.node.EmitToServers(ctx, event, args, withAck, rediscluster.MsgServerSideEmit, func(packet parser.Arg, id string) error {
		if !packet.HasBinary() {
			data := map[string]any{"packet": packet.JSON()}
			if id != "" {
				data["requestId"] = id
			}
			return a.request(ctx, rediscluster.MsgServerSideEmit, data)
		}
		b, err := rediscluster.EncodeArgMessage(a.node.UID, a.node.Name, rediscluster.MsgServerSideEmit, id, packet)
		if err != nil {
			return fmt.Errorf("redisadapter: encode request: %w", err)
		}
		ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
		defer cancel()
		return a.pub.Sync(ctx, a.channel, b)
	})
}

// respondArg queues the answer of type typ to request id of server uid, carrying arg: in
// JSON, or in MessagePack when arg has binary values.
func (a *ShardedAdapter) respondArg(uid string, typ int, id string, arg parser.Arg) error {
	if !arg.HasBinary() {
		return a.respond(uid, typ, map[string]any{"requestId": id, "packet": arg.JSON()})
	}
	b, err := rediscluster.EncodeArgMessage(a.node.UID, a.node.Name, typ, id, arg)
	if err != nil {
		return fmt.Errorf("redisadapter: encode response: %w", err)
	}
	_ = a.pub.Async(a.channel+uid+"#", b)
	return nil
}

// BroadcastWithAck sends p to the selected sockets of every server, unless sel.Flags.Local,
// and runs ack for each acknowledgement until sel.Flags.Timeout (RequestsTimeout when zero).
// It calls count once, with the number of sockets p was sent to on every server, when each
// server has told its number or RequestsTimeout has passed. The request always goes to the
// namespace's channel, whatever the subscription mode, as every server must answer it.
// Acknowledgements from the sockets of other servers come with an empty socket ID and one
// argument: the Node adapter forwards the first argument only.
func (a *ShardedAdapter) BroadcastWithAck(p *parser.Packet, sel rooms.Selection, count func(n int), ack rooms.AckFunc) error {
	return a.node.StartBroadcastWithAck(p, sel, count, ack,
		func(id string) ([]byte, error) {
			return rediscluster.EncodeClusterBroadcast(a.node.UID, a.node.Name, id, p, &sel)
		},
		func(msg []byte) error { return a.pub.Async(a.channel, msg) })
}

// dispatch handles one message read from Redis.
func (a *ShardedAdapter) dispatch(m *redis.Message) {
	if len(m.Payload) > a.opts.MaxMessageSize {
		a.node.Report(fmt.Errorf("%w: %d bytes on %s, more than MaxMessageSize", rediscluster.ErrMalformed, len(m.Payload), m.Channel))
		return
	}
	msg, err := rediscluster.DecodeCluster([]byte(m.Payload))
	if err == nil {
		err = a.node.OnMessage(msg, "")
	}
	if err != nil {
		a.node.Report(fmt.Errorf("%w (channel %s)", err, m.Channel))
	}
}

// FetchSockets describes the selected sockets of every server, unless sel.Flags.Local. It
// fails, returning no sockets, when a server does not answer within
// the options' RequestsTimeout: the error wraps ErrTimeout.
func (a *ShardedAdapter) FetchSockets(ctx context.Context, sel rooms.Selection) ([]sockets.Info, error) {
	return a.node.FetchSockets(ctx, sel)
}

// AddSockets makes the selected sockets of every server join rooms, without waiting for
// the other servers to do it.
func (a *ShardedAdapter) AddSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	return a.node.AddSockets(ctx, sel, r...)
}

// DelSockets makes the selected sockets of every server leave rooms, without waiting for the
// other servers to do it.
func (a *ShardedAdapter) DelSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	return a.node.DelSockets(ctx, sel, r...)
}

// DisconnectSockets disconnects the selected sockets of every server, without waiting for
// the other servers to do it.
func (a *ShardedAdapter) DisconnectSockets(ctx context.Context, sel rooms.Selection, closeConn bool) error {
	return a.node.DisconnectSockets(ctx, sel, closeConn)
}
