package parser

import (
	"encoding/json"
	"strconv"
)

// Type is the type of a Socket.IO packet, the first character of its text
// frame.
type Type byte

// The packet types of the Socket.IO v5 protocol.
const (
	Connect      Type = 0 // CONNECT: connection to a namespace, and its acceptance
	Disconnect   Type = 1 // DISCONNECT: disconnection from a namespace
	Event        Type = 2 // EVENT: an event with JSON arguments
	Ack          Type = 3 // ACK: the acknowledgement of an event
	ConnectError Type = 4 // CONNECT_ERROR: refusal of a namespace connection
	BinaryEvent  Type = 5 // BINARY_EVENT: an event with binary attachments
	BinaryAck    Type = 6 // BINARY_ACK: an acknowledgement with binary attachments
)

var typeNames = [...]string{
	Connect:      "CONNECT",
	Disconnect:   "DISCONNECT",
	Event:        "EVENT",
	Ack:          "ACK",
	ConnectError: "CONNECT_ERROR",
	BinaryEvent:  "BINARY_EVENT",
	BinaryAck:    "BINARY_ACK",
}

// String returns the protocol name of t, such as "BINARY_EVENT".
func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the seven packet types.
func (t Type) Valid() bool { return t <= BinaryAck }

// IsBinary reports whether t is BinaryEvent or BinaryAck, the types whose
// packets carry attachments.
func (t Type) IsBinary() bool { return t == BinaryEvent || t == BinaryAck }

// IsEvent reports whether t is Event or BinaryEvent.
func (t Type) IsEvent() bool { return t == Event || t == BinaryEvent }

// IsAck reports whether t is Ack or BinaryAck.
func (t Type) IsAck() bool { return t == Ack || t == BinaryAck }

// MainNamespace is the name of the main namespace. It is the namespace of a
// packet whose text frame names none.
const MainNamespace = "/"

// MaxAckID is the largest acknowledgement id the package reads or writes:
// the largest integer a JavaScript number holds exactly (2^53-1). Larger ids
// cannot travel to a JavaScript peer and back unchanged.
const MaxAckID = 1<<53 - 1

// DefaultMaxAttachments is the number of attachments a [Decoder] accepts per
// packet when its MaxAttachments field is zero. It is the default of the
// reference implementation.
const DefaultMaxAttachments = 10

// DefaultMaxNamespaceLength is the length in bytes of the longest namespace
// a [Decoder] accepts when its MaxNamespaceLength field is zero.
const DefaultMaxNamespaceLength = 1024

// Packet is one Socket.IO packet.
type Packet struct {
	// Type is the packet type. Decoded binary packets keep their wire type
	// (BinaryEvent or BinaryAck). For encoding, an Event or Ack packet with
	// attachments is written as BinaryEvent or BinaryAck.
	Type Type

	// Namespace is the namespace of the packet, "/" when the text frame
	// names none. For encoding, "" means "/".
	Namespace string

	// ID is the acknowledgement id; it is meaningful only when HasID is set.
	ID uint64

	// HasID reports whether the packet carries an acknowledgement id.
	HasID bool

	// Data is the JSON payload as it is on the wire, without surrounding
	// white space, or nil when the packet has none. The payload of a binary
	// packet still holds its placeholders; see Reconstruct.
	Data json.RawMessage

	// Attachments holds the binary attachments of a BinaryEvent or
	// BinaryAck packet, in order.
	Attachments [][]byte
}

// reservedEvents are the event names with a special meaning in the
// reference implementation; packets must not use them.
var reservedEvents = [...]string{
	"connect",
	"connect_error",
	"disconnect",
	"disconnecting",
	"newListener",
	"removeListener",
}

// IsReservedEvent reports whether name is one of the event names that have a
// special meaning to Socket.IO implementations and must not be used by
// applications: connect, connect_error, disconnect, disconnecting,
// newListener and removeListener. The decoder rejects EVENT packets that use
// them, as the reference implementation does.
func IsReservedEvent(name string) bool {
	for _, r := range reservedEvents {
		if name == r {
			return true
		}
	}
	return false
}
