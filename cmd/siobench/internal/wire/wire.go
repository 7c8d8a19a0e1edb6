// Package wire holds the small subset of the Engine.IO v4 and Socket.IO v5
// framing that the siobench load generator needs: Engine.IO packet types,
// polling payloads, the open packet, and text Socket.IO packets with an
// optional namespace and acknowledgement id.
//
// The functions do no I/O. They favour appending to caller-owned buffers and
// slicing their input over allocating, because they run once per message in
// the load generator's hot path.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// Engine.IO packet types, as the first byte of a text packet.
const (
	EIOOpen    byte = '0'
	EIOClose   byte = '1'
	EIOPing    byte = '2'
	EIOPong    byte = '3'
	EIOMessage byte = '4'
	EIOUpgrade byte = '5'
	EIONoop    byte = '6'
)

// Socket.IO packet types, as the first byte of a Socket.IO packet.
const (
	SIOConnect      byte = '0'
	SIODisconnect   byte = '1'
	SIOEvent        byte = '2'
	SIOAck          byte = '3'
	SIOConnectError byte = '4'
	SIOBinaryEvent  byte = '5'
	SIOBinaryAck    byte = '6'
)

// RecordSeparator separates the packets of an HTTP long-polling payload.
const RecordSeparator byte = 0x1e

// NoID is the value of Packet.ID when a Socket.IO packet carries no
// acknowledgement id.
const NoID int64 = -1

// Errors returned by the parsers.
var (
	ErrEmpty         = errors.New("wire: empty packet")
	ErrBadType       = errors.New("wire: unknown packet type")
	ErrBadNamespace  = errors.New("wire: namespace without a terminating comma")
	ErrBadID         = errors.New("wire: acknowledgement id out of range")
	ErrBadAttachment = errors.New("wire: malformed binary attachment count")
	ErrNotArray      = errors.New("wire: payload is not a JSON array")
	ErrNotEvent      = errors.New("wire: event payload has no event name")
)

// SplitPayload splits an HTTP long-polling payload into its Engine.IO
// packets. The returned slices share memory with payload. An empty payload
// yields no packets.
func SplitPayload(payload []byte) [][]byte {
	if len(payload) == 0 {
		return nil
	}
	n := bytes.Count(payload, []byte{RecordSeparator}) + 1
	out := make([][]byte, 0, n)
	for {
		i := bytes.IndexByte(payload, RecordSeparator)
		if i < 0 {
			return append(out, payload)
		}
		out = append(out, payload[:i])
		payload = payload[i+1:]
	}
}

// AppendPayload appends the HTTP long-polling encoding of packets (each one
// an encoded Engine.IO text packet) to dst and returns the extended buffer.
func AppendPayload(dst []byte, packets ...[]byte) []byte {
	for i, p := range packets {
		if i > 0 {
			dst = append(dst, RecordSeparator)
		}
		dst = append(dst, p...)
	}
	return dst
}

// Open is the JSON content of an Engine.IO open packet.
type Open struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// ParseOpen decodes an Engine.IO open packet, type byte included.
func ParseOpen(packet []byte) (Open, error) {
	var o Open
	if len(packet) == 0 {
		return o, ErrEmpty
	}
	if packet[0] != EIOOpen {
		return o, fmt.Errorf("wire: expected an open packet, got %q", truncate(packet))
	}
	if err := json.Unmarshal(packet[1:], &o); err != nil {
		return o, fmt.Errorf("wire: open packet: %w", err)
	}
	if o.SID == "" {
		return o, errors.New("wire: open packet without a sid")
	}
	return o, nil
}

// Packet is a decoded text Socket.IO packet. Data shares memory with the
// input of ParsePacket.
type Packet struct {
	// Type is one of the SIO* constants.
	Type byte
	// Attachments is the number of binary attachments announced by a
	// binary event or ack; zero otherwise.
	Attachments int
	// Namespace is "/" unless the packet names another namespace.
	Namespace string
	// ID is the acknowledgement id, or NoID.
	ID int64
	// Data is the raw JSON payload, possibly empty.
	Data []byte
}

// ParsePacket decodes a Socket.IO packet (the content of an Engine.IO message
// packet, without its leading '4').
func ParsePacket(b []byte) (Packet, error) {
	p := Packet{Namespace: "/", ID: NoID}
	if len(b) == 0 {
		return p, ErrEmpty
	}
	p.Type = b[0]
	if p.Type < SIOConnect || p.Type > SIOBinaryAck {
		return p, fmt.Errorf("%w: %q", ErrBadType, p.Type)
	}
	i := 1
	if p.Type == SIOBinaryEvent || p.Type == SIOBinaryAck {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == i || j >= len(b) || b[j] != '-' {
			return p, ErrBadAttachment
		}
		n, err := strconv.Atoi(string(b[i:j]))
		if err != nil {
			return p, ErrBadAttachment
		}
		p.Attachments = n
		i = j + 1
	}
	if i < len(b) && b[i] == '/' {
		j := bytes.IndexByte(b[i:], ',')
		if j < 0 {
			// A namespace may end the packet, as in "0/admin".
			p.Namespace = string(b[i:])
			return p, nil
		}
		p.Namespace = string(b[i : i+j])
		i += j + 1
	}
	j := i
	var id int64
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		if id > (1<<53)/10 {
			return p, ErrBadID
		}
		id = id*10 + int64(b[j]-'0')
		j++
	}
	if j > i {
		p.ID = id
	}
	p.Data = b[j:]
	return p, nil
}

// AppendPacket appends the encoding of a Socket.IO packet with the given
// type, namespace ("" or "/" for the main one), acknowledgement id (NoID for
// none) and raw JSON data to dst.
func AppendPacket(dst []byte, typ byte, nsp string, id int64, data []byte) []byte {
	dst = append(dst, typ)
	if nsp != "" && nsp != "/" {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	if id >= 0 {
		dst = strconv.AppendInt(dst, id, 10)
	}
	return append(dst, data...)
}

// AppendEvent appends a Socket.IO event packet on the main namespace to dst:
// 2<id>["event","arg1",...], with every argument a JSON string. When id is
// NoID the packet asks for no acknowledgement.
func AppendEvent(dst []byte, id int64, event string, args ...string) []byte {
	dst = append(dst, SIOEvent)
	if id >= 0 {
		dst = strconv.AppendInt(dst, id, 10)
	}
	dst = append(dst, '[')
	dst = AppendString(dst, event)
	for _, a := range args {
		dst = append(dst, ',')
		dst = AppendString(dst, a)
	}
	return append(dst, ']')
}

// AppendString appends s as a JSON string to dst. Invalid UTF-8 is replaced
// with U+FFFD, as encoding/json does.
func AppendString(dst []byte, s string) []byte { return parser.AppendString(dst, s) }

// StringArray decodes a JSON array whose elements are all strings, such as
// the data of an event or an acknowledgement. Arrays of plain strings without
// escapes are decoded without encoding/json; anything else falls back to it.
// An element that is not a string makes StringArray fail.
func StringArray(data []byte) ([]string, error) {
	if out, ok := simpleStringArray(data); ok {
		return out, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotArray, err)
	}
	out := make([]string, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("wire: element %d is not a string: %s", i, truncate(r))
		}
	}
	return out, nil
}

// simpleStringArray handles arrays such as ["a","b"] with no whitespace and
// no escapes. It reports false for any other input.
func simpleStringArray(b []byte) ([]string, bool) {
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return nil, false
	}
	b = b[1 : len(b)-1]
	if len(b) == 0 {
		return []string{}, true
	}
	out := make([]string, 0, 4)
	for {
		if len(b) < 2 || b[0] != '"' {
			return nil, false
		}
		j := 1
		for j < len(b) && b[j] != '"' {
			if b[j] == '\\' || b[j] < 0x20 {
				return nil, false
			}
			j++
		}
		if j == len(b) {
			return nil, false
		}
		if !utf8.Valid(b[1:j]) {
			return nil, false
		}
		out = append(out, string(b[1:j]))
		b = b[j+1:]
		if len(b) == 0 {
			return out, true
		}
		if b[0] != ',' {
			return nil, false
		}
		b = b[1:]
	}
}

// Event splits the data of an event packet into the event name and its
// string arguments.
func Event(data []byte) (name string, args []string, err error) {
	all, err := StringArray(data)
	if err != nil {
		return "", nil, err
	}
	if len(all) == 0 {
		return "", nil, ErrNotEvent
	}
	return all[0], all[1:], nil
}

// truncate shortens b for error messages.
func truncate(b []byte) string {
	const max = 64
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// Truncate shortens a packet for use in an error message.
func Truncate(b []byte) string { return truncate(b) }
