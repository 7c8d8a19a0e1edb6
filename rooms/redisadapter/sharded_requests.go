package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/redis/go-redis/v9"
)

// ServerCount returns the number of servers in the cluster, this one included: the
// subscribers of the namespace's channel (PUBSUB SHARDNUMSUB, summed over the nodes of a
// cluster), as the Node adapter counts them. A server that closes its adapter, or whose
// connection to Redis is gone, stops counting at once.
func (a *ShardedAdapter) ServerCount(ctx context.Context) (int, error) {
	return countSubscribers(ctx, a.client, a.opts.RequestsTimeout, a.channel, true)
}

// request publishes a JSON message on the namespace's channel and waits until Redis has it.
func (a *ShardedAdapter) request(ctx context.Context, typ int, data any) error {
	b, err := json.Marshal(outMsg{UID: a.uid, Nsp: a.name, Type: typ, Data: data})
	if err != nil {
		return fmt.Errorf("redisadapter: encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
	defer cancel()
	return a.pub.sync(ctx, a.channel, b)
}

// respond queues the JSON answer to a request of server uid, on that server's channel.
func (a *ShardedAdapter) respond(uid string, typ int, data any) error {
	b, err := json.Marshal(outMsg{UID: a.uid, Nsp: a.name, Type: typ, Data: data})
	if err != nil {
		return fmt.Errorf("redisadapter: encode response: %w", err)
	}
	_ = a.pub.async(a.channel+uid+"#", b)
	return nil
}

// ServerSideEmit sends an event to the namespace's listeners on the other servers. With
// withAck, it waits for one answer from each of them (the first argument of each server's
// acknowledgement) until ctx ends or ShardedOptions.RequestsTimeout; when some servers did
// not answer, it returns the answers it has with an error that wraps ErrTimeout.
//
// Arguments with binary values travel in MessagePack, as the Node adapter sends them.
func (a *ShardedAdapter) ServerSideEmit(ctx context.Context, event string, args parser.Args, withAck bool) ([]parser.Args, error) {
	return a.serverSideEmit(ctx, event, args, withAck, cmServerSideEmit, func(packet parser.Arg, id string) error {
		if !packet.HasBinary() {
			data := map[string]any{"packet": packet.JSON()}
			if id != "" {
				data["requestId"] = id
			}
			return a.request(ctx, cmServerSideEmit, data)
		}
		data := []mpField{{"packet", packet}}
		if id != "" {
			data = append(data, mpField{"requestId", id})
		}
		b, err := encodeFields([]mpField{{"uid", a.uid}, {"nsp", a.name}, {"type", cmServerSideEmit}, {"data", data}})
		if err != nil {
			return fmt.Errorf("redisadapter: encode request: %w", err)
		}
		ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
		defer cancel()
		return a.pub.sync(ctx, a.channel, b)
	})
}

// respondArg queues the answer of type typ to request id of server uid, carrying arg: in
// JSON, or in MessagePack when arg has binary values.
func (a *ShardedAdapter) respondArg(uid string, typ int, id string, arg parser.Arg) error {
	if !arg.HasBinary() {
		return a.respond(uid, typ, map[string]any{"requestId": id, "packet": arg.JSON()})
	}
	b, err := encodeFields([]mpField{{"uid", a.uid}, {"nsp", a.name}, {"type", typ},
		{"data", []mpField{{"requestId", id}, {"packet", arg}}}})
	if err != nil {
		return fmt.Errorf("redisadapter: encode response: %w", err)
	}
	_ = a.pub.async(a.channel+uid+"#", b)
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
	return a.broadcastWithAck(p, sel, count, ack,
		func(id string) ([]byte, error) { return encodeClusterBroadcast(a.uid, a.name, id, p, &sel) },
		func(msg []byte) error { return a.pub.async(a.channel, msg) })
}

// dispatch handles one message read from Redis.
func (a *ShardedAdapter) dispatch(m *redis.Message) {
	if len(m.Payload) > a.opts.MaxMessageSize {
		a.report(fmt.Errorf("%w: %d bytes on %s, more than MaxMessageSize", errMalformed, len(m.Payload), m.Channel))
		return
	}
	msg, err := decodeCluster([]byte(m.Payload))
	if err == nil {
		err = a.onMessage(msg, "")
	}
	if err != nil {
		a.report(fmt.Errorf("%w (channel %s)", err, m.Channel))
	}
}
