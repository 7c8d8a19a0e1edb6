package parser

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// countCap bounds the value of an attachment count while it is read; any
// larger count is too large anyway.
const countCap = 1 << 20

// A Decoder turns the frames of one connection back into packets. Text
// frames go to DecodeText, binary frames to DecodeBinary, in the order they
// arrived. The decoder only keeps state between a binary packet's text frame
// and its last attachment.
//
// The zero value is ready to use with the default limits. A Decoder is not
// safe for concurrent use; use one per connection.
type Decoder struct {
	// MaxAttachments is the largest number of attachments a binary packet
	// may announce. Zero means DefaultMaxAttachments; a negative value
	// rejects every binary packet.
	MaxAttachments int

	// MaxNamespaceLength is the length in bytes of the longest namespace
	// accepted. Zero means DefaultMaxNamespaceLength.
	MaxNamespaceLength int

	pending *Packet // binary packet waiting for attachments
	want    int     // number of attachments pending needs
}

// DecodeText decodes the text frame s.
//
// For a packet without attachments it returns the packet and complete set
// to true. For a binary packet it validates the header and payload, keeps
// the packet and returns (nil, false, nil): the packet is returned by the
// DecodeBinary call that delivers its last attachment.
//
// The Data of the returned packet aliases s, so s must not be modified while
// the packet is in use. Decoding allocates the Packet and, for namespaces
// other than "/", the namespace string.
//
// A text frame that arrives while a binary packet still waits for
// attachments is an error (ErrUnexpectedText). After any error the decoder
// forgets the packet it was assembling; the connection should normally be
// closed.
func (d *Decoder) DecodeText(s []byte) (p *Packet, complete bool, err error) {
	p = new(Packet)
	complete, err = d.DecodeTextTo(s, p)
	if !complete {
		return nil, false, err
	}
	return p, true, nil
}

// DecodeTextTo decodes the text frame s as DecodeText does, into the packet p given by the
// caller, so that the caller decides where the packet lives (a value on its stack, or a field
// of a struct it allocates anyway): decoding a packet without attachments then allocates
// nothing but, for namespaces other than "/", the namespace string.
//
// For a packet without attachments it overwrites *p and returns true. For a binary packet
// it validates the header and payload, keeps a copy of the packet and returns (false, nil):
// the packet is returned by the DecodeBinary call that delivers its last attachment, and p
// is not used after DecodeTextTo returns. On error, *p is undefined. The Data of the packet
// aliases s, and the errors are those of DecodeText.
func (d *Decoder) DecodeTextTo(s []byte, p *Packet) (complete bool, err error) {
	if d.pending != nil {
		d.Reset()
		return false, ErrUnexpectedText
	}
	n, err := d.decodeHeader(s, p)
	if err != nil {
		return false, err
	}
	if n == 0 {
		return true, nil
	}
	pending := new(Packet)
	*pending = *p
	pending.Attachments = make([][]byte, 0, n)
	d.pending = pending
	d.want = n
	return false, nil
}

// DecodeBinary delivers the binary frame b as the next attachment of the
// binary packet being assembled. When b is the last attachment, it checks
// the placeholders of the payload and returns the complete packet, whose
// Attachments alias the frames given to DecodeBinary. Otherwise it returns
// (nil, false, nil).
//
// A binary frame that no packet waits for is an error (ErrUnexpectedBinary).
func (d *Decoder) DecodeBinary(b []byte) (p *Packet, complete bool, err error) {
	if d.pending == nil {
		return nil, false, ErrUnexpectedBinary
	}
	d.pending.Attachments = append(d.pending.Attachments, b)
	if len(d.pending.Attachments) < d.want {
		return nil, false, nil
	}
	p = d.pending
	d.Reset()
	if err := checkPlaceholders(p.Data, len(p.Attachments)); err != nil {
		return nil, false, err
	}
	return p, true, nil
}

// Waiting returns the number of attachments the decoder still waits for, or
// zero when it is not assembling a binary packet.
func (d *Decoder) Waiting() int {
	if d.pending == nil {
		return 0
	}
	return d.want - len(d.pending.Attachments)
}

// Reset drops the binary packet being assembled, if any. The decoder can be
// used again afterwards.
func (d *Decoder) Reset() {
	d.pending = nil
	d.want = 0
}

func (d *Decoder) maxAttachments() int {
	switch {
	case d.MaxAttachments == 0:
		return DefaultMaxAttachments
	case d.MaxAttachments < 0:
		return 0
	}
	return d.MaxAttachments
}

func (d *Decoder) maxNamespaceLength() int {
	if d.MaxNamespaceLength <= 0 {
		return DefaultMaxNamespaceLength
	}
	return d.MaxNamespaceLength
}

// decodeHeader decodes a whole text frame into p, which it overwrites, and returns the number
// of attachments of the packet.
func (d *Decoder) decodeHeader(s []byte, p *Packet) (int, error) {
	if len(s) == 0 {
		return 0, fmt.Errorf("%w: empty packet", ErrUnknownType)
	}
	if s[0] < '0' || s[0] > '0'+byte(BinaryAck) {
		return 0, fmt.Errorf("%w: %q", ErrUnknownType, s[0])
	}
	t := Type(s[0] - '0')
	i := 1

	// Attachment count: digits followed by '-'.
	n := 0
	if t.IsBinary() {
		start := i
		for i < len(s) && isDigit(s[i]) {
			if n <= countCap {
				n = n*10 + int(s[i]-'0')
			}
			i++
		}
		if i == start || i == len(s) || s[i] != '-' {
			return 0, fmt.Errorf("%w: malformed attachment count", ErrInvalidAttachments)
		}
		if n == 0 {
			return 0, fmt.Errorf("%w: binary packet without attachments", ErrInvalidAttachments)
		}
		if n > d.maxAttachments() {
			return 0, fmt.Errorf("%w: %s attachments, at most %d accepted",
				ErrTooManyAttachments, s[start:i], d.maxAttachments())
		}
		i++
	}

	// Namespace: from '/' up to ',' or the end of the frame.
	*p = Packet{Type: t, Namespace: MainNamespace}
	if i < len(s) && s[i] == '/' {
		end := len(s)
		if j := bytes.IndexByte(s[i:], ','); j >= 0 {
			end = i + j
		}
		nsp := s[i:end]
		if len(nsp) > d.maxNamespaceLength() {
			return 0, fmt.Errorf("%w: longer than %d bytes", ErrInvalidNamespace, d.maxNamespaceLength())
		}
		if !utf8.Valid(nsp) {
			return 0, fmt.Errorf("%w: not valid UTF-8", ErrInvalidNamespace)
		}
		if len(nsp) > 1 {
			p.Namespace = string(nsp)
		}
		i = end
		if i < len(s) {
			i++ // the comma
		}
	}

	// Acknowledgement id: decimal digits.
	if i < len(s) && isDigit(s[i]) {
		var id uint64
		for ; i < len(s) && isDigit(s[i]); i++ {
			id = id*10 + uint64(s[i]-'0')
			if id > MaxAckID {
				return 0, fmt.Errorf("%w: larger than %d", ErrInvalidAckID, uint64(MaxAckID))
			}
		}
		p.ID, p.HasID = id, true
	}

	// Payload: the rest of the frame.
	if i < len(s) {
		p.Data = trimSpace(s[i:])
		if len(p.Data) == 0 {
			return 0, fmt.Errorf("%w: blank payload", ErrInvalidPayload)
		}
	}
	if err := checkAckID(t, p.HasID); err != nil {
		return 0, err
	}
	if err := validatePayload(t, p.Data); err != nil {
		return 0, err
	}
	return n, nil
}
