package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/echo-socketio/echo-socketio/rooms/internal/rediscluster"

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
	return &outOpts{Rooms: rediscluster.FromRooms(sel.Rooms), Except: rediscluster.FromRooms(sel.Except)}
}

// ServerCount returns the number of servers in the cluster, this one included: the
// subscribers of the request channel (PUBSUB NUMSUB, summed over the masters of a cluster).
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	return rediscluster.CountSubscribers(ctx, a.client, a.opts.RequestsTimeout, a.requestChannel, false)
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
	return a.core.GatherSockets(ctx, sel, rediscluster.ReqRemoteFetch, func(id string) error {
		return a.publishRequest(ctx, &outRequest{UID: a.uid, RequestID: id, Type: rediscluster.ReqRemoteFetch, Opts: selOpts(&sel)})
	})
}

// AddSockets makes the selected sockets of every server join rooms. Like the Node adapter,
// it does not wait for the other servers to do it.
func (a *Adapter) AddSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	_ = a.core.Local.AddSockets(ctx, sel, r...)
	if sel.Flags.Local || len(r) == 0 {
		return nil
	}
	return a.publishRequest(ctx, &outRequest{UID: a.uid, Type: rediscluster.ReqRemoteJoin, Opts: selOpts(&sel), Rooms: rediscluster.FromRooms(r)})
}

// DelSockets makes the selected sockets of every server leave rooms, without waiting for the
// other servers to do it.
func (a *Adapter) DelSockets(ctx context.Context, sel rooms.Selection, r ...rooms.Room) error {
	_ = a.core.Local.DelSockets(ctx, sel, r...)
	if sel.Flags.Local || len(r) == 0 {
		return nil
	}
	return a.publishRequest(ctx, &outRequest{UID: a.uid, Type: rediscluster.ReqRemoteLeave, Opts: selOpts(&sel), Rooms: rediscluster.FromRooms(r)})
}

// DisconnectSockets disconnects the selected sockets of every server, without waiting for
// the other servers to do it.
func (a *Adapter) DisconnectSockets(ctx context.Context, sel rooms.Selection, closeConn bool) error {
	_ = a.core.Local.DisconnectSockets(ctx, sel, closeConn)
	if sel.Flags.Local {
		return nil
	}
	return a.publishRequest(ctx, &outRequest{UID: a.uid, Type: rediscluster.ReqRemoteDisconnect, Opts: selOpts(&sel), Close: &closeConn})
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
	return a.core.EmitToServers(ctx, event, args, withAck, rediscluster.ReqServerSideEmit, func(packet parser.Arg, id string) error {
		if !packet.HasBinary() {
			return a.publishRequest(ctx, &outRequest{UID: a.uid, RequestID: id, Type: rediscluster.ReqServerSideEmit, Data: packet.JSON()})
		}
		fields := []rediscluster.MPField{{Key: "uid", Val: a.uid}}
		if id != "" {
			fields = append(fields, rediscluster.MPField{Key: "requestId", Val: id})
		}
		b, err := rediscluster.EncodeFields(append(fields, rediscluster.MPField{Key: "type", Val: rediscluster.ReqServerSideEmit}, rediscluster.MPField{Key: "data", Val: packet}))
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
	return a.core.StartBroadcastWithAck(p, sel, count, ack,
		func(id string) ([]byte, error) {
			return rediscluster.EncodeBroadcastRequest(a.uid, id, a.name, p, &sel)
		},
		func(msg []byte) error { return a.publishAsync(a.requestChannel, msg) })
}

// publishResponse queues the answer to a request, on the channel the options choose.
func (a *Adapter) publishResponse(req *rediscluster.Message, payload []byte) {
	ch := a.responseChannel
	if a.opts.PublishOnSpecificResponseChannel && req.UID != "" {
		ch = a.responseChannel + req.UID + "#"
	}
	_ = a.publishAsync(ch, payload)
}

func (a *Adapter) respondJSON(req *rediscluster.Message, v any) error {
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
	for _, id := range a.core.Local.Sockets() {
		for _, r := range a.core.Local.SocketRooms(id) {
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
	req, err := rediscluster.DecodeMessage(b)
	if err != nil {
		return err
	}
	if req.UID == a.uid {
		return nil // ours: applied locally already
	}
	sel := rooms.Selection{}
	if req.BroadcastOpts != nil {
		sel = req.BroadcastOpts.Selection()
	}
	sel.Flags.Local = true
	ctx := a.core.Ctx
	switch req.Type {
	case rediscluster.ReqSockets:
		rs, err := rediscluster.RoomList(req.Rooms)
		if err != nil {
			return err
		}
		ids := a.core.Local.Sockets(rediscluster.ToRooms(rs)...)
		if ids == nil {
			ids = []rooms.SocketID{}
		}
		return a.respondJSON(req, map[string]any{"requestId": req.ReqID(), "sockets": ids})
	case rediscluster.ReqAllRooms:
		return a.respondJSON(req, map[string]any{"requestId": req.ReqID(), "rooms": a.localRooms()})
	case rediscluster.ReqRemoteJoin, rediscluster.ReqRemoteLeave:
		if req.BroadcastOpts != nil {
			rs, err := rediscluster.RoomList(req.Rooms)
			if err != nil {
				return err
			}
			if req.Type == rediscluster.ReqRemoteJoin {
				return a.core.Local.AddSockets(ctx, sel, rediscluster.ToRooms(rs)...)
			}
			return a.core.Local.DelSockets(ctx, sel, rediscluster.ToRooms(rs)...)
		}
		// The single-socket form of older adapters.
		id := rooms.SocketID(req.Sid)
		room, err := rediscluster.RoomName(req.Room)
		if err != nil || a.core.Local.SocketRooms(id) == nil {
			return err
		}
		if req.Type == rediscluster.ReqRemoteJoin {
			a.core.Local.AddAll(id, rooms.Room(room))
		} else {
			a.core.Local.Del(id, rooms.Room(room))
		}
		return a.respondJSON(req, map[string]any{"requestId": req.ReqID()})
	case rediscluster.ReqRemoteDisconnect:
		if req.BroadcastOpts != nil {
			return a.core.Local.DisconnectSockets(ctx, sel, req.Close)
		}
		id := rooms.SocketID(req.Sid)
		if a.core.Local.SocketRooms(id) == nil {
			return nil
		}
		a.core.Namespace.Disconnect(id, req.Close)
		return a.respondJSON(req, map[string]any{"requestId": req.ReqID()})
	case rediscluster.ReqRemoteFetch:
		return a.respondJSON(req, map[string]any{"requestId": req.ReqID(), "sockets": a.core.LocalWireSockets(sel)})
	case rediscluster.ReqServerSideEmit:
		var reply func(parser.Arg)
		if req.RequestID != nil {
			id := *req.RequestID
			reply = func(first parser.Arg) {
				var b []byte
				var err error
				if first.HasBinary() {
					b, err = rediscluster.EncodeFields([]rediscluster.MPField{{Key: "type", Val: rediscluster.ReqServerSideEmit}, {Key: "requestId", Val: id}, {Key: "data", Val: first}})
				} else {
					b, err = json.Marshal(map[string]any{"type": rediscluster.ReqServerSideEmit, "requestId": id, "data": first.JSON()})
				}
				if err != nil {
					a.core.Report(fmt.Errorf("redisadapter: encode response: %w", err))
					return
				}
				a.publishResponse(req, b)
			}
		}
		return a.core.OnServerSideEmit(req.Data, req.DataAtts, reply != nil, reply)
	case rediscluster.ReqBroadcast:
		return a.onBroadcastRequest(req, sel)
	}
	return nil
}

func (a *Adapter) onBroadcastRequest(req *rediscluster.Message, sel rooms.Selection) error {
	p := req.BroadcastPacket
	if p == nil || !p.Type.IsEvent() {
		return rediscluster.Malformed("broadcast request without an event packet")
	}
	if _, err := parser.EventName(p.Data); err != nil {
		return rediscluster.Malformed("broadcast event: %v", err)
	}
	if p.Namespace != a.name {
		return nil
	}
	id := req.ReqID()
	return a.core.OnBroadcastWithAck(p, sel,
		func(n int) {
			_ = a.respondJSON(req, map[string]any{"type": rediscluster.ReqBroadcastClientCount, "requestId": id, "clientCount": n})
		},
		func(_ rooms.SocketID, args parser.Args) {
			var first parser.Arg
			if len(args) > 0 {
				first = args[0]
			}
			b, err := rediscluster.EncodeBroadcastAck(id, first)
			if err != nil {
				a.core.Report(fmt.Errorf("redisadapter: encode acknowledgement: %w", err))
				return
			}
			a.publishResponse(req, b)
		})
}

// onResponse takes the answer of another server to one of our requests.
func (a *Adapter) onResponse(b []byte) error {
	resp, err := rediscluster.DecodeMessage(b)
	if err != nil {
		return err
	}
	id := resp.ReqID()
	if id == "" {
		return nil
	}
	var sockets []sockets.Info
	if resp.Sockets != nil {
		if sockets, err = rediscluster.FromWireSockets(resp.Sockets); err != nil {
			return err
		}
	}
	ar, p := a.core.Lookup(id)
	if ar != nil {
		switch resp.Type {
		case rediscluster.ReqBroadcastClientCount:
			ar.AddCount(resp.ClientCount)
		case rediscluster.ReqBroadcastAck:
			arg, err := rediscluster.ArgOf(resp.Packet, resp.PacketAtts)
			if err != nil {
				return err
			}
			ar.AddAck(arg)
		}
		return nil
	}
	if p == nil {
		return nil
	}
	switch p.Kind {
	case rediscluster.ReqRemoteFetch:
		if resp.Sockets == nil {
			return rediscluster.Malformed("fetch response without sockets")
		}
		a.core.Answer(id, p, sockets, parser.Arg{}, true)
	case rediscluster.ReqServerSideEmit:
		arg, err := rediscluster.ArgOf(resp.Data, resp.DataAtts)
		if err != nil {
			return err
		}
		a.core.Answer(id, p, nil, arg, false)
	}
	return nil
}
