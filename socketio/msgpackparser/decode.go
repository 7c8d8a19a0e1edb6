package msgpackparser

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// maxDepth bounds the nesting of arrays and maps, as encoding/json bounds JSON.
const maxDepth = 10000

// ErrMalformed reports a message that is not one complete MessagePack value, or that uses a
// form JSON cannot express (such as a map key that is a map).
var ErrMalformed = errors.New("msgpackparser: malformed MessagePack")

// A Decoder turns the binary Engine.IO messages of one connection into packets. Every message
// is a whole packet, so the decoder keeps no state between messages and may be shared. The
// zero value is ready to use with the default limits.
type Decoder struct {
	// MaxAttachments is the largest number of binary values one packet may hold. Zero means
	// parser.DefaultMaxAttachments; a negative value rejects every binary value.
	MaxAttachments int

	// MaxNamespaceLength is the length in bytes of the longest namespace accepted. Zero means
	// parser.DefaultMaxNamespaceLength.
	MaxNamespaceLength int
}

func (d *Decoder) maxAttachments() int {
	switch {
	case d.MaxAttachments < 0:
		return 0
	case d.MaxAttachments == 0:
		return parser.DefaultMaxAttachments
	}
	return d.MaxAttachments
}

func (d *Decoder) maxNamespaceLength() int {
	if d.MaxNamespaceLength <= 0 {
		return parser.DefaultMaxNamespaceLength
	}
	return d.MaxNamespaceLength
}

// Decode decodes one MessagePack message into a packet in the module's JSON form (see the
// package documentation). The packet's Data is newly allocated; its Attachments alias msg.
//
// The packet is checked as socket.io-msgpack-parser checks it, and as this module's JSON
// decoder does: the type is CONNECT, DISCONNECT, EVENT, ACK or CONNECT_ERROR; the namespace
// is a string that starts with "/"; the data has the shape the type requires; and an ack id,
// which only EVENT and ACK packets may carry and ACK packets must, is an integer from 0 to
// parser.MaxAckID. An EVENT or ACK packet that holds binary values is returned as
// BinaryEvent or BinaryAck. Every error wraps ErrMalformed or one of the parser package's
// sentinels.
func (d *Decoder) Decode(msg []byte) (*parser.Packet, error) {
	r := reader{in: msg, maxAtts: d.maxAttachments()}
	n, err := r.mapHeader()
	if err != nil {
		return nil, err
	}
	var (
		typ, id        float64
		hasType, hasID bool
		nsp            []byte
		hasNsp         bool
		data           []byte // the raw MessagePack of the data
	)
	for range n {
		key, err := r.keyString()
		if err != nil {
			return nil, err
		}
		start := r.pos
		switch key {
		case "type":
			if typ, hasType, err = r.number(); err != nil {
				return nil, err
			}
		case "id":
			if id, hasID, err = r.number(); err != nil {
				return nil, err
			}
		case "nsp":
			nsp, hasNsp, err = r.optString()
			if err != nil {
				return nil, err
			}
		case "data":
			if err := r.skip(0); err != nil {
				return nil, err
			}
			data = msg[start:r.pos]
			if isUndefined(data) {
				data = nil
			}
		default:
			if err := r.skip(0); err != nil {
				return nil, err
			}
		}
	}
	if r.pos != len(msg) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(msg)-r.pos)
	}
	if !hasType || typ != math.Trunc(typ) || typ < 0 || typ > float64(parser.ConnectError) {
		return nil, fmt.Errorf("msgpackparser: %w: invalid packet type", parser.ErrUnknownType)
	}
	p := &parser.Packet{Type: parser.Type(typ)}
	if !hasNsp || len(nsp) == 0 || nsp[0] != '/' || !utf8.Valid(nsp) || len(nsp) > d.maxNamespaceLength() {
		return nil, fmt.Errorf("msgpackparser: %w", parser.ErrInvalidNamespace)
	}
	for _, c := range nsp {
		if c == ',' {
			return nil, fmt.Errorf("msgpackparser: %w: contains a comma", parser.ErrInvalidNamespace)
		}
	}
	p.Namespace = string(nsp)
	if hasID {
		if id != math.Trunc(id) || id < 0 || id > parser.MaxAckID {
			return nil, fmt.Errorf("msgpackparser: %w", parser.ErrInvalidAckID)
		}
		if !p.Type.IsEvent() && !p.Type.IsAck() {
			return nil, fmt.Errorf("msgpackparser: %w: %s packet with an ack id", parser.ErrInvalidAckID, p.Type)
		}
		p.ID, p.HasID = uint64(id), true
	} else if p.Type.IsAck() {
		return nil, fmt.Errorf("msgpackparser: %w: %s packet without an ack id", parser.ErrInvalidAckID, p.Type)
	}
	if err := checkData(p.Type, data); err != nil {
		return nil, err
	}
	if data != nil {
		c := reader{in: data, maxAtts: r.maxAtts}
		out, err := c.json(make([]byte, 0, len(data)+len(data)/2+8), 0)
		if err != nil {
			return nil, err
		}
		p.Data = out
		p.Attachments = c.atts
	}
	if len(p.Attachments) > 0 {
		switch p.Type {
		case parser.Event:
			p.Type = parser.BinaryEvent
		case parser.Ack:
			p.Type = parser.BinaryAck
		default:
			return nil, fmt.Errorf("msgpackparser: %w: %s packet with binary data", parser.ErrInvalidAttachments, p.Type)
		}
	}
	return p, nil
}

// isUndefined reports whether v is notepack.io's encoding of undefined, fixext 1 of type 0.
func isUndefined(v []byte) bool { return len(v) == 3 && v[0] == 0xd4 && v[1] == 0 }

// checkData checks the shape of a packet's data (nil when absent) for its type.
func checkData(t parser.Type, data []byte) error {
	kind := kindNone
	if data != nil {
		kind = kindOf(data[0])
	}
	ok := false
	switch t {
	case parser.Connect:
		ok = kind == kindNone || kind == kindMap
	case parser.Disconnect:
		ok = kind == kindNone
	case parser.ConnectError:
		ok = kind == kindString || kind == kindMap
	case parser.Event:
		ok = kind == kindArray && eventNameOK(data)
	case parser.Ack:
		ok = kind == kindArray
	}
	if !ok {
		return fmt.Errorf("msgpackparser: %w: invalid data for a %s packet", parser.ErrInvalidPayload, t)
	}
	return nil
}

// eventNameOK reports whether the array data starts with an event name: a string that is not
// reserved, or a finite number (NaN and the infinities have no JSON form: they would be
// handed over as null, which is no event name).
func eventNameOK(data []byte) bool {
	r := reader{in: data}
	n, err := r.arrayHeader()
	if err != nil || n == 0 || r.pos >= len(data) {
		return false
	}
	switch kindOf(data[r.pos]) {
	case kindNumber:
		f, ok, err := r.number()
		return err == nil && ok && !math.IsNaN(f) && !math.IsInf(f, 0)
	case kindString:
		s, _, err := r.optString()
		return err == nil && !parser.IsReservedEvent(string(s))
	}
	return false
}

type kind int

const (
	kindNone kind = iota
	kindMap
	kindArray
	kindString
	kindNumber
	kindOther
)

func kindOf(b byte) kind {
	switch {
	case b < 0x80 || b >= 0xe0, b >= 0xca && b <= 0xd3:
		return kindNumber
	case b < 0x90, b == 0xde, b == 0xdf:
		return kindMap
	case b < 0xa0, b == 0xdc, b == 0xdd:
		return kindArray
	case b < 0xc0, b >= 0xd9 && b <= 0xdb:
		return kindString
	}
	return kindOther
}

// reader reads MessagePack values from in.
type reader struct {
	in      []byte
	pos     int
	maxAtts int
	atts    [][]byte
}

func (r *reader) truncated() error {
	return fmt.Errorf("%w: truncated at offset %d", ErrMalformed, r.pos)
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || len(r.in)-r.pos < n {
		return nil, r.truncated()
	}
	b := r.in[r.pos : r.pos+n]
	r.pos += n
	return b, nil
}

func (r *reader) uint(size int) (uint64, error) {
	b, err := r.bytes(size)
	if err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(b)), nil
	}
	return binary.BigEndian.Uint64(b), nil
}

// length reads a size-byte length and checks that the rest of the input can hold that many
// items of at least min bytes each.
func (r *reader) length(size, min int) (int, error) {
	v, err := r.uint(size)
	if err != nil {
		return 0, err
	}
	if v > uint64(len(r.in)-r.pos)/uint64(min) {
		return 0, fmt.Errorf("%w: length %d exceeds the message", ErrMalformed, v)
	}
	return int(v), nil
}

func (r *reader) mapHeader() (int, error) {
	if r.pos >= len(r.in) {
		return 0, r.truncated()
	}
	b := r.in[r.pos]
	r.pos++
	switch {
	case b&0xf0 == 0x80:
		return r.checkLen(int(b&0x0f), 2)
	case b == 0xde:
		return r.length(2, 2)
	case b == 0xdf:
		return r.length(4, 2)
	}
	return 0, fmt.Errorf("%w: a packet must be a map", ErrMalformed)
}

func (r *reader) arrayHeader() (int, error) {
	if r.pos >= len(r.in) {
		return 0, r.truncated()
	}
	b := r.in[r.pos]
	r.pos++
	switch {
	case b&0xf0 == 0x90:
		return r.checkLen(int(b&0x0f), 1)
	case b == 0xdc:
		return r.length(2, 1)
	case b == 0xdd:
		return r.length(4, 1)
	}
	return 0, fmt.Errorf("%w: not an array", ErrMalformed)
}

func (r *reader) checkLen(n, min int) (int, error) {
	if n > (len(r.in)-r.pos)/min {
		return 0, r.truncated()
	}
	return n, nil
}

// optString reads a str value; ok is false when the value is of another type, which is
// skipped.
func (r *reader) optString() (s []byte, ok bool, err error) {
	if r.pos >= len(r.in) {
		return nil, false, r.truncated()
	}
	b := r.in[r.pos]
	var n int
	switch {
	case b&0xe0 == 0xa0:
		r.pos++
		n = int(b & 0x1f)
	case b >= 0xd9 && b <= 0xdb:
		r.pos++
		if n, err = r.length(1<<(b-0xd9), 1); err != nil {
			return nil, false, err
		}
	default:
		return nil, false, r.skip(0)
	}
	s, err = r.bytes(n)
	return s, err == nil, err
}

// keyString reads a map key that is a string; other keys are returned in their JavaScript
// string form, as a JavaScript object would hold them.
func (r *reader) keyString() (string, error) {
	if r.pos >= len(r.in) {
		return "", r.truncated()
	}
	switch kindOf(r.in[r.pos]) {
	case kindString:
		s, _, err := r.optString()
		return string(s), err
	}
	out, err := r.key(nil)
	return string(out), err
}

// key appends the JSON-less text of a map key: strings as they are, integers in decimal,
// nil and booleans by name, as JavaScript turns them into property names.
func (r *reader) key(dst []byte) ([]byte, error) {
	b := r.in[r.pos]
	switch kindOf(b) {
	case kindString:
		s, _, err := r.optString()
		return append(dst, s...), err
	case kindNumber:
		f, _, err := r.number()
		if err != nil {
			return dst, err
		}
		if f != math.Trunc(f) || math.IsInf(f, 0) {
			return dst, fmt.Errorf("%w: a map key that is not an integer", ErrMalformed)
		}
		return strconv.AppendFloat(dst, f, 'f', -1, 64), nil
	}
	switch b {
	case 0xc0:
		r.pos++
		return append(dst, "null"...), nil
	case 0xc2:
		r.pos++
		return append(dst, "false"...), nil
	case 0xc3:
		r.pos++
		return append(dst, "true"...), nil
	}
	return dst, fmt.Errorf("%w: unsupported map key 0x%02x", ErrMalformed, b)
}

// number reads a number as a JavaScript number; ok is false when the value is of another
// type, which is skipped.
func (r *reader) number() (f float64, ok bool, err error) {
	if r.pos >= len(r.in) {
		return 0, false, r.truncated()
	}
	b := r.in[r.pos]
	switch {
	case b < 0x80:
		r.pos++
		return float64(b), true, nil
	case b >= 0xe0:
		r.pos++
		return float64(int8(b)), true, nil
	case b >= 0xca && b <= 0xd3:
		r.pos++
		i, u, f, kind, err := r.scalar(b)
		if err != nil {
			return 0, false, err
		}
		switch kind {
		case 'i':
			return float64(i), true, nil
		case 'u':
			return float64(u), true, nil
		}
		return f, true, nil
	}
	return 0, false, r.skip(0)
}

// scalar reads the body of the number whose prefix b was just read. kind is 'i', 'u' or 'f'.
func (r *reader) scalar(b byte) (i int64, u uint64, f float64, kind byte, err error) {
	switch b {
	case 0xca:
		v, err := r.uint(4)
		return 0, 0, float64(math.Float32frombits(uint32(v))), 'f', err
	case 0xcb:
		v, err := r.uint(8)
		return 0, 0, math.Float64frombits(v), 'f', err
	case 0xcc, 0xcd, 0xce, 0xcf:
		v, err := r.uint(1 << (b - 0xcc))
		return 0, v, 0, 'u', err
	}
	size := 1 << (b - 0xd0)
	v, err := r.uint(size)
	switch size {
	case 1:
		i = int64(int8(v))
	case 2:
		i = int64(int16(v))
	case 4:
		i = int64(int32(v))
	default:
		i = int64(v)
	}
	return i, 0, 0, 'i', err
}

// skip skips one value.
func (r *reader) skip(depth int) error {
	_, err := r.value(nil, depth, false)
	return err
}

// json appends the JSON form of one value to dst.
func (r *reader) json(dst []byte, depth int) ([]byte, error) {
	return r.value(dst, depth, true)
}

// value reads one value and, when emit is set, appends its JSON form to dst and collects
// its binary values as attachments.
func (r *reader) value(dst []byte, depth int, emit bool) ([]byte, error) {
	if depth > maxDepth {
		return dst, fmt.Errorf("%w: nested deeper than %d levels", ErrMalformed, maxDepth)
	}
	if r.pos >= len(r.in) {
		return dst, r.truncated()
	}
	b := r.in[r.pos]
	switch {
	case b < 0x80:
		r.pos++
		return strconv.AppendInt(dst, int64(b), 10), nil
	case b >= 0xe0:
		r.pos++
		return strconv.AppendInt(dst, int64(int8(b)), 10), nil
	case b < 0x90, b == 0xde, b == 0xdf:
		n, err := r.mapHeader()
		if err != nil {
			return dst, err
		}
		return r.mapBody(dst, n, depth, emit)
	case b < 0xa0, b == 0xdc, b == 0xdd:
		n, err := r.arrayHeader()
		if err != nil {
			return dst, err
		}
		return r.arrayBody(dst, n, depth, emit)
	case b < 0xc0, b >= 0xd9 && b <= 0xdb:
		s, _, err := r.optString()
		if err != nil {
			return dst, err
		}
		return parser.AppendString(dst, string(s)), nil
	}
	r.pos++
	switch b {
	case 0xc0:
		return append(dst, "null"...), nil
	case 0xc2:
		return append(dst, "false"...), nil
	case 0xc3:
		return append(dst, "true"...), nil
	case 0xc4, 0xc5, 0xc6:
		n, err := r.length(1<<(b-0xc4), 1)
		if err != nil {
			return dst, err
		}
		bin, err := r.bytes(n)
		if err != nil {
			return dst, err
		}
		return r.binary(dst, bin)
	case 0xc7, 0xc8, 0xc9:
		n, err := r.length(1<<(b-0xc7), 1)
		if err != nil {
			return dst, err
		}
		return r.ext(dst, n, false)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return r.ext(dst, 1<<(b-0xd4), true)
	case 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3:
		i, u, f, kind, err := r.scalar(b)
		if err != nil {
			return dst, err
		}
		switch kind {
		case 'i':
			return strconv.AppendInt(dst, i, 10), nil
		case 'u':
			return strconv.AppendUint(dst, u, 10), nil
		}
		return appendJSONFloat(dst, f), nil
	}
	return dst, fmt.Errorf("%w: unknown prefix 0x%02x", ErrMalformed, b)
}

func (r *reader) binary(dst []byte, bin []byte) ([]byte, error) {
	if len(r.atts) >= r.maxAtts {
		return dst, fmt.Errorf("msgpackparser: %w: more than %d binary values", parser.ErrTooManyAttachments, r.maxAtts)
	}
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(len(r.atts)), 10)
	r.atts = append(r.atts, bin)
	return append(dst, '}'), nil
}

// ext reads an extension value of n data bytes whose type byte is next, as notepack.io reads
// it: type 0 is binary (an ArrayBuffer), except that fixext 1 of type 0 is undefined and
// fixext 8 of type 0 a date in milliseconds; type -1 is a timestamp; any other type becomes
// the array [type, binary].
func (r *reader) ext(dst []byte, n int, fixed bool) ([]byte, error) {
	tb, err := r.bytes(1)
	if err != nil {
		return dst, err
	}
	typ := int8(tb[0])
	body, err := r.bytes(n)
	if err != nil {
		return dst, err
	}
	switch {
	case typ == 0 && fixed && n == 1:
		return append(dst, "null"...), nil
	case typ == 0 && fixed && n == 8:
		ms := int64(int32(binary.BigEndian.Uint32(body)))<<32 | int64(binary.BigEndian.Uint32(body[4:]))
		return appendDate(dst, float64(ms)), nil
	case typ == 0 && !fixed:
		return r.binary(dst, body)
	case typ == -1 && fixed && n == 4:
		return appendDate(dst, float64(binary.BigEndian.Uint32(body))*1e3), nil
	case typ == -1 && fixed && n == 8:
		hi, lo := binary.BigEndian.Uint32(body), binary.BigEndian.Uint32(body[4:])
		s := float64(uint64(hi&3)<<32 | uint64(lo))
		return appendDate(dst, s*1e3+float64(hi>>2)/1e6), nil
	case typ == -1 && !fixed && n <= 0xff:
		if n != 12 {
			return dst, fmt.Errorf("%w: timestamp of %d bytes", ErrMalformed, n)
		}
		ns := binary.BigEndian.Uint32(body)
		s := int64(binary.BigEndian.Uint64(body[4:]))
		return appendDate(dst, float64(s)*1e3+float64(ns)/1e6), nil
	}
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(typ), 10)
	dst = append(dst, ',')
	if dst, err = r.binary(dst, body); err != nil {
		return dst, err
	}
	return append(dst, ']'), nil
}

func (r *reader) arrayBody(dst []byte, n, depth int, emit bool) ([]byte, error) {
	dst = append(dst, '[')
	var err error
	for i := range n {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = r.value(dst, depth+1, emit); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

func (r *reader) mapBody(dst []byte, n, depth int, emit bool) ([]byte, error) {
	dst = append(dst, '{')
	first := true
	var err error
	for range n {
		if r.pos >= len(r.in) {
			return dst, r.truncated()
		}
		var key []byte
		if key, err = r.key(nil); err != nil {
			return dst, err
		}
		if r.pos+3 <= len(r.in) && isUndefined(r.in[r.pos:r.pos+3]) {
			r.pos += 3 // a member whose value is undefined does not exist
			continue
		}
		if emit {
			if string(key) == "_placeholder" {
				return dst, fmt.Errorf("msgpackparser: %w: a map with a _placeholder key", parser.ErrInvalidPayload)
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = parser.AppendString(dst, string(key))
			dst = append(dst, ':')
		}
		if dst, err = r.value(dst, depth+1, emit); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// appendJSONFloat appends f as JSON.stringify writes a number: NaN and the infinities as null.
func appendJSONFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		return append(dst, '0')
	}
	format := byte('f')
	if abs := math.Abs(f); abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 becomes 1e-7, as in JavaScript.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// maxDateMillis is the largest distance from the epoch a JavaScript Date holds.
const maxDateMillis = 8.64e15

// appendDate appends the JSON form of the JavaScript Date of ms milliseconds since the epoch:
// its ISO-8601 string, or null for an invalid date.
func appendDate(dst []byte, ms float64) []byte {
	if math.IsNaN(ms) || math.Abs(ms) > maxDateMillis {
		return append(dst, "null"...)
	}
	msi := int64(ms) // truncated toward zero, as a Date's time value is
	t := time.UnixMilli(msi).UTC()
	dst = append(dst, '"')
	switch y := t.Year(); {
	case y >= 0 && y <= 9999:
		dst = t.AppendFormat(dst, "2006")
	case y < 0:
		dst = append(dst, '-')
		dst = appendPadded(dst, -y, 6)
	default:
		dst = append(dst, '+')
		dst = appendPadded(dst, y, 6)
	}
	dst = t.AppendFormat(dst, "-01-02T15:04:05.000Z")
	return append(dst, '"')
}

func appendPadded(dst []byte, v, width int) []byte {
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}
