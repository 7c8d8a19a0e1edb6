package parser

import (
	"fmt"
	"strconv"
)

// AppendPacket appends the text frame of p to dst and returns the extended
// slice. The binary frames to send after it, if any, are p.Attachments.
//
// An Event or Ack packet with attachments is written as BinaryEvent or
// BinaryAck. The packet is checked as the decoder would check it: the
// namespace must be "" or "/" or start with "/" and hold no comma, the ack
// id must not exceed MaxAckID, the payload must be valid JSON of the shape
// its type requires, and the placeholders of a binary packet must name
// existing attachments. AppendPacket allocates nothing when dst has room.
func AppendPacket(dst []byte, p *Packet) ([]byte, error) {
	t := p.Type
	if !t.Valid() {
		return dst, fmt.Errorf("%w: %d", ErrUnknownType, byte(t))
	}
	if len(p.Attachments) > 0 {
		switch t {
		case Event:
			t = BinaryEvent
		case Ack:
			t = BinaryAck
		case BinaryEvent, BinaryAck:
		default:
			return dst, fmt.Errorf("%w: %s packet with attachments", ErrInvalidAttachments, t)
		}
	} else if t.IsBinary() {
		return dst, fmt.Errorf("%w: %s packet without attachments", ErrInvalidAttachments, t)
	}
	if err := checkNamespace(p.Namespace); err != nil {
		return dst, err
	}
	if p.HasID && p.ID > MaxAckID {
		return dst, fmt.Errorf("%w: larger than %d", ErrInvalidAckID, uint64(MaxAckID))
	}
	if err := checkAckID(t, p.HasID); err != nil {
		return dst, err
	}
	var data []byte
	if len(p.Data) > 0 {
		data = trimSpace(p.Data)
		if len(data) == 0 {
			return dst, fmt.Errorf("%w: blank payload", ErrInvalidPayload)
		}
	}
	if err := validatePayload(t, data); err != nil {
		return dst, err
	}
	if t.IsBinary() {
		if err := checkPlaceholders(data, len(p.Attachments)); err != nil {
			return dst, err
		}
	}

	dst = appendHeader(dst, t, len(p.Attachments), p.Namespace, p.HasID, p.ID)
	return append(dst, data...), nil
}

// appendHeader appends what precedes the payload in the text frame of a packet of type t
// with natt attachments: the type, the attachment count of a binary packet, the namespace
// unless it is the main one, and the ack id.
func appendHeader(dst []byte, t Type, natt int, nsp string, hasID bool, id uint64) []byte {
	dst = append(dst, '0'+byte(t))
	if t.IsBinary() {
		dst = strconv.AppendInt(dst, int64(natt), 10)
		dst = append(dst, '-')
	}
	if nsp != "" && nsp != MainNamespace {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	if hasID {
		dst = strconv.AppendUint(dst, id, 10)
	}
	return dst
}

// EncodeAck returns the text frame of the acknowledgement id in namespace nsp with the
// arguments args, marshalled as MarshalArgs marshals them, and the binary frames to send after
// it: the frame Encode returns for the Ack packet whose Data and Attachments are what
// MarshalArgs returns for args, made in a single allocation (plus one for the attachments, if
// any). The attachments alias the caller's byte slices. The namespace and id are checked as
// AppendPacket checks them, and the placeholders of a binary acknowledgement as well; the
// payload is valid JSON by construction, and checked again only when it holds Args, whose
// JSON text SplitArgs does not check.
func EncodeAck(nsp string, id uint64, args ...any) (text []byte, attachments [][]byte, err error) {
	if err := checkNamespace(nsp); err != nil {
		return nil, nil, err
	}
	if id > MaxAckID {
		return nil, nil, fmt.Errorf("%w: larger than %d", ErrInvalidAckID, uint64(MaxAckID))
	}
	e := getEncoder()
	defer putEncoder(e)
	if err := e.args(args); err != nil {
		return nil, nil, err
	}
	t := Ack
	if len(e.att) > 0 {
		t = BinaryAck
	}
	if e.withArgs {
		if err := validatePayload(t, e.buf); err != nil {
			return nil, nil, err
		}
	}
	if t == BinaryAck {
		if err := checkPlaceholders(e.buf, len(e.att)); err != nil {
			return nil, nil, err
		}
	}
	size := 1 + len(nsp) + 1 + decimalLen(id) + len(e.buf)
	if t == BinaryAck {
		size += decimalLen(uint64(len(e.att))) + 1
	}
	text = appendHeader(make([]byte, 0, size), t, len(e.att), nsp, true, id)
	return append(text, e.buf...), e.attachments(), nil
}

// Encode returns the text frame of p and the binary frames to send after
// it, in order. See AppendPacket for the checks it makes. The attachments
// are p.Attachments itself, not a copy.
func Encode(p *Packet) (text []byte, attachments [][]byte, err error) {
	size := 1 + len(p.Namespace) + 1 + 20 + len(p.Data)
	if len(p.Attachments) > 0 {
		size += 21
	}
	text, err = AppendPacket(make([]byte, 0, size), p)
	if err != nil {
		return nil, nil, err
	}
	return text, p.Attachments, nil
}

// decimalLen returns the number of decimal digits of n.
func decimalLen(n uint64) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}
