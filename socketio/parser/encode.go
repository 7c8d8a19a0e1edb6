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

	dst = append(dst, '0'+byte(t))
	if t.IsBinary() {
		dst = strconv.AppendInt(dst, int64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != MainNamespace {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, data...), nil
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
