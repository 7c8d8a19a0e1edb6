package parser

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Engine.IO v3, the protocol of socket.io-client 2.x, differs from v4 on the wire in three
// places, all handled here:
//
//   - Polling payloads frame each packet with its length: "<length>:<packet>", the length in
//     UTF-16 code units (JavaScript string length), as in "6:4hello2:4€". Binary packets are
//     written "b4<base64>" in such a payload.
//   - A client that supports binary (no b64 query parameter) gets payloads that hold binary
//     packets in the binary framing: for each packet a 0 (text) or 1 (binary) byte, the
//     decimal digits of its length as bytes of value 0-9, a 255 byte, then the packet: the
//     UTF-8 text packet, or the type byte 4 followed by the data.
//   - A websocket binary frame starts with the packet type byte 4.

// ErrBadLength is returned for a v3 payload whose length prefixes do not match its contents.
var ErrBadLength = errors.New("engineio/parser: invalid length in v3 payload")

// maxLengthDigits bounds the digits of a length prefix in a v3 payload.
const maxLengthDigits = 10

// AppendPacketV3 appends the v3 text encoding of p to dst: binary data is written as "b4"
// followed by base64.
func AppendPacketV3(dst []byte, p Packet) []byte {
	if p.Binary {
		dst = append(dst, binaryPrefix, '0'+byte(Message))
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	return AppendPacket(dst, p)
}

// DecodePacketV3 decodes one packet in the v3 text encoding: a websocket text frame or one
// packet of a text payload. Text data aliases b; binary data is newly allocated.
func DecodePacketV3(b []byte) (Packet, error) {
	if len(b) >= 1 && b[0] == binaryPrefix {
		if len(b) < 2 || b[1] != '0'+byte(Message) {
			return Packet{}, fmt.Errorf("%w: base64 packet of a type other than message", ErrUnknownType)
		}
		data := make([]byte, base64.StdEncoding.DecodedLen(len(b)-2))
		n, err := base64.StdEncoding.Decode(data, b[2:])
		if err != nil {
			return Packet{}, fmt.Errorf("%w: %v", ErrBadBase64, err)
		}
		return Packet{Type: Message, Data: data[:n], Binary: true}, nil
	}
	return DecodePacket(b)
}

// WebsocketFrameV3 returns the v3 websocket frame of p and whether it is a binary frame. A
// binary frame is the type byte followed by p.Data, appended to dst; a text frame is the
// packet's text encoding, appended to dst.
func WebsocketFrameV3(dst []byte, p Packet) (frame []byte, binary bool) {
	if p.Binary {
		return append(append(dst, byte(Message)), p.Data...), true
	}
	return AppendPacket(dst, p), false
}

// DecodeBinaryFrameV3 decodes a v3 websocket binary frame: the type byte 4, then the data,
// which aliases b.
func DecodeBinaryFrameV3(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmptyPacket
	}
	if Type(b[0]) != Message {
		return Packet{}, fmt.Errorf("%w: binary frame of type %d", ErrUnknownType, b[0])
	}
	return Packet{Type: Message, Data: b[1:], Binary: true}, nil
}

// utf16Len returns the length of the UTF-8 text b in UTF-16 code units. Invalid bytes count
// as one unit each, as they become U+FFFD when JavaScript decodes them.
func utf16Len(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}

// AppendPayloadV3 appends the v3 text payload of packets to dst: each packet's v3 text
// encoding, prefixed with its length in UTF-16 code units and a colon.
func AppendPayloadV3(dst []byte, packets []Packet) []byte {
	for _, p := range packets {
		start := len(dst)
		dst = AppendPacketV3(dst, p)
		// The prefix goes before the packet: encode the packet, then move it right.
		n := utf16Len(dst[start:])
		var prefix [maxLengthDigits + 1]byte
		pre := append(strconv.AppendInt(prefix[:0], int64(n), 10), ':')
		dst = append(dst, pre...)
		copy(dst[start+len(pre):], dst[start:len(dst)-len(pre)])
		copy(dst[start:], pre)
	}
	return dst
}

// AppendBinaryPayloadV3 appends the v3 binary payload of packets to dst, the form a client
// that supports binary gets when a payload holds binary packets.
func AppendBinaryPayloadV3(dst []byte, packets []Packet) []byte {
	for _, p := range packets {
		n := 1 + len(p.Data)
		kind := byte(0)
		if p.Binary {
			kind = 1
		}
		dst = append(dst, kind)
		var digits [20]byte
		for _, d := range strconv.AppendInt(digits[:0], int64(n), 10) {
			dst = append(dst, d-'0')
		}
		dst = append(dst, 0xff)
		if p.Binary {
			dst = append(dst, byte(Message))
			dst = append(dst, p.Data...)
		} else {
			dst = AppendPacket(dst, p)
		}
	}
	return dst
}

// DecodePayloadV3 decodes a v3 text payload. It accepts at most maxPackets packets (no limit
// when maxPackets <= 0) and rejects the whole payload when any part of it is invalid. Empty
// packets ("0:") are skipped, as the reference implementation skips them. Text data aliases
// payload.
func DecodePayloadV3(payload []byte, maxPackets int) ([]Packet, error) {
	if len(payload) == 0 {
		return nil, ErrEmptyPacket
	}
	var packets []Packet
	for i := 0; i < len(payload); {
		j := i
		for j < len(payload) && payload[j] >= '0' && payload[j] <= '9' && j-i <= maxLengthDigits {
			j++
		}
		if j == i || j-i > maxLengthDigits || j >= len(payload) || payload[j] != ':' {
			return nil, fmt.Errorf("%w: at byte %d", ErrBadLength, i)
		}
		n, _ := strconv.Atoi(string(payload[i:j]))
		start := j + 1
		end, ok := advanceUTF16(payload, start, n)
		if !ok {
			return nil, fmt.Errorf("%w: packet at byte %d is shorter than %d", ErrBadLength, start, n)
		}
		if end > start {
			if maxPackets > 0 && len(packets) >= maxPackets {
				return nil, fmt.Errorf("%w: more than %d", ErrTooManyPackets, maxPackets)
			}
			p, err := DecodePacketV3(payload[start:end])
			if err != nil {
				return nil, fmt.Errorf("packet %d of payload: %w", len(packets), err)
			}
			packets = append(packets, p)
		}
		i = end
	}
	return packets, nil
}

// advanceUTF16 returns the index in b after n UTF-16 code units from start, and whether b
// holds them exactly (a surrogate pair may not be split).
func advanceUTF16(b []byte, start, n int) (int, bool) {
	i := start
	for n > 0 {
		if i >= len(b) {
			return 0, false
		}
		if b[i] < utf8.RuneSelf {
			i++
			n--
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		units := 1
		if r >= 0x10000 {
			units = 2
		}
		if units > n {
			return 0, false
		}
		i += size
		n -= units
	}
	return i, true
}

// DecodeBinaryPayloadV3 decodes a v3 binary payload (sent with the content type
// application/octet-stream). Limits and errors are those of DecodePayloadV3; text packets
// are UTF-8, binary data aliases payload.
func DecodeBinaryPayloadV3(payload []byte, maxPackets int) ([]Packet, error) {
	if len(payload) == 0 {
		return nil, ErrEmptyPacket
	}
	var packets []Packet
	for i := 0; i < len(payload); {
		kind := payload[i]
		if kind > 1 {
			return nil, fmt.Errorf("%w: packet kind %d at byte %d", ErrBadLength, kind, i)
		}
		n, j := 0, i+1
		for ; j < len(payload) && payload[j] != 0xff; j++ {
			if payload[j] > 9 || j-i > maxLengthDigits {
				return nil, fmt.Errorf("%w: at byte %d", ErrBadLength, j)
			}
			n = n*10 + int(payload[j])
		}
		if j == i+1 || j >= len(payload) || n > len(payload)-j-1 {
			return nil, fmt.Errorf("%w: at byte %d", ErrBadLength, i)
		}
		msg := payload[j+1 : j+1+n]
		i = j + 1 + n
		if maxPackets > 0 && len(packets) >= maxPackets {
			return nil, fmt.Errorf("%w: more than %d", ErrTooManyPackets, maxPackets)
		}
		var p Packet
		var err error
		if kind == 0 {
			p, err = DecodePacketV3(msg)
		} else {
			p, err = DecodeBinaryFrameV3(msg)
		}
		if err != nil {
			return nil, fmt.Errorf("packet %d of payload: %w", len(packets), err)
		}
		packets = append(packets, p)
	}
	return packets, nil
}
