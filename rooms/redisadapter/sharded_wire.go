package redisadapter

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
	cmBroadcast              = 3  // BROADCAST, with acknowledgements when it has a requestId
	cmSocketsJoin            = 4  // SOCKETS_JOIN: selected sockets join rooms
	cmSocketsLeave           = 5  // SOCKETS_LEAVE: selected sockets leave rooms
	cmDisconnectSockets      = 6  // DISCONNECT_SOCKETS
	cmFetchSockets           = 7  // FETCH_SOCKETS: describe the selected sockets
	cmFetchSocketsResponse   = 8  // FETCH_SOCKETS_RESPONSE
	cmServerSideEmit         = 9  // SERVER_SIDE_EMIT, with an answer when it has a requestId
	cmServerSideEmitResponse = 10 // SERVER_SIDE_EMIT_RESPONSE
	cmBroadcastClientCount   = 11 // BROADCAST_CLIENT_COUNT: how many sockets a server sent it to
	cmBroadcastAck           = 12 // BROADCAST_ACK: one acknowledgement of a broadcast
	cmAdapterClose           = 13 // ADAPTER_CLOSE: not sent by the sharded adapter
)

// clusterMsg is a decoded message of the cluster protocol: {uid, nsp, type, data}.
type clusterMsg struct {
	uid string
	nsp string
	typ int

	// The fields of data that the type uses.
	requestID   *string
	packet      *parser.Packet  // BROADCAST
	value       json.RawMessage // SERVER_SIDE_EMIT: [event, ...args]; the responses: the answer
	valueAtts   [][]byte        // the binary values named by the placeholders of value
	opts        *wireOpts
	rooms       []string
	close       bool
	sockets     json.RawMessage // FETCH_SOCKETS_RESPONSE
	clientCount int
}

func (m *clusterMsg) selection() rooms.Selection {
	if m.opts == nil {
		return rooms.Selection{}
	}
	return m.opts.selection()
}

// isResponse reports whether the message answers a request of one server.
func (m *clusterMsg) isResponse() bool {
	switch m.typ {
	case cmFetchSocketsResponse, cmServerSideEmitResponse, cmBroadcastClientCount, cmBroadcastAck:
		return true
	}
	return false
}

// decodeCluster reads a message: JSON when it starts with '{', as the Node adapter decides,
// MessagePack otherwise (the Node adapter uses it for messages with binary values).
func decodeCluster(b []byte) (*clusterMsg, error) {
	if len(b) == 0 {
		return nil, malformed("empty")
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

func decodeClusterJSON(b []byte) (*clusterMsg, error) {
	var top struct {
		UID  string          `json:"uid"`
		Nsp  string          `json:"nsp"`
		Type int             `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, malformed("JSON: %v", err)
	}
	msg := &clusterMsg{uid: top.UID, nsp: top.Nsp, typ: top.Type}
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
		return nil, malformed("JSON data: %v", err)
	}
	msg.requestID, msg.close, msg.sockets = d.RequestID, d.Close, d.Sockets
	if d.ClientCount < 0 || d.ClientCount > 1<<40 || math.IsNaN(d.ClientCount) {
		return nil, malformed("client count %v", d.ClientCount)
	}
	msg.clientCount = int(d.ClientCount)
	if d.Opts != nil {
		var o wireOpts
		var err error
		if o.Rooms, err = roomList(d.Opts.Rooms); err != nil {
			return nil, err
		}
		if o.Except, err = roomList(d.Opts.Except); err != nil {
			return nil, err
		}
		if f := d.Opts.Flags; f != nil {
			o.Flags = rooms.Flags{Volatile: f.Volatile, Compress: f.Compress, Local: f.Local}
			if f.Timeout != nil && *f.Timeout > 0 && *f.Timeout < 1<<40 {
				o.Flags.Timeout = msDuration(int64(*f.Timeout))
			}
		}
		msg.opts = &o
	}
	if d.Rooms != nil {
		var err error
		if msg.rooms, err = roomList(d.Rooms); err != nil {
			return nil, err
		}
	}
	if d.Packet != nil {
		if msg.typ == cmBroadcast {
			var p struct {
				Type *int            `json:"type"`
				Data json.RawMessage `json:"data"`
				Nsp  *string         `json:"nsp"`
			}
			if err := json.Unmarshal(d.Packet, &p); err != nil {
				return nil, malformed("packet: %v", err)
			}
			if p.Type == nil || *p.Type < 0 || *p.Type > int(parser.BinaryAck) {
				return nil, malformed("packet without a valid type")
			}
			pk := &parser.Packet{Type: parser.Type(*p.Type), Data: p.Data, Namespace: "/"}
			if p.Nsp != nil {
				pk.Namespace = *p.Nsp
			}
			msg.packet = pk
		} else {
			msg.value = d.Packet
		}
	}
	return msg, nil
}

func decodeClusterMsgpack(b []byte) (*clusterMsg, error) {
	m := newMPReader(b)
	msg := &clusterMsg{}
	var data []byte
	err := m.fields(func(k string) (err error) {
		switch k {
		case "uid":
			if !m.isNil() {
				msg.uid, err = m.str()
			}
		case "nsp":
			msg.nsp, err = m.str()
		case "type":
			msg.typ, err = m.msgType("message")
		case "data":
			// Read once the type is known, which may come later.
			data, err = m.raw()
		default:
			err = m.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if data != nil {
		if err := msg.readData(newMPReader(data)); err != nil {
			return nil, err
		}
	}
	return msg, nil
}

// readData reads the data map of a MessagePack message.
func (msg *clusterMsg) readData(m *mpReader) error {
	if m.isNil() {
		return nil
	}
	return m.fields(func(k string) (err error) {
		switch k {
		case "requestId":
			msg.requestID, err = m.requestID()
		case "packet":
			if msg.typ == cmBroadcast {
				msg.packet, _, err = m.packet()
			} else {
				msg.valueAtts = nil
				msg.value, err = m.json(nil, &msg.valueAtts, 0)
			}
		case "opts":
			var o wireOpts
			if err = m.opts(&o); err == nil {
				msg.opts = &o
			}
		case "rooms":
			msg.rooms, err = m.strList()
		case "close":
			msg.close, err = m.boolean()
		case "sockets":
			msg.sockets, err = m.json(nil, nil, 0)
		case "clientCount":
			msg.clientCount, err = m.clientCount()
		default:
			err = m.skip()
		}
		return err
	})
}

// outMsg is a message in JSON: {uid, nsp, type, data}.
type outMsg struct {
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
	o := &outSel{Rooms: fromRooms(sel.Rooms), Except: fromRooms(sel.Except), Flags: map[string]any{}}
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

// encodeClusterBroadcast returns a BROADCAST message: JSON when the packet has no binary
// attachment, MessagePack with the attachments as binary values when it has, as the Node
// adapter chooses. requestID is empty for a broadcast without acknowledgements.
func encodeClusterBroadcast(uid, nsp, requestID string, p *parser.Packet, sel *rooms.Selection) ([]byte, error) {
	data, isMsgpack, err := encodeBroadcastData(nsp, requestID, p, sel)
	if err != nil {
		return nil, err
	}
	return wrapCluster(uid, nsp, cmBroadcast, data, isMsgpack), nil
}

// encodeBroadcastData returns the data of a BROADCAST message, {packet, opts, requestId}: JSON
// when the packet has no binary attachment, MessagePack (isMsgpack) when it has.
func encodeBroadcastData(nsp, requestID string, p *parser.Packet, sel *rooms.Selection) (data []byte, isMsgpack bool, err error) {
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

// wrapCluster returns the message {uid, nsp, type, data} around data, the encoded data
// part: MessagePack when isMsgpack, JSON otherwise; nil data is left out.
func wrapCluster(uid, nsp string, typ int, data []byte, isMsgpack bool) []byte {
	if !isMsgpack {
		out := make([]byte, 0, len(data)+len(uid)+len(nsp)+40)
		out = append(out, `{"uid":`...)
		out = appendJSONString(out, uid)
		out = append(out, `,"nsp":`...)
		out = appendJSONString(out, nsp)
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
