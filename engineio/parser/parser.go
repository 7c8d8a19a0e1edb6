// Package parser is a pure codec for the Engine.IO protocol, version 4, and for the wire forms
// of version 3 that differ from it (see AppendPayloadV3 and the functions beside it).
//
// It turns packets into the bytes that travel on the two transports and back, and does no I/O.
// On the websocket transport each packet is one frame: a text frame holds the packet type as an
// ASCII digit followed by the data, and a binary frame holds the raw data of a binary message
// packet. On the HTTP long-polling transport several packets are joined into one payload,
// separated by the record separator byte 0x1e, and binary data is written as the character 'b'
// followed by its standard base64 encoding.
//
// Decoded packets alias the input they were decoded from, except for binary data read from
// base64, which is always a new slice. Callers that keep a packet beyond the life of the input
// buffer must copy its data.
package parser

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
)

// Type is the type of an Engine.IO packet.
type Type byte

// The packet types of Engine.IO v4.
const (
	Open Type = iota
	Close
	Ping
	Pong
	Message
	Upgrade
	Noop
)

// Separator is the byte that separates packets in an HTTP long-polling payload.
const Separator = 0x1e

// binaryPrefix marks base64-encoded binary data in a text encoding.
const binaryPrefix = 'b'

var typeNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// String returns the protocol name of the packet type, such as "message".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", byte(t))
}

// Valid reports whether t is one of the seven packet types of the protocol.
func (t Type) Valid() bool { return t <= Noop }

// Packet is one Engine.IO packet.
type Packet struct {
	// Type is the packet type.
	Type Type
	// Data is the packet's payload; it may be empty.
	Data []byte
	// Binary marks Data as binary. Only message packets carry binary data.
	Binary bool
}

// Errors returned by the decoders. They are wrapped with the position or detail of the fault;
// test for them with errors.Is.
var (
	// ErrEmptyPacket is returned for a packet with no type.
	ErrEmptyPacket = errors.New("engineio/parser: empty packet")
	// ErrUnknownType is returned for a packet whose type is not one of the protocol's.
	ErrUnknownType = errors.New("engineio/parser: unknown packet type")
	// ErrBadBase64 is returned for binary data whose base64 encoding is invalid.
	ErrBadBase64 = errors.New("engineio/parser: invalid base64 binary data")
	// ErrTooManyPackets is returned for a payload that holds more packets than allowed.
	ErrTooManyPackets = errors.New("engineio/parser: too many packets in payload")
)

// AppendPacket appends the text encoding of p to dst and returns the extended slice. Binary
// data is written as 'b' followed by base64; this is the form used in polling payloads and by
// clients that cannot send binary websocket frames. For websocket binary frames, send p.Data
// as it is instead (see WebsocketFrame).
func AppendPacket(dst []byte, p Packet) []byte {
	if p.Binary {
		dst = append(dst, binaryPrefix)
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// WebsocketFrame returns the bytes of the websocket frame that carries p and whether the frame
// is a binary frame. A binary frame is p.Data itself, without a copy; a text frame is appended
// to dst.
func WebsocketFrame(dst []byte, p Packet) (frame []byte, binary bool) {
	if p.Binary {
		return p.Data, true
	}
	return AppendPacket(dst, p), false
}

// DecodePacket decodes one packet in its text encoding: a websocket text frame or one packet
// of a polling payload. Text data aliases b; binary data is newly allocated.
func DecodePacket(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmptyPacket
	}
	if b[0] == binaryPrefix {
		data := make([]byte, base64.StdEncoding.DecodedLen(len(b)-1))
		n, err := base64.StdEncoding.Decode(data, b[1:])
		if err != nil {
			return Packet{}, fmt.Errorf("%w: %v", ErrBadBase64, err)
		}
		return Packet{Type: Message, Data: data[:n], Binary: true}, nil
	}
	t := Type(b[0] - '0')
	if b[0] < '0' || !t.Valid() {
		return Packet{}, fmt.Errorf("%w: %q", ErrUnknownType, b[0])
	}
	return Packet{Type: t, Data: b[1:]}, nil
}

// DecodeBinaryFrame decodes a websocket binary frame, which is always a binary message packet.
// The data aliases b.
func DecodeBinaryFrame(b []byte) Packet {
	return Packet{Type: Message, Data: b, Binary: true}
}

// AppendPayload appends the polling payload that carries packets to dst: their text encodings
// joined by Separator.
func AppendPayload(dst []byte, packets []Packet) []byte {
	for i, p := range packets {
		if i > 0 {
			dst = append(dst, Separator)
		}
		dst = AppendPacket(dst, p)
	}
	return dst
}

// PayloadLen returns the number of bytes AppendPayload writes for packets.
func PayloadLen(packets []Packet) int {
	n := 0
	for i, p := range packets {
		if i > 0 {
			n++
		}
		if p.Binary {
			n += 1 + base64.StdEncoding.EncodedLen(len(p.Data))
		} else {
			n += 1 + len(p.Data)
		}
	}
	return n
}

// DecodePayload decodes a polling payload into its packets. It accepts at most maxPackets
// packets (no limit when maxPackets <= 0) and rejects the whole payload when any packet in it
// is invalid, so that a caller never acts on part of a bad payload. Text data aliases payload.
func DecodePayload(payload []byte, maxPackets int) ([]Packet, error) {
	n := bytes.Count(payload, []byte{Separator}) + 1
	if maxPackets > 0 && n > maxPackets {
		return nil, fmt.Errorf("%w: %d > %d", ErrTooManyPackets, n, maxPackets)
	}
	packets := make([]Packet, 0, n)
	for i := 0; ; i++ {
		seg := payload
		j := bytes.IndexByte(payload, Separator)
		if j >= 0 {
			seg, payload = payload[:j], payload[j+1:]
		}
		p, err := DecodePacket(seg)
		if err != nil {
			return nil, fmt.Errorf("packet %d of payload: %w", i, err)
		}
		packets = append(packets, p)
		if j < 0 {
			return packets, nil
		}
	}
}
