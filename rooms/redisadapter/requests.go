package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

// outRequest is a JSON request, in the Node adapter's layout.
type outRequest struct {
	UID       string          `json:"uid"`
	RequestID string          `json:"requestId,omitempty"`
	Type      int             `json:"type"`
	Opts      *outOpts        `json:"opts,omitempty"`
	Rooms     []string        `json:"rooms,omitempty"`
	Close     *bool           `json:"close,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

type outOpts struct {
	Rooms  []string `json:"rooms"`
	Except []string `json:"except"`
}

func selOpts(sel *rooms.Selection) *outOpts {
	return &outOpts{Rooms: fromRooms(sel.Rooms), Except: fromRooms(sel.Except)}
}

// ServerCount returns the number of servers in the cluster, this one included: the
// subscribers of the request channel (PUBSUB NUMSUB, summed over the masters of a cluster).
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	return countSubscribers(ctx, a.client, a.opts.RequestsTimeout, a.requestChannel, false)
}

// publishRequest publishes a JSON request and waits until Redis has it.
func (a *Adapter) publishRequest(ctx context.Context, req *outRequest) error {
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("redisadapter: encode request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
	defer cancel()
	return a.publishSync(ctx, a.requestChannel, b)
}

// FetchSockets describes the selected sockets of every server, unless sel.Flags.Local. It
// fails, returning no sockets, when a server does not answer within
// Options.RequestsTimeout: the error wraps ErrTimeout.
func (a *Adapter) FetchSockets(ctx context.Context, sel rooms.Selection) ([]sockets.Info, error) {
	return a.fetchSockets(ctx, sel, reqRemoteFetch, func(id string) error {
		return a.publishRequest(ctx, &outRequest{UID: a.uid, RequestID: id, Type: reqRemoteFetch, Opts: selOpts(&sel)})
	})
}

// AddSockets makes the selected sockets of every server join rooms. Like the Node adapter,
// it does not wait for the other servers to do it.
func (a *Adapter) AddSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	_ = a.local.AddSockets(ctx, sel, r...)
	if sel.Flags.Local || len(r) == 0 {
		return nil
	}
	return a.publishRequest(ctx, &outRequest{UID: a.uid, Type: reqRemoteJoin, Opts: selOpts(&sel), Rooms: fromRooms(r)})
}

// DelSockets makes the selected sockets of every server leave rooms, without waiting for the
// other servers to do it.
func (a *Adapter) DelSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	_ = a.local.DelSockets(ctx, sel, r...)
	if sel.Flags.Local || len(r) == 0 {
		return nil
	}
	return a.publishRequest(ctx, &outRequest{UID: a.uid, Type: reqRemoteLeave, Opts: selOpts(&sel), Rooms: fromRooms(r)})
}

// DisconnectSockets disconnects the selected sockets of every server, without waiting for
// the other servers to do it.
func (a *Adapter) DisconnectSockets(ctx context.Context, sel rooms.Selection, closeConn bool) error {
	_ = a.local.DisconnectSockets(ctx, sel, closeConn)
	if sel.Flags.Local {
		return nil
	}
	return a.publishRequest(ctx, &outRequest{UID: a.uid, Type: reqRemoteDisconnect, Opts: selOpts(&sel), Close: &closeConn})
}

// ServerSideEmit sends an event to the namespace's listeners on the other servers. With
// withAck, it waits for one answer from each of them (the first argument of each server's
// acknowledgement, as the Node adapter forwards it) until ctx ends or
// Options.RequestsTimeout; when some servers did not answer, it returns the answers it has
// with an error that wraps ErrTimeout.
//
// Arguments with binary values travel in a MessagePack request, which Node servers read with
// the values as Buffers; others in JSON, as the Node adapter sends them.
func (a *Adapter) ServerSideEmit(ctx context.Context, event string, args parser.Args, withAck bool) ([]parser.Args, error) {
	return a.serverSideEmit(ctx, event, args, withAck, reqServerSideEmit, func(packet parser.Arg, id string) error {
		if !packet.HasBinary() {
			return a.publishRequest(ctx, &outRequest{UID: a.uid, RequestID: id, Type: reqServerSideEmit, Data: packet.JSON()})
		}
		fields := []mpField{{"uid", a.uid}}
		if id != "" {
			fields = append(fields, mpField{"requestId", id})
		}
		b, err := encodeFields(append(fields, mpField{"type", reqServerSideEmit}, mpField{"data", packet}))
		if err != nil {
			return fmt.Errorf("redisadapter: encode request: %w", err)
		}
		ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
		defer cancel()
		return a.publishSync(ctx, a.requestChannel, b)
	})
}

// BroadcastWithAck sends p to the selected sockets of every server, unless sel.Flags.Local,
// and runs ack for each acknowledgement until sel.Flags.Timeout (Options.RequestsTimeout when
// zero). It calls count once, with the number of sockets p was sent to on every server, when
// each server has told its number or Options.RequestsTimeout has passed. Acknowledgements
// from the sockets of other servers come with an empty socket ID and one argument: the Node
// adapter forwards the first argument only.
func (a *Adapter) BroadcastWithAck(p *parser.Packet, sel rooms.Selection, count func(n int), ack rooms.AckFunc) error {
	return a.broadcastWithAck(p, sel, count, ack,
		func(id string) ([]byte, error) { return encodeBroadcastRequest(a.uid, id, a.name, p, &sel) },
		func(msg []byte) error { return a.publishAsync(a.requestChannel, msg) })
}

// publishResponse queues the answer to a request, on the channel the options choose.
func (a *Adapter) publishResponse(req *message, payload []byte) {
	ch := a.responseChannel
	if a.opts.PublishOnSpecificResponseChannel && req.UID != "" {
		ch = a.responseChannel + req.UID + "#"
	}
	_ = a.publishAsync(ch, payload)
}

func (a *Adapter) respondJSON(req *message, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("redisadapter: encode response: %w", err)
	}
	a.publishResponse(req, b)
	return nil
}

// localRooms returns the rooms of the local sockets.
func (a *Adapter) localRooms() []string {
	seen := make(map[rooms.Room]struct{})
	out := []string{}
	for _, id := range a.local.Sockets() {
		for _, r := range a.local.SocketRooms(id) {
			if _, ok := seen[r]; !ok {
				seen[r] = struct{}{}
				out = append(out, string(r))
			}
		}
	}
	return out
}

// onRequest answers a request of another server or of an emitter.
func (a *Adapter) onRequest(b []byte) error {
	req, err := decodeMessage(b)
	if err != nil {
		return err
	}
	if req.UID == a.uid {
		return nil // ours: applied locally already
	}
	sel := rooms.Selection{}
	if req.opts != nil {
		sel = req.opts.selection()
	}
	sel.Flags.Local = true
	ctx := a.ctx
	switch req.Type {
	case reqSockets:
		rs, err := roomList(req.Rooms)
		if err != nil {
			return err
		}
		ids := a.local.Sockets(toRooms(rs)...)
		if ids == nil {
			ids = []rooms.SocketID{}
		}
		return a.respondJSON(req, map[string]any{"requestId": req.requestID(), "sockets": ids})
	case reqAllRooms:
		return a.respondJSON(req, map[string]any{"requestId": req.requestID(), "rooms": a.localRooms()})
	case reqRemoteJoin, reqRemoteLeave:
		if req.opts != nil {
			rs, err := roomList(req.Rooms)
			if err != nil {
				return err
			}
			if req.Type == reqRemoteJoin {
				return a.local.AddSockets(ctx, sel, toRooms(rs)...)
			}
			return a.local.DelSockets(ctx, sel, toRooms(rs)...)
		}
		// The single-socket form of older adapters.
		id := rooms.SocketID(req.Sid)
		room, err := roomName(req.Room)
		if err != nil || a.local.SocketRooms(id) == nil {
			return err
		}
		if req.Type == reqRemoteJoin {
			a.local.AddAll(id, rooms.Room(room))
		} else {
			a.local.Del(id, rooms.Room(room))
		}
		return a.respondJSON(req, map[string]any{"requestId": req.requestID()})
	case reqRemoteDisconnect:
		if req.opts != nil {
			return a.local.DisconnectSockets(ctx, sel, req.Close)
		}
		id := rooms.SocketID(req.Sid)
		if a.local.SocketRooms(id) == nil {
			return nil
		}
		a.nsp.Disconnect(id, req.Close)
		return a.respondJSON(req, map[string]any{"requestId": req.requestID()})
	case reqRemoteFetch:
		return a.respondJSON(req, map[string]any{"requestId": req.requestID(), "sockets": a.localWireSockets(sel)})
	case reqServerSideEmit:
		var reply func(parser.Arg)
		if req.RequestID != nil {
			id := *req.RequestID
			reply = func(first parser.Arg) {
				var b []byte
				var err error
				if first.HasBinary() {
					b, err = encodeFields([]mpField{{"type", reqServerSideEmit}, {"requestId", id}, {"data", first}})
				} else {
					b, err = json.Marshal(map[string]any{"type": reqServerSideEmit, "requestId": id, "data": first.JSON()})
				}
				if err != nil {
					a.report(fmt.Errorf("redisadapter: encode response: %w", err))
					return
				}
				a.publishResponse(req, b)
			}
		}
		return a.onServerSideEmit(req.Data, req.dataAtts, reply != nil, reply)
	case reqBroadcast:
		return a.onBroadcastRequest(req, sel)
	}
	return nil
}

func (a *Adapter) onBroadcastRequest(req *message, sel rooms.Selection) error {
	p := req.packet
	if p == nil || !p.Type.IsEvent() {
		return malformed("broadcast request without an event packet")
	}
	if _, err := parser.EventName(p.Data); err != nil {
		return malformed("broadcast event: %v", err)
	}
	if p.Namespace != a.name {
		return nil
	}
	id := req.requestID()
	return a.onBroadcastWithAck(p, sel,
		func(n int) {
			_ = a.respondJSON(req, map[string]any{"type": reqBroadcastClientCount, "requestId": id, "clientCount": n})
		},
		func(_ rooms.SocketID, args parser.Args) {
			var first parser.Arg
			if len(args) > 0 {
				first = args[0]
			}
			b, err := encodeBroadcastAck(id, first)
			if err != nil {
				a.report(fmt.Errorf("redisadapter: encode acknowledgement: %w", err))
				return
			}
			a.publishResponse(req, b)
		})
}

// onResponse takes the answer of another server to one of our requests.
func (a *Adapter) onResponse(b []byte) error {
	resp, err := decodeMessage(b)
	if err != nil {
		return err
	}
	id := resp.requestID()
	if id == "" {
		return nil
	}
	var sockets []sockets.Info
	if resp.Sockets != nil {
		if sockets, err = fromWireSockets(resp.Sockets); err != nil {
			return err
		}
	}
	ar, p := a.lookup(id)
	if ar != nil {
		switch resp.Type {
		case reqBroadcastClientCount:
			ar.addCount(resp.ClientCount)
		case reqBroadcastAck:
			arg, err := argOf(resp.Packet, resp.packetAtts)
			if err != nil {
				return err
			}
			ar.addAck(arg)
		}
		return nil
	}
	if p == nil {
		return nil
	}
	switch p.kind {
	case reqRemoteFetch:
		if resp.Sockets == nil {
			return malformed("fetch response without sockets")
		}
		a.answer(id, p, sockets, parser.Arg{}, true)
	case reqServerSideEmit:
		arg, err := argOf(resp.Data, resp.dataAtts)
		if err != nil {
			return err
		}
		a.answer(id, p, nil, arg, false)
	}
	return nil
}
