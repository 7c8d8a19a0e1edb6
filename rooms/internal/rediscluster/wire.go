package rediscluster

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/vmihailenco/msgpack/v5"
)

// The request types of the Node adapter, with their numbers on the wire.
const (
	ReqSockets              = 0 // SOCKETS: the IDs of the sockets in some rooms (older adapters)
	ReqAllRooms             = 1 // ALL_ROOMS: the rooms of every server
	ReqRemoteJoin           = 2 // REMOTE_JOIN: selected sockets join rooms
	ReqRemoteLeave          = 3 // REMOTE_LEAVE: selected sockets leave rooms
	ReqRemoteDisconnect     = 4 // REMOTE_DISCONNECT: selected sockets are disconnected
	ReqRemoteFetch          = 5 // REMOTE_FETCH: describe the selected sockets
	ReqServerSideEmit       = 6 // SERVER_SIDE_EMIT: an event for the other servers
	ReqBroadcast            = 7 // BROADCAST: a broadcast with acknowledgements
	ReqBroadcastClientCount = 8 // BROADCAST_CLIENT_COUNT: how many sockets a server sent it to
	ReqBroadcastAck         = 9 // BROADCAST_ACK: one acknowledgement of such a broadcast
)

// wireOpts is the selection part of a message: rooms, except and flags.
type wireOpts struct {
	Rooms  []string `json:"rooms"`
	Except []string `json:"except"`
	Flags  rooms.Flags
}

func (o *wireOpts) Selection() rooms.Selection {
	return rooms.Selection{Rooms: ToRooms(o.Rooms), Except: ToRooms(o.Except), Flags: o.Flags}
}

func ToRooms(s []string) []rooms.Room {
	if len(s) == 0 {
		return nil
	}
	out := make([]rooms.Room, len(s))
	for i, r := range s {
		out[i] = rooms.Room(r)
	}
	return out
}

func FromRooms(r []rooms.Room) []string {
	out := make([]string, len(r))
	for i, x := range r {
		out[i] = string(x)
	}
	return out
}

// encodeOpts writes the options map of a broadcast: {rooms, except, flags}.
func encodeOpts(e *msgpack.Encoder, sel *rooms.Selection) error {
	_ = e.EncodeMapLen(3)
	_ = e.EncodeString("rooms")
	_ = e.EncodeArrayLen(len(sel.Rooms))
	for _, r := range sel.Rooms {
		_ = e.EncodeString(string(r))
	}
	_ = e.EncodeString("except")
	_ = e.EncodeArrayLen(len(sel.Except))
	for _, r := range sel.Except {
		_ = e.EncodeString(string(r))
	}
	_ = e.EncodeString("flags")
	f := sel.Flags
	n := 0
	for _, set := range []bool{f.Volatile, f.Compress, f.Local, f.Timeout > 0} {
		if set {
			n++
		}
	}
	_ = e.EncodeMapLen(n)
	if f.Volatile {
		_ = e.EncodeString("volatile")
		_ = e.EncodeBool(true)
	}
	if f.Compress {
		_ = e.EncodeString("compress")
		_ = e.EncodeBool(true)
	}
	if f.Local {
		_ = e.EncodeString("local")
		_ = e.EncodeBool(true)
	}
	if f.Timeout > 0 {
		_ = e.EncodeString("timeout")
		if err := e.EncodeInt(f.Timeout.Milliseconds()); err != nil {
			return err
		}
	}
	return nil
}

// encodePacket writes a packet as the Node adapter does: {type, data, nsp}, with the binary
// attachments inside data as binary values. Binary packets travel with the plain EVENT and
// ACK types, as socket.io emits them; the receiving server's encoder finds the binary.
func encodePacket(e *msgpack.Encoder, p *parser.Packet, nsp string) error {
	t := p.Type
	switch t {
	case parser.BinaryEvent:
		t = parser.Event
	case parser.BinaryAck:
		t = parser.Ack
	}
	n := 2
	if p.Data != nil {
		n++
	}
	_ = e.EncodeMapLen(n)
	_ = e.EncodeString("type")
	_ = e.EncodeInt(int64(t))
	if p.Data != nil {
		_ = e.EncodeString("data")
		if err := JSONToMsgpack(e, p.Data, p.Attachments); err != nil {
			return err
		}
	}
	_ = e.EncodeString("nsp")
	return e.EncodeString(nsp)
}

// encodePacketAndOpts writes the entries packet and opts of a broadcast request's map.
func encodePacketAndOpts(e *msgpack.Encoder, p *parser.Packet, nsp string, sel *rooms.Selection) error {
	_ = e.EncodeString("packet")
	if err := encodePacket(e, p, nsp); err != nil {
		return err
	}
	_ = e.EncodeString("opts")
	return encodeOpts(e, sel)
}

// EncodeBroadcast returns the message of a broadcast: [uid, packet, opts] in MessagePack.
func EncodeBroadcast(uid, nsp string, p *parser.Packet, sel *rooms.Selection) ([]byte, error) {
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	_ = e.EncodeArrayLen(3)
	_ = e.EncodeString(uid)
	if err := encodePacket(e, p, nsp); err != nil {
		return nil, err
	}
	if err := encodeOpts(e, sel); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// EncodeBroadcastRequest returns a BROADCAST request in MessagePack:
// {uid, requestId, type, packet, opts}.
func EncodeBroadcastRequest(uid, requestID, nsp string, p *parser.Packet, sel *rooms.Selection) ([]byte, error) {
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	_ = e.EncodeMapLen(5)
	_ = e.EncodeString("uid")
	_ = e.EncodeString(uid)
	_ = e.EncodeString("requestId")
	_ = e.EncodeString(requestID)
	_ = e.EncodeString("type")
	_ = e.EncodeInt(ReqBroadcast)
	if err := encodePacketAndOpts(e, p, nsp, sel); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// EncodeBroadcastAck returns a BROADCAST_ACK response in MessagePack:
// {type, requestId, packet} where packet is the first argument of the acknowledgement, its
// binary values as binary.
func EncodeBroadcastAck(requestID string, arg parser.Arg) ([]byte, error) {
	return EncodeFields([]MPField{{"type", ReqBroadcastAck}, {"requestId", requestID}, {"packet", arg}})
}

// broadcastMsg is a decoded broadcast.
type broadcastMsg struct {
	UID       string
	Packet    *parser.Packet
	Namespace string
	Opts      wireOpts
}

// DecodeBroadcast reads [uid, packet, opts].
func DecodeBroadcast(b []byte) (*broadcastMsg, error) {
	m := NewMPReader(b)
	n, err := m.arrayLen()
	if err != nil {
		return nil, err
	}
	if n < 2 {
		return nil, Malformed("broadcast of %d elements", n)
	}
	var msg broadcastMsg
	c, err := m.peek()
	if err != nil {
		return nil, err
	}
	if isIntCode(c) { // JavaScript would not, but an uid is only compared
		v, _ := m.integer()
		msg.UID = strconv.FormatInt(v, 10)
	} else if msg.UID, err = m.Str(); err != nil {
		return nil, err
	}
	if msg.Packet, msg.Namespace, err = m.packet(); err != nil {
		return nil, err
	}
	if n >= 3 {
		if err := m.opts(&msg.Opts); err != nil {
			return nil, err
		}
	}
	return &msg, nil
}

// packet reads a packet map {type, data, nsp, id}. A missing nsp is "/".
func (m *mpReader) packet() (*parser.Packet, string, error) {
	p := &parser.Packet{Type: 255}
	nsp := "/"
	err := m.Fields(func(k string) (err error) {
		switch k {
		case "type":
			t, err := m.integer()
			if err != nil {
				return err
			}
			if t < 0 || t > int64(parser.BinaryAck) {
				return Malformed("packet type %d", t)
			}
			p.Type = parser.Type(t)
		case "data":
			var atts [][]byte
			data, err := m.JSON(nil, &atts, 0)
			if err != nil {
				return err
			}
			p.Data, p.Attachments = data, atts
		case "nsp":
			if nsp, err = m.Str(); err != nil {
				return err
			}
		default: // id, attachments: the receiving server numbers its own acknowledgements
			return m.Skip()
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if !p.Type.Valid() {
		return nil, "", Malformed("packet without a type")
	}
	if len(p.Attachments) > 0 {
		switch p.Type {
		case parser.Event:
			p.Type = parser.BinaryEvent
		case parser.Ack:
			p.Type = parser.BinaryAck
		}
	}
	p.Namespace = nsp
	return p, nsp, nil
}

// opts reads {rooms, except, flags}; nil reads as no options.
func (m *mpReader) opts(o *wireOpts) error {
	if m.isNil() {
		return nil
	}
	return m.Fields(func(k string) (err error) {
		switch k {
		case "rooms":
			o.Rooms, err = m.StrList()
		case "except":
			o.Except, err = m.StrList()
		case "flags":
			err = m.flags(&o.Flags)
		default:
			err = m.Skip()
		}
		return err
	})
}

func (m *mpReader) flags(f *rooms.Flags) error {
	if m.isNil() {
		return nil
	}
	return m.Fields(func(k string) (err error) {
		switch k {
		case "volatile":
			f.Volatile, err = m.boolean()
		case "compress":
			f.Compress, err = m.boolean()
		case "local":
			f.Local, err = m.boolean()
		case "timeout":
			var ms int64
			if c, _ := m.peek(); isIntCode(c) || c == 0xca || c == 0xcb {
				ms, err = m.integer()
				if err == nil && ms > 0 && ms < 1<<40 {
					f.Timeout = msDuration(ms)
				}
			} else {
				err = m.Skip()
			}
		default:
			err = m.Skip()
		}
		return err
	})
}

// requestID reads a request ID.
func (m *mpReader) requestID() (*string, error) {
	id, err := m.Str()
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// msgType reads the type of a message, what it is named in errors.
func (m *mpReader) msgType(what string) (int, error) {
	t, err := m.integer()
	if err != nil {
		return 0, err
	}
	if t < 0 || t > 1<<20 {
		return 0, Malformed("%s type %d", what, t)
	}
	return int(t), nil
}

// clientCount reads the client count of an answer to a broadcast with acknowledgements.
func (m *mpReader) clientCount() (int, error) {
	c, err := m.integer()
	if err != nil {
		return 0, err
	}
	if c < 0 || c > 1<<40 {
		return 0, Malformed("client count %d", c)
	}
	return int(c), nil
}

// Message is a request or a response between servers, decoded from JSON or MessagePack.
type Message struct {
	UID         string          `json:"uid"`
	RequestID   *string         `json:"requestId"`
	Type        int             `json:"type"`
	Rooms       json.RawMessage `json:"rooms"`
	Opts        *jsonOpts       `json:"opts"`
	Close       bool            `json:"close"`
	Data        json.RawMessage `json:"data"`
	Sid         string          `json:"sid"`
	Room        json.RawMessage `json:"room"`
	Sockets     json.RawMessage `json:"sockets"`
	ClientCount int             `json:"clientCount"`
	Packet      json.RawMessage `json:"packet"`

	// The binary values named by the placeholders of Data and Packet, in a MessagePack
	// message.
	DataAtts, PacketAtts [][]byte

	// packet is the packet of a BROADCAST request; opts its selection.
	BroadcastPacket *parser.Packet
	BroadcastOpts   *wireOpts
}

func (m *Message) ReqID() string {
	if m.RequestID == nil {
		return ""
	}
	return *m.RequestID
}

// jsonOpts is the selection of a JSON request.
type jsonOpts struct {
	Rooms  json.RawMessage `json:"rooms"`
	Except json.RawMessage `json:"except"`
}

func (o *jsonOpts) wire() (*wireOpts, error) {
	r, err := RoomList(o.Rooms)
	if err != nil {
		return nil, err
	}
	x, err := RoomList(o.Except)
	if err != nil {
		return nil, err
	}
	return &wireOpts{Rooms: r, Except: x}, nil
}

// RoomList reads a JSON array of room names, strings or numbers; null or nothing is empty.
func RoomList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, Malformed("room list: %v", err)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		r, err := RoomName(it)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// RoomName reads a JSON room name: a string, or a number as JavaScript prints it.
func RoomName(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", Malformed("room name %.40s", raw)
}

// DecodeMessage reads a request or a response: JSON when it starts with '{', as the Node
// adapter decides, and MessagePack otherwise.
func DecodeMessage(b []byte) (*Message, error) {
	if len(b) == 0 {
		return nil, Malformed("empty")
	}
	var msg Message
	if b[0] == '{' {
		if err := json.Unmarshal(b, &msg); err != nil {
			return nil, Malformed("JSON: %v", err)
		}
		if msg.Opts != nil {
			o, err := msg.Opts.wire()
			if err != nil {
				return nil, err
			}
			msg.BroadcastOpts = o
		}
		return &msg, nil
	}
	m := NewMPReader(b)
	var rawPacket []byte
	err := m.Fields(func(k string) (err error) {
		switch k {
		case "uid":
			msg.UID, err = m.Str()
		case "requestId":
			msg.RequestID, err = m.requestID()
		case "type":
			msg.Type, err = m.msgType("request")
		case "packet":
			// A packet for BROADCAST, an acknowledgement's argument for BROADCAST_ACK: the
			// type may come later, so keep the raw value for now.
			rawPacket, err = m.raw()
		case "opts":
			var o wireOpts
			if err = m.opts(&o); err == nil {
				msg.BroadcastOpts = &o
			}
		case "rooms":
			var r []string
			if r, err = m.StrList(); err == nil {
				msg.Rooms, _ = json.Marshal(r)
			}
		case "close":
			msg.Close, err = m.boolean()
		case "data":
			msg.DataAtts = nil
			msg.Data, err = m.JSON(nil, &msg.DataAtts, 0)
		case "clientCount":
			msg.ClientCount, err = m.clientCount()
		case "sid":
			msg.Sid, err = m.Str()
		case "sockets":
			msg.Sockets, err = m.JSON(nil, nil, 0)
		default:
			err = m.Skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if rawPacket != nil {
		r := NewMPReader(rawPacket)
		if msg.Type == ReqBroadcast {
			if msg.BroadcastPacket, _, err = r.packet(); err != nil {
				return nil, err
			}
		} else if msg.Packet, err = r.JSON(nil, &msg.PacketAtts, 0); err != nil {
			return nil, err
		}
	}
	return &msg, nil
}
