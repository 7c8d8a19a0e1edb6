package msgpackparser

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// Encode returns the MessagePack message of p, the one binary Engine.IO message that carries
// it. See AppendPacket.
func Encode(p *parser.Packet) ([]byte, error) {
	return AppendPacket(make([]byte, 0, 16+len(p.Namespace)+len(p.Data)+attachmentsLen(p.Attachments)), p)
}

func attachmentsLen(atts [][]byte) int {
	n := 0
	for _, a := range atts {
		n += 5 + len(a)
	}
	return n
}

// AppendPacket appends the MessagePack message of p to dst and returns the extended slice.
//
// p is a packet in the module's JSON form: its Data is JSON, and each placeholder
// {"_placeholder":true,"num":N} in it is written as the MessagePack bin value of
// p.Attachments[N]. BinaryEvent and BinaryAck packets are written as EVENT and ACK, the only
// types the MessagePack protocol knows. The map's keys are written in the order Node's server
// writes them: type, data, id, nsp. Data must be valid JSON, as the server's packets are; what
// the encoder cannot read as JSON is an error wrapping parser.ErrInvalidPayload, and a
// placeholder that names no attachment one wrapping parser.ErrInvalidAttachments.
func AppendPacket(dst []byte, p *parser.Packet) ([]byte, error) {
	t := p.Type
	switch t {
	case parser.BinaryEvent:
		t = parser.Event
	case parser.BinaryAck:
		t = parser.Ack
	}
	if !t.Valid() {
		return dst, fmt.Errorf("msgpackparser: %w: %d", parser.ErrUnknownType, byte(p.Type))
	}
	if p.HasID && p.ID > parser.MaxAckID {
		return dst, fmt.Errorf("msgpackparser: %w: larger than %d", parser.ErrInvalidAckID, uint64(parser.MaxAckID))
	}
	nsp := p.Namespace
	if nsp == "" {
		nsp = parser.MainNamespace
	}
	n := byte(2)
	if len(p.Data) > 0 {
		n++
	}
	if p.HasID {
		n++
	}
	dst = append(dst, 0x80|n)
	dst = appendStr(dst, "type")
	dst = append(dst, byte(t))
	if len(p.Data) > 0 {
		dst = appendStr(dst, "data")
		var err error
		if dst, err = appendJSON(dst, p.Data, p.Attachments); err != nil {
			return dst, err
		}
	}
	if p.HasID {
		dst = appendStr(dst, "id")
		dst = appendUint(dst, p.ID)
	}
	dst = appendStr(dst, "nsp")
	return appendStr(dst, nsp), nil
}

// appendStrHeader appends the header of a str value of n bytes.
func appendStrHeader(dst []byte, n int) []byte {
	switch {
	case n < 0x20:
		return append(dst, 0xa0|byte(n))
	case n < 0x100:
		return append(dst, 0xd9, byte(n))
	case n < 0x10000:
		return binary.BigEndian.AppendUint16(append(dst, 0xda), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(dst, 0xdb), uint32(n))
	}
}

func appendStr(dst []byte, s string) []byte {
	return append(appendStrHeader(dst, len(s)), s...)
}

func appendBin(dst []byte, b []byte) []byte {
	switch n := len(b); {
	case n < 0x100:
		dst = append(dst, 0xc4, byte(n))
	case n < 0x10000:
		dst = binary.BigEndian.AppendUint16(append(dst, 0xc5), uint16(n))
	default:
		dst = binary.BigEndian.AppendUint32(append(dst, 0xc6), uint32(n))
	}
	return append(dst, b...)
}

// appendUint appends v as notepack.io writes a non-negative integer.
func appendUint(dst []byte, v uint64) []byte {
	switch {
	case v < 0x80:
		return append(dst, byte(v))
	case v < 0x100:
		return append(dst, 0xcc, byte(v))
	case v < 0x10000:
		return binary.BigEndian.AppendUint16(append(dst, 0xcd), uint16(v))
	case v < 0x100000000:
		return binary.BigEndian.AppendUint32(append(dst, 0xce), uint32(v))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 0xcf), v)
	}
}

// appendInt appends v as notepack.io writes an integer.
func appendInt(dst []byte, v int64) []byte {
	switch {
	case v >= 0:
		return appendUint(dst, uint64(v))
	case v >= -0x20:
		return append(dst, byte(v))
	case v >= -0x80:
		return append(dst, 0xd0, byte(v))
	case v >= -0x8000:
		return binary.BigEndian.AppendUint16(append(dst, 0xd1), uint16(v))
	case v >= -0x80000000:
		return binary.BigEndian.AppendUint32(append(dst, 0xd2), uint32(v))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 0xd3), uint64(v))
	}
}

func appendFloat(dst []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, 0xcb), math.Float64bits(f))
}

// appendNumber appends the JSON number num as notepack.io writes the JavaScript number it
// parses to: an integer when its value is integral, a float 64 otherwise. Integers that a
// float 64 cannot hold exactly are written exactly.
func appendNumber(dst []byte, num []byte) ([]byte, error) {
	s := string(num)
	integral := true
	for _, c := range num {
		if c == '.' || c == 'e' || c == 'E' {
			integral = false
			break
		}
	}
	if integral {
		if v, err := strconv.ParseInt(s, 10, 64); err == nil {
			return appendInt(dst, v), nil
		}
		if v, err := strconv.ParseUint(s, 10, 64); err == nil {
			return appendUint(dst, v), nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return dst, fmt.Errorf("msgpackparser: %w: number %q", parser.ErrInvalidPayload, s)
	}
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		switch {
		case f >= 0 && f < 1<<64:
			return appendUint(dst, uint64(f)), nil
		case f < 0 && f >= -(1<<63):
			return appendInt(dst, int64(f)), nil
		}
	}
	return appendFloat(dst, f), nil
}

// jsonConv converts a JSON document to MessagePack.
type jsonConv struct {
	in     []byte
	pos    int
	atts   [][]byte
	counts []int // member counts of the containers, in the order they open
	next   int   // index in counts of the next container to open
}

// appendJSON appends the MessagePack form of the JSON document data, writing placeholders as
// the attachments they name.
func appendJSON(dst []byte, data []byte, atts [][]byte) ([]byte, error) {
	c := jsonConv{in: data, atts: atts}
	var err error
	if c.counts, err = countMembers(data); err != nil {
		return dst, err
	}
	if dst, err = c.value(dst, 0); err != nil {
		return dst, err
	}
	c.skipSpace()
	if c.pos != len(c.in) {
		return dst, c.errorf("trailing data")
	}
	return dst, nil
}

// countMembers returns the number of members of each array and object of the JSON document
// data, in the order they open. It only counts; the conversion checks the syntax.
func countMembers(data []byte) ([]int, error) {
	var counts []int
	var stack []int
	empty := false // the innermost container has just opened
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			if empty {
				counts[stack[len(stack)-1]] = 1
			}
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("msgpackparser: %w: nested deeper than %d levels", parser.ErrInvalidPayload, maxDepth)
			}
			stack = append(stack, len(counts))
			counts = append(counts, 0)
			empty = true
			continue
		case ']', '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if len(stack) > 0 {
				counts[stack[len(stack)-1]]++
			}
		}
		if empty && c != ']' && c != '}' {
			counts[stack[len(stack)-1]] = 1
		}
		empty = false
	}
	return counts, nil
}

func (c *jsonConv) errorf(format string, args ...any) error {
	return fmt.Errorf("msgpackparser: %w: %s at offset %d", parser.ErrInvalidPayload, fmt.Sprintf(format, args...), c.pos)
}

func (c *jsonConv) skipSpace() {
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

func (c *jsonConv) value(dst []byte, depth int) ([]byte, error) {
	c.skipSpace()
	if c.pos >= len(c.in) {
		return dst, c.errorf("unexpected end")
	}
	switch ch := c.in[c.pos]; {
	case ch == '{':
		if b, ok, err := c.placeholder(dst); ok || err != nil {
			return b, err
		}
		return c.object(dst, depth+1)
	case ch == '[':
		return c.array(dst, depth+1)
	case ch == '"':
		s, err := c.str()
		if err != nil {
			return dst, err
		}
		return append(appendStrHeader(dst, len(s)), s...), nil
	case ch == 't':
		return c.literal(dst, "true", 0xc3)
	case ch == 'f':
		return c.literal(dst, "false", 0xc2)
	case ch == 'n':
		return c.literal(dst, "null", 0xc0)
	case ch == '-' || (ch >= '0' && ch <= '9'):
		start := c.pos
		for c.pos < len(c.in) && isNumberByte(c.in[c.pos]) {
			c.pos++
		}
		return appendNumber(dst, c.in[start:c.pos])
	default:
		return dst, c.errorf("unexpected %q", ch)
	}
}

func (c *jsonConv) literal(dst []byte, lit string, code byte) ([]byte, error) {
	if len(c.in)-c.pos < len(lit) || string(c.in[c.pos:c.pos+len(lit)]) != lit {
		return dst, c.errorf("invalid literal")
	}
	c.pos += len(lit)
	return append(dst, code), nil
}

// str reads a JSON string and returns its UTF-8 bytes.
func (c *jsonConv) str() ([]byte, error) {
	start := c.pos
	plain := true
	i := c.pos + 1
	for ; i < len(c.in) && c.in[i] != '"'; i++ {
		if c.in[i] == '\\' {
			plain = false
			i++
		}
	}
	if i >= len(c.in) {
		return nil, c.errorf("unterminated string")
	}
	c.pos = i + 1
	raw := c.in[start+1 : i]
	if plain && utf8.Valid(raw) {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(c.in[start:c.pos], &s); err != nil {
		return nil, c.errorf("invalid string")
	}
	return []byte(s), nil
}

// open starts a container and returns its member count.
func (c *jsonConv) open() (int, error) {
	if c.next >= len(c.counts) {
		return 0, c.errorf("unbalanced containers")
	}
	n := c.counts[c.next]
	c.next++
	c.pos++
	return n, nil
}

// openHeader starts a container nested at depth and appends its MessagePack header: the
// fix form (fix|n) below 16 members, else code16 with a 16-bit count or code16+1 with a
// 32-bit one.
func (c *jsonConv) openHeader(dst []byte, depth int, fix, code16 byte) ([]byte, int, error) {
	if depth > maxDepth {
		return dst, 0, c.errorf("nested deeper than %d levels", maxDepth)
	}
	n, err := c.open()
	if err != nil {
		return dst, 0, err
	}
	switch {
	case n < 0x10:
		dst = append(dst, fix|byte(n))
	case n < 0x10000:
		dst = binary.BigEndian.AppendUint16(append(dst, code16), uint16(n))
	default:
		dst = binary.BigEndian.AppendUint32(append(dst, code16+1), uint32(n))
	}
	return dst, n, nil
}

func (c *jsonConv) array(dst []byte, depth int) ([]byte, error) {
	dst, n, err := c.openHeader(dst, depth, 0x90, 0xdc)
	if err != nil {
		return dst, err
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			if err := c.expect(','); err != nil {
				return dst, err
			}
		}
		if dst, err = c.value(dst, depth); err != nil {
			return dst, err
		}
	}
	return dst, c.expect(']')
}

func (c *jsonConv) object(dst []byte, depth int) ([]byte, error) {
	dst, n, err := c.openHeader(dst, depth, 0x80, 0xde)
	if err != nil {
		return dst, err
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			if err := c.expect(','); err != nil {
				return dst, err
			}
		}
		c.skipSpace()
		if c.pos >= len(c.in) || c.in[c.pos] != '"' {
			return dst, c.errorf("expected a member name")
		}
		k, err := c.str()
		if err != nil {
			return dst, err
		}
		dst = append(appendStrHeader(dst, len(k)), k...)
		if err := c.expect(':'); err != nil {
			return dst, err
		}
		if dst, err = c.value(dst, depth); err != nil {
			return dst, err
		}
	}
	return dst, c.expect('}')
}

func (c *jsonConv) expect(ch byte) error {
	c.skipSpace()
	if c.pos >= len(c.in) || c.in[c.pos] != ch {
		return c.errorf("expected %q", ch)
	}
	c.pos++
	return nil
}

// placeholder recognises an object {"_placeholder":true,"num":N} at c.pos and, when it is one,
// appends attachment N as a bin value and reports true.
func (c *jsonConv) placeholder(dst []byte) ([]byte, bool, error) {
	save := c.pos
	num, ok := c.readPlaceholder()
	if !ok {
		c.pos = save
		return dst, false, nil
	}
	if num < 0 || num >= len(c.atts) {
		return dst, false, fmt.Errorf("msgpackparser: %w: placeholder %d of %d attachments", parser.ErrInvalidAttachments, num, len(c.atts))
	}
	c.next++ // the object's own count
	return appendBin(dst, c.atts[num]), true, nil
}

func (c *jsonConv) readPlaceholder() (int, bool) {
	c.pos++ // '{'
	num, seenFlag, seenNum := -1, false, false
	for i := 0; i < 2; i++ {
		if i > 0 && c.expect(',') != nil {
			return 0, false
		}
		c.skipSpace()
		if c.pos >= len(c.in) || c.in[c.pos] != '"' {
			return 0, false
		}
		k, err := c.str()
		if err != nil || c.expect(':') != nil {
			return 0, false
		}
		c.skipSpace()
		switch string(k) {
		case "_placeholder":
			if seenFlag || len(c.in)-c.pos < 4 || string(c.in[c.pos:c.pos+4]) != "true" {
				return 0, false
			}
			c.pos += 4
			seenFlag = true
		case "num":
			start := c.pos
			for c.pos < len(c.in) && c.in[c.pos] >= '0' && c.in[c.pos] <= '9' {
				c.pos++
			}
			v, err := strconv.Atoi(string(c.in[start:c.pos]))
			if seenNum || err != nil {
				return 0, false
			}
			num, seenNum = v, true
		default:
			return 0, false
		}
	}
	if c.expect('}') != nil {
		return 0, false
	}
	return num, true
}

func isNumberByte(b byte) bool {
	return b >= '0' && b <= '9' || b == '-' || b == '+' || b == '.' || b == 'e' || b == 'E'
}
