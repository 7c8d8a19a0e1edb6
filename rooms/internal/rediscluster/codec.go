package rediscluster

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// maxDepth is the deepest nesting of arrays and maps the codec reads or writes, the limit of
// encoding/json, so that whatever the codec turns into JSON can be decoded by encoding/json.
const maxDepth = 10000

// ErrMalformed is wrapped by every decoding error of a message read from Redis.
var ErrMalformed = errors.New("redisadapter: malformed message")

func Malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// mpReader reads MessagePack values from a byte slice held in memory. Every length read from
// the input is checked against the bytes that remain, so a forged length never makes it
// allocate more than the message itself.
type mpReader struct {
	b []byte
	r *bytes.Reader
	d *msgpack.Decoder
}

func NewMPReader(b []byte) *mpReader {
	r := bytes.NewReader(b)
	return &mpReader{b: b, r: r, d: msgpack.NewDecoder(r)}
}

// raw skips the next value and returns its encoding, a part of the input.
func (m *mpReader) raw() ([]byte, error) {
	from := len(m.b) - m.remaining()
	if err := m.Skip(); err != nil {
		return nil, err
	}
	return m.b[from : len(m.b)-m.remaining()], nil
}

// remaining returns the number of bytes not read yet.
func (m *mpReader) remaining() int { return m.r.Len() }

func (m *mpReader) peek() (byte, error) {
	c, err := m.d.PeekCode()
	if err != nil {
		return 0, Malformed("truncated")
	}
	return c, nil
}

// arrayLen reads an array header; each element takes at least one byte.
func (m *mpReader) arrayLen() (int, error) {
	n, err := m.d.DecodeArrayLen()
	if err != nil {
		return 0, Malformed("want an array: %v", err)
	}
	if n > m.remaining() {
		return 0, Malformed("array of %d elements in %d bytes", n, m.remaining())
	}
	return n, nil
}

// mapLen reads a map header; each entry takes at least two bytes.
func (m *mpReader) mapLen() (int, error) {
	n, err := m.d.DecodeMapLen()
	if err != nil {
		return 0, Malformed("want a map: %v", err)
	}
	if n < 0 || n > m.remaining()/2 {
		return 0, Malformed("map of %d entries in %d bytes", n, m.remaining())
	}
	return n, nil
}

// Fields reads a map, calling field with each key to read the value that follows it.
func (m *mpReader) Fields(field func(key string) error) error {
	n, err := m.mapLen()
	if err != nil {
		return err
	}
	for range n {
		k, err := m.key()
		if err != nil {
			return err
		}
		if err := field(k); err != nil {
			return err
		}
	}
	return nil
}

func (m *mpReader) checkLen(c byte) error {
	var n int
	switch {
	case msgpcode.IsFixedString(c):
		return nil
	case c == msgpcode.Str8 || c == msgpcode.Bin8:
		n = 1
	case c == msgpcode.Str16 || c == msgpcode.Bin16:
		n = 2
	case c == msgpcode.Str32 || c == msgpcode.Bin32:
		n = 4
	default:
		return nil
	}
	b := make([]byte, 1+n)
	if _, err := m.r.ReadAt(b, m.r.Size()-int64(m.r.Len())); err != nil {
		return Malformed("truncated length")
	}
	var l uint64
	for _, x := range b[1:] {
		l = l<<8 | uint64(x)
	}
	if l > uint64(m.remaining()-1-n) {
		return Malformed("string or binary of %d bytes in %d", l, m.remaining())
	}
	return nil
}

// Str reads a string.
func (m *mpReader) Str() (string, error) {
	c, err := m.peek()
	if err != nil {
		return "", err
	}
	if !msgpcode.IsString(c) {
		return "", Malformed("want a string, have code %#x", c)
	}
	if err := m.checkLen(c); err != nil {
		return "", err
	}
	s, err := m.d.DecodeString()
	if err != nil {
		return "", Malformed("string: %v", err)
	}
	return s, nil
}

// isNil reports whether the next value is nil, and reads it if so.
func (m *mpReader) isNil() bool {
	c, err := m.d.PeekCode()
	if err != nil || c != msgpcode.Nil {
		return false
	}
	_ = m.d.DecodeNil()
	return true
}

// StrList reads an array of room names: strings, or numbers as JavaScript prints them.
// nil reads as an empty list.
func (m *mpReader) StrList() ([]string, error) {
	if m.isNil() {
		return nil, nil
	}
	n, err := m.arrayLen()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, n)
	for range n {
		c, err := m.peek()
		if err != nil {
			return nil, err
		}
		if msgpcode.IsString(c) {
			s, err := m.Str()
			if err != nil {
				return nil, err
			}
			out = append(out, s)
			continue
		}
		j, err := m.JSON(nil, nil, 0)
		if err != nil {
			return nil, err
		}
		if len(j) == 0 || (j[0] != '-' && (j[0] < '0' || j[0] > '9')) {
			return nil, Malformed("room name %s", j)
		}
		out = append(out, string(j))
	}
	return out, nil
}

// integer reads any MessagePack number that holds an integer.
func (m *mpReader) integer() (int64, error) {
	c, err := m.peek()
	if err != nil {
		return 0, err
	}
	if c == msgpcode.Float || c == msgpcode.Double {
		f, err := m.d.DecodeFloat64()
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return 0, Malformed("want an integer")
		}
		return int64(f), nil
	}
	if !isIntCode(c) {
		return 0, Malformed("want an integer, have code %#x", c)
	}
	if c == msgpcode.Uint64 {
		u, err := m.d.DecodeUint64()
		if err != nil || u > math.MaxInt64 {
			return 0, Malformed("integer out of range")
		}
		return int64(u), nil
	}
	v, err := m.d.DecodeInt64()
	if err != nil {
		return 0, Malformed("integer: %v", err)
	}
	return v, nil
}

func isIntCode(c byte) bool {
	return msgpcode.IsFixedNum(c) ||
		c == msgpcode.Uint8 || c == msgpcode.Uint16 || c == msgpcode.Uint32 || c == msgpcode.Uint64 ||
		c == msgpcode.Int8 || c == msgpcode.Int16 || c == msgpcode.Int32 || c == msgpcode.Int64
}

func (m *mpReader) boolean() (bool, error) {
	c, err := m.peek()
	if err != nil {
		return false, err
	}
	if c != msgpcode.True && c != msgpcode.False {
		if err := m.Skip(); err != nil {
			return false, err
		}
		return false, nil
	}
	b, _ := m.d.DecodeBool()
	return b, nil
}

// Skip reads and drops one value of any kind.
func (m *mpReader) Skip() error {
	_, err := m.JSON(nil, nil, 0)
	return err
}

// JSON reads one value and appends its JSON form to out. Binary values become placeholders
// {"_placeholder":true,"num":N} whose attachments are appended to *atts when atts is not nil,
// and base64 strings (what encoding/json makes of a []byte) when it is nil. Timestamps become
// the ISO 8601 strings of JavaScript's Date.toJSON, undefined becomes null, and other
// extension types become null.
func (m *mpReader) JSON(out []byte, atts *[][]byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, Malformed("nested deeper than %d", maxDepth)
	}
	c, err := m.peek()
	if err != nil {
		return nil, err
	}
	switch {
	case c == msgpcode.Nil:
		_ = m.d.DecodeNil()
		return append(out, "null"...), nil
	case c == msgpcode.True || c == msgpcode.False:
		b, _ := m.d.DecodeBool()
		return strconv.AppendBool(out, b), nil
	case c == msgpcode.Float || c == msgpcode.Double:
		f, err := m.d.DecodeFloat64()
		if err != nil {
			return nil, Malformed("float: %v", err)
		}
		return appendFloat(out, f), nil
	case c == msgpcode.Uint64:
		u, err := m.d.DecodeUint64()
		if err != nil {
			return nil, Malformed("integer: %v", err)
		}
		return strconv.AppendUint(out, u, 10), nil
	case isIntCode(c):
		v, err := m.d.DecodeInt64()
		if err != nil {
			return nil, Malformed("integer: %v", err)
		}
		return strconv.AppendInt(out, v, 10), nil
	case msgpcode.IsString(c):
		s, err := m.Str()
		if err != nil {
			return nil, err
		}
		return AppendJSONString(out, s), nil
	case msgpcode.IsBin(c):
		if err := m.checkLen(c); err != nil {
			return nil, err
		}
		b, err := m.d.DecodeBytes()
		if err != nil {
			return nil, Malformed("binary: %v", err)
		}
		if b == nil {
			b = []byte{}
		}
		if atts == nil {
			out = append(out, '"')
			out = base64.StdEncoding.AppendEncode(out, b)
			return append(out, '"'), nil
		}
		out = append(out, `{"_placeholder":true,"num":`...)
		out = strconv.AppendInt(out, int64(len(*atts)), 10)
		*atts = append(*atts, b)
		return append(out, '}'), nil
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := m.arrayLen()
		if err != nil {
			return nil, err
		}
		out = append(out, '[')
		for i := range n {
			if i > 0 {
				out = append(out, ',')
			}
			if out, err = m.JSON(out, atts, depth+1); err != nil {
				return nil, err
			}
		}
		return append(out, ']'), nil
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := m.mapLen()
		if err != nil {
			return nil, err
		}
		out = append(out, '{')
		for i := range n {
			if i > 0 {
				out = append(out, ',')
			}
			k, err := m.key()
			if err != nil {
				return nil, err
			}
			out = AppendJSONString(out, k)
			out = append(out, ':')
			if out, err = m.JSON(out, atts, depth+1); err != nil {
				return nil, err
			}
		}
		return append(out, '}'), nil
	case msgpcode.IsExt(c):
		return m.ext(out)
	default:
		return nil, Malformed("unknown code %#x", c)
	}
}

// key reads a map key: a string, or a number or boolean that JavaScript would print.
func (m *mpReader) key() (string, error) {
	c, err := m.peek()
	if err != nil {
		return "", err
	}
	if msgpcode.IsString(c) {
		return m.Str()
	}
	if isIntCode(c) || c == msgpcode.Float || c == msgpcode.Double || c == msgpcode.True ||
		c == msgpcode.False || c == msgpcode.Nil {
		j, err := m.JSON(nil, nil, maxDepth)
		return string(j), err
	}
	return "", Malformed("map key of code %#x", c)
}

// ext reads an extension value: a timestamp as JavaScript's Date.toJSON prints it, or null.
func (m *mpReader) ext(out []byte) ([]byte, error) {
	id, n, err := m.d.DecodeExtHeader()
	if err != nil {
		return nil, Malformed("extension: %v", err)
	}
	if n < 0 || n > m.remaining() {
		return nil, Malformed("extension of %d bytes in %d", n, m.remaining())
	}
	b := make([]byte, n)
	if err := m.d.ReadFull(b); err != nil {
		return nil, Malformed("extension: %v", err)
	}
	var t time.Time
	switch {
	case id == -1 && n == 4:
		t = time.Unix(int64(be(b)), 0)
	case id == -1 && n == 8:
		v := be(b)
		t = time.Unix(int64(v&(1<<34-1)), int64(v>>34))
	case id == -1 && n == 12:
		t = time.Unix(int64(be(b[4:])), int64(be(b[:4])))
	case id == 0 && n == 8:
		// An older notepack encoding of Date: milliseconds since the epoch.
		t = time.UnixMilli(int64(be(b)))
	default:
		// undefined (type 0, one byte) and unknown extensions.
		return append(out, "null"...), nil
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return append(out, "null"...), nil
	}
	out = append(out, '"')
	out = t.UTC().AppendFormat(out, "2006-01-02T15:04:05.000Z")
	return append(out, '"'), nil
}

func be(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

// appendFloat appends f as JavaScript's JSON.stringify prints a number: integers without a
// fraction, NaN and infinities as null.
func appendFloat(out []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(out, "null"...)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.AppendFloat(out, f, 'f', -1, 64)
	}
	return strconv.AppendFloat(out, f, 'g', -1, 64)
}

// AppendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func AppendJSONString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				out = append(out, '\\', c)
			case c == '\n':
				out = append(out, '\\', 'n')
			case c == '\r':
				out = append(out, '\\', 'r')
			case c == '\t':
				out = append(out, '\\', 't')
			case c < 0x20:
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				out = append(out, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, "\ufffd"...)
		} else if r == '\u2028' || r == '\u2029' {
			out = append(out, '\\', 'u', '2', '0', '2', hex[r&0xf])
		} else {
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return append(out, '"')
}

// JSONToMsgpack writes the JSON value data in MessagePack, as notepack.io writes the same
// value: integers in their smallest form, other numbers as float 64, objects as maps with
// their keys in order. When atts is not nil, every placeholder {"_placeholder":true,"num":N}
// with N < len(atts) becomes the binary value atts[N].
func JSONToMsgpack(e *msgpack.Encoder, data []byte, atts [][]byte) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	v, err := readJSON(d, 0)
	if err != nil {
		return err
	}
	if _, err := d.Token(); err == nil {
		return errors.New("redisadapter: trailing data after a JSON value")
	}
	return writeJSON(e, v, atts)
}

// jvalue is a JSON value that keeps the order of object keys.
type jvalue struct {
	kind byte // 'n'ull, 'b'ool, 'd'igits, 's'tring, 'a'rray, 'o'bject
	b    bool
	s    string // string, number text
	keys []string
	vals []*jvalue
}

func readJSON(d *json.Decoder, depth int) (*jvalue, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("redisadapter: JSON nested deeper than %d", maxDepth)
	}
	tok, err := d.Token()
	if err != nil {
		return nil, fmt.Errorf("redisadapter: invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case nil:
		return &jvalue{kind: 'n'}, nil
	case bool:
		return &jvalue{kind: 'b', b: t}, nil
	case json.Number:
		return &jvalue{kind: 'd', s: string(t)}, nil
	case string:
		return &jvalue{kind: 's', s: t}, nil
	case json.Delim:
		v := &jvalue{kind: 'a'}
		if t == '{' {
			v.kind = 'o'
		}
		for d.More() {
			if v.kind == 'o' {
				k, err := d.Token()
				if err != nil {
					return nil, fmt.Errorf("redisadapter: invalid JSON: %w", err)
				}
				ks, _ := k.(string)
				v.keys = append(v.keys, ks)
			}
			x, err := readJSON(d, depth+1)
			if err != nil {
				return nil, err
			}
			v.vals = append(v.vals, x)
		}
		if _, err := d.Token(); err != nil { // the closing delimiter
			return nil, fmt.Errorf("redisadapter: invalid JSON: %w", err)
		}
		return v, nil
	}
	return nil, errors.New("redisadapter: invalid JSON")
}

// placeholder returns the attachment index v stands for, or -1.
func (v *jvalue) placeholder(n int) int {
	if v.kind != 'o' || len(v.keys) != 2 || n == 0 {
		return -1
	}
	var isPH bool
	num := -1
	for i, k := range v.keys {
		x := v.vals[i]
		switch {
		case k == "_placeholder" && x.kind == 'b':
			isPH = x.b
		case k == "num" && x.kind == 'd':
			if i, err := strconv.Atoi(x.s); err == nil {
				num = i
			}
		}
	}
	if !isPH || num < 0 || num >= n {
		return -1
	}
	return num
}

func writeJSON(e *msgpack.Encoder, v *jvalue, atts [][]byte) error {
	switch v.kind {
	case 'n':
		return e.EncodeNil()
	case 'b':
		return e.EncodeBool(v.b)
	case 's':
		return e.EncodeString(v.s)
	case 'd':
		if i, err := strconv.ParseInt(v.s, 10, 64); err == nil {
			return e.EncodeInt(i)
		}
		f, err := strconv.ParseFloat(v.s, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return fmt.Errorf("redisadapter: number %s: %w", v.s, err)
		}
		if f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
			return e.EncodeInt(int64(f))
		}
		return e.EncodeFloat64(f)
	case 'a':
		if err := e.EncodeArrayLen(len(v.vals)); err != nil {
			return err
		}
		for _, x := range v.vals {
			if err := writeJSON(e, x, atts); err != nil {
				return err
			}
		}
		return nil
	case 'o':
		if n := v.placeholder(len(atts)); n >= 0 {
			return e.EncodeBytes(atts[n])
		}
		if err := e.EncodeMapLen(len(v.vals)); err != nil {
			return err
		}
		for i, x := range v.vals {
			if err := e.EncodeString(v.keys[i]); err != nil {
				return err
			}
			if err := writeJSON(e, x, atts); err != nil {
				return err
			}
		}
		return nil
	}
	return errors.New("redisadapter: invalid JSON value")
}
