package rediscluster

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/vmihailenco/msgpack/v5"
)

// The message types of the cluster protocol of socket.io-adapter (ClusterAdapter), which the
// sharded Node adapter speaks, with their numbers on the wire.
const (
	cmInitialHeartbeat       = 1  // INITIAL_HEARTBEAT: not sent by the sharded adapter
	cmHeartbeat              = 2  // HEARTBEAT: idem
	MsgBroadcast             = 3  // BROADCAST, with acknowledgements when it has a requestId
	cmSocketsJoin            = 4  // SOCKETS_JOIN: selected sockets join rooms
	cmSocketsLeave           = 5  // SOCKETS_LEAVE: selected sockets leave rooms
	cmDisconnectSockets      = 6  // DISCONNECT_SOCKETS
	MsgFetchSockets          = 7  // FETCH_SOCKETS: describe the selected sockets
	cmFetchSocketsResponse   = 8  // FETCH_SOCKETS_RESPONSE
	MsgServerSideEmit        = 9  // SERVER_SIDE_EMIT, with an answer when it has a requestId
	cmServerSideEmitResponse = 10 // SERVER_SIDE_EMIT_RESPONSE
	cmBroadcastClientCount   = 11 // BROADCAST_CLIENT_COUNT: how many sockets a server sent it to
	cmBroadcastAck           = 12 // BROADCAST_ACK: one acknowledgement of a broadcast
	cmAdapterClose           = 13 // ADAPTER_CLOSE: not sent by the sharded adapter
)

// ClusterMsg is a decoded message of the cluster protocol: {uid, nsp, type, data}.
type ClusterMsg struct {
	UID  string
	nsp  string
	Type int

	// The fields of data that the type uses.
	RequestID   *string
	Packet      *parser.Packet  // BROADCAST
	value       json.RawMessage // SERVER_SIDE_EMIT: [event, ...args]; the responses: the answer
	valueAtts   [][]byte        // the binary values named by the placeholders of value
	Opts        *wireOpts
	rooms       []string
	close       bool
	sockets     json.RawMessage // FETCH_SOCKETS_RESPONSE
	clientCount int
}

func (m *ClusterMsg) Selection() rooms.Selection {
	if m.Opts == nil {
		return rooms.Selection{}
	}
	return m.Opts.Selection()
}

// isResponse reports whether the message answers a request of one server.
func (m *ClusterMsg) isResponse() bool {
	switch m.Type {
	case cmFetchSocketsResponse, cmServerSideEmitResponse, cmBroadcastClientCount, cmBroadcastAck:
		return true
	}
	return false
}

// DecodeCluster reads a message: JSON when it starts with '{', as the Node adapter decides,
// MessagePack otherwise (the Node adapter uses it for messages with binary values).
func DecodeCluster(b []byte) (*ClusterMsg, error) {
	if len(b) == 0 {
		return nil, Malformed("empty")
	}
	if b[0] == '{' {
		return decodeClusterJSON(b)
	}
	return decodeClusterMsgpack(b)
}

// jsonFlags are the flags of a JSON selection.
type jsonFlags struct {
	Volatile bool     `json:"volatile"`
	Compress bool     `json:"compress"`
	Local    bool     `json:"local"`
	Timeout  *float64 `json:"timeout"`
}

type jsonSel struct {
	Rooms  json.RawMessage `json:"rooms"`
	Except json.RawMessage `json:"except"`
	Flags  *jsonFlags      `json:"flags"`
}

func decodeClusterJSON(b []byte) (*ClusterMsg, error) {
	var top struct {
		UID  string          `json:"uid"`
		Nsp  string          `json:"nsp"`
		Type int             `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, Malformed("JSON: %v", err)
	}
	msg := &ClusterMsg{UID: top.UID, nsp: top.Nsp, Type: top.Type}
	if len(top.Data) == 0 || string(top.Data) == "null" {
		return msg, nil
	}
	var d struct {
		RequestID   *string         `json:"requestId"`
		Packet      json.RawMessage `json:"packet"`
		Opts        *jsonSel        `json:"opts"`
		Rooms       json.RawMessage `json:"rooms"`
		Close       bool            `json:"close"`
		Sockets     json.RawMessage `json:"sockets"`
		ClientCount float64         `json:"clientCount"`
	}
	if err := json.Unmarshal(top.Data, &d); err != nil {
		return nil, Malformed("JSON data: %v", err)
	}
	msg.RequestID, msg.close, msg.sockets = d.RequestID, d.Close, d.Sockets
	if d.ClientCount < 0 || d.ClientCount > 1<<40 || math.IsNaN(d.ClientCount) {
		return nil, Malformed("client count %v", d.ClientCount)
	}
	msg.clientCount = int(d.ClientCount)
	if d.Opts != nil {
		var o wireOpts
		var err error
		if o.Rooms, err = RoomList(d.Opts.Rooms); err != nil {
			return nil, err
		}
		if o.Except, err = RoomList(d.Opts.Except); err != nil {
			return nil, err
		}
		if f := d.Opts.Flags; f != nil {
			o.Flags = rooms.Flags{Volatile: f.Volatile, Compress: f.Compress, Local: f.Local}
			if f.Timeout != nil && *f.Timeout > 0 && *f.Timeout < 1<<40 {
				o.Flags.Timeout = msDuration(int64(*f.Timeout))
			}
		}
		msg.Opts = &o
	}
	if d.Rooms != nil {
		var err error
		if msg.rooms, err = RoomList(d.Rooms); err != nil {
			return nil, err
		}
	}
	if d.Packet != nil {
		if msg.Type == MsgBroadcast {
			var p struct {
				Type *int            `json:"type"`
				Data json.RawMessage `json:"data"`
				Nsp  *string         `json:"nsp"`
			}
			if err := json.Unmarshal(d.Packet, &p); err != nil {
				return nil, Malformed("packet: %v", err)
			}
			if p.Type == nil || *p.Type < 0 || *p.Type > int(parser.BinaryAck) {
				return nil, Malformed("packet without a valid type")
			}
			pk := &parser.Packet{Type: parser.Type(*p.Type), Data: p.Data, Namespace: "/"}
			if p.Nsp != nil {
				pk.Namespace = *p.Nsp
			}
			msg.Packet = pk
		} else {
			msg.value = d.Packet
		}
	}
	return msg, nil
}

func decodeClusterMsgpack(b []byte) (*ClusterMsg, error) {
	m := NewMPReader(b)
	msg := &ClusterMsg{}
	var data []byte
	err := m.Fields(func(k string) (err error) {
		switch k {
		case "uid":
			if !m.isNil() {
				msg.UID, err = m.Str()
			}
		case "nsp":
			msg.nsp, err = m.Str()
		case "type":
			msg.Type, err = m.msgType("message")
		case "data":
			// Read once the type is known, which may come later.
			data, err = m.raw()
		default:
			err = m.Skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if data != nil {
		if err := msg.readData(NewMPReader(data)); err != nil {
			return nil, err
		}
	}
	return msg, nil
}

// readData reads the data map of a MessagePack message.
func (msg *ClusterMsg) readData(m *mpReader) error {
	if m.isNil() {
		return nil
	}
	return m.Fields(func(k string) (err error) {
		switch k {
		case "requestId":
			msg.RequestID, err = m.requestID()
		case "packet":
			if msg.Type == MsgBroadcast {
				msg.Packet, _, err = m.packet()
			} else {
				msg.valueAtts = nil
				msg.value, err = m.JSON(nil, &msg.valueAtts, 0)
			}
		case "opts":
			var o wireOpts
			if err = m.opts(&o); err == nil {
				msg.Opts = &o
			}
		case "rooms":
			msg.rooms, err = m.StrList()
		case "close":
			msg.close, err = m.boolean()
		case "sockets":
			msg.sockets, err = m.JSON(nil, nil, 0)
		case "clientCount":
			msg.clientCount, err = m.clientCount()
		default:
			err = m.Skip()
		}
		return err
	})
}

// OutMsg is a message in JSON: {uid, nsp, type, data}.
type OutMsg struct {
	UID  string `json:"uid"`
	Nsp  string `json:"nsp"`
	Type int    `json:"type"`
	Data any    `json:"data,omitempty"`
}

// outSel is the selection of a JSON message: {rooms, except, flags}.
type outSel struct {
	Rooms  []string       `json:"rooms"`
	Except []string       `json:"except"`
	Flags  map[string]any `json:"flags"`
}

func toOutSel(sel *rooms.Selection) *outSel {
	o := &outSel{Rooms: FromRooms(sel.Rooms), Except: FromRooms(sel.Except), Flags: map[string]any{}}
	if sel.Flags.Volatile {
		o.Flags["volatile"] = true
	}
	if sel.Flags.Compress {
		o.Flags["compress"] = true
	}
	if sel.Flags.Local {
		o.Flags["local"] = true
	}
	if sel.Flags.Timeout > 0 {
		o.Flags["timeout"] = sel.Flags.Timeout.Milliseconds()
	}
	return o
}

// outPacket is a packet without binary in JSON: {type, data, nsp}.
type outPacket struct {
	Type int             `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
	Nsp  string          `json:"nsp"`
}

// EncodeClusterBroadcast returns a BROADCAST message: JSON when the packet has no binary
// attachment, MessagePack with the attachments as binary values when it has, as the Node
// adapter chooses. requestID is empty for a broadcast without acknowledgements.
func EncodeClusterBroadcast(uid, nsp, requestID string, p *parser.Packet, sel *rooms.Selection) ([]byte, error) {
	data, isMsgpack, err := EncodeBroadcastData(nsp, requestID, p, sel)
	if err != nil {
		return nil, err
	}
	return WrapCluster(uid, nsp, MsgBroadcast, data, isMsgpack), nil
}

// EncodeBroadcastData returns the data of a BROADCAST message, {packet, opts, requestId}: JSON
// when the packet has no binary attachment, MessagePack (isMsgpack) when it has.
func EncodeBroadcastData(nsp, requestID string, p *parser.Packet, sel *rooms.Selection) (data []byte, isMsgpack bool, err error) {
	if len(p.Attachments) == 0 {
		t := p.Type
		if t == parser.BinaryEvent {
			t = parser.Event
		}
		m := map[string]any{
			"packet": outPacket{Type: int(t), Data: p.Data, Nsp: nsp},
			"opts":   toOutSel(sel),
		}
		if requestID != "" {
			m["requestId"] = requestID
		}
		data, err = json.Marshal(m)
		return data, false, err
	}
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	n := 2
	if requestID != "" {
		n++
	}
	_ = e.EncodeMapLen(n)
	if err := encodePacketAndOpts(e, p, nsp, sel); err != nil {
		return nil, false, err
	}
	if requestID != "" {
		_ = e.EncodeString("requestId")
		_ = e.EncodeString(requestID)
	}
	return buf.Bytes(), true, nil
}

// WrapCluster returns the message {uid, nsp, type, data} around data, the encoded data
// part: MessagePack when isMsgpack, JSON otherwise; nil data is left out.
func WrapCluster(uid, nsp string, typ int, data []byte, isMsgpack bool) []byte {
	if !isMsgpack {
		out := make([]byte, 0, len(data)+len(uid)+len(nsp)+40)
		out = append(out, `{"uid":`...)
		out = AppendJSONString(out, uid)
		out = append(out, `,"nsp":`...)
		out = AppendJSONString(out, nsp)
		out = append(out, `,"type":`...)
		out = strconv.AppendInt(out, int64(typ), 10)
		if data != nil {
			out = append(out, `,"data":`...)
			out = append(out, data...)
		}
		return append(out, '}')
	}
	var buf bytes.Buffer
	buf.Grow(len(data) + len(uid) + len(nsp) + 24)
	e := msgpack.NewEncoder(&buf)
	n := 3
	if data != nil {
		n++
	}
	_ = e.EncodeMapLen(n)
	_ = e.EncodeString("uid")
	_ = e.EncodeString(uid)
	_ = e.EncodeString("nsp")
	_ = e.EncodeString(nsp)
	_ = e.EncodeString("type")
	_ = e.EncodeInt(int64(typ))
	if data != nil {
		_ = e.EncodeString("data")
		buf.Write(data)
	}
	return buf.Bytes()
}
