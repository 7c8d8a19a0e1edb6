package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// Arg is one argument of an event or of an acknowledgement, kept as it
// travelled so that it can be inspected, decoded, or sent on unchanged: a
// binary value (what a JavaScript peer sends as a Buffer, an ArrayBuffer or
// a typed array), or a JSON value that may hold binary values anywhere
// inside it.
//
// Arg follows the data model of Socket.IO rather than the text format of
// this package: a value is JSON (null, booleans, numbers, strings, arrays
// and objects) in which binary values may appear. Internally an Arg is the
// JSON text of the value, where each binary value is replaced by a
// placeholder {"_placeholder":true,"num":N}, together with the binary values
// themselves, numbered from 0 within the argument. [Arg.Parts] and [NewArg]
// give access to that form, so a codec for another wire format (MessagePack,
// say) can turn its values into Args and back without loss.
//
// An Arg given to an emit or to an acknowledgement, directly or anywhere
// inside another argument (see [MarshalArgs]), is written as it was
// received: its binary values travel as binary attachments again, so a
// server that relays what a client sent relays it byte for byte. [Args.Any]
// spreads a list of arguments into the ...any of an emit.
//
// The zero Arg is an absent argument; it is written as null. An Arg is a
// small value that aliases the bytes it was made from: it must not be
// modified, and its binary values must not be written to, while it is used.
type Arg struct {
	data []byte    // JSON text; placeholders name the binary values; nil for the zero Arg
	atts *[][]byte // binary values, numbered from 0; nil when there are none
}

// binaryValues holds the single binary value of a binary Arg (BinaryArg) in one allocation.
// The binary values are kept out of line so that the far more common argument without them
// is smaller.
type binaryValues struct {
	list [][]byte
	one  [1][]byte // backs list
}

// newBinaryValues returns the binary values list, which must not be empty, for an Arg.
func newBinaryValues(list [][]byte) *[][]byte { return &list }

// bin returns the binary values of the argument.
func (a Arg) bin() [][]byte {
	if a.atts == nil {
		return nil
	}
	return *a.atts
}

// placeholder0 is the JSON text of a binary argument.
const placeholder0 = `{"_placeholder":true,"num":0}`

// BinaryArg returns a binary argument holding b, which it aliases. A nil b
// is the empty binary value.
func BinaryArg(b []byte) Arg {
	if b == nil {
		b = []byte{}
	}
	v := &binaryValues{}
	v.one[0] = b
	v.list = v.one[:]
	return Arg{data: []byte(placeholder0), atts: &v.list}
}

// NewArg returns the argument whose JSON text is data and whose binary
// values are attachments: every placeholder {"_placeholder":true,"num":N} in
// data stands for attachments[N]. Without attachments, data is a plain JSON
// value. data must be one valid JSON value and every placeholder must name
// an attachment, or NewArg returns an error wrapping ErrInvalidPayload or
// ErrInvalidAttachments. The Arg aliases data and attachments.
func NewArg(data json.RawMessage, attachments [][]byte) (Arg, error) {
	data = trimSpace(data)
	if !validJSON(data) {
		return Arg{}, fmt.Errorf("%w: argument is not valid JSON", ErrInvalidPayload)
	}
	if len(attachments) == 0 {
		return Arg{data: data}, nil
	}
	if err := checkPlaceholders(data, len(attachments)); err != nil {
		return Arg{}, err
	}
	return Arg{data: data, atts: newBinaryValues(attachments)}, nil
}

// IsBinary reports whether the argument is a binary value.
func (a Arg) IsBinary() bool {
	return a.atts != nil && len(*a.atts) == 1 && string(a.data) == placeholder0
}

// Bytes returns the value of a binary argument, or nil when the argument is
// not binary (see IsBinary). The slice aliases the argument.
func (a Arg) Bytes() []byte {
	if !a.IsBinary() {
		return nil
	}
	return (*a.atts)[0]
}

// HasBinary reports whether the argument is binary or holds binary values.
func (a Arg) HasBinary() bool { return len(a.bin()) > 0 }

// Parts returns the JSON text of the argument, where placeholders
// {"_placeholder":true,"num":N} stand for its binary values, and the binary
// values. For a binary argument, data is {"_placeholder":true,"num":0}; for
// the zero Arg, null. Both alias the argument. NewArg(Parts()) gives the
// argument back.
func (a Arg) Parts() (data json.RawMessage, attachments [][]byte) {
	if a.data == nil {
		return json.RawMessage("null"), nil
	}
	return a.data, a.bin()
}

// JSON returns the argument as plain JSON: its binary values are written as
// base64 strings, which encoding/json decodes into a []byte, so binary and
// string values can no longer be told apart. Decode and Parts keep them
// apart.
func (a Arg) JSON() json.RawMessage {
	if a.data == nil {
		return json.RawMessage("null")
	}
	if len(a.bin()) == 0 {
		return a.data
	}
	out, err := Reconstruct(a.data, a.bin())
	if err != nil { // cannot happen: the placeholders were checked
		return json.RawMessage("null")
	}
	return out
}

// MarshalJSON returns the argument as plain JSON; see JSON. It lets
// encoding/json marshal an Arg; MarshalArgs and the emits of package
// socketio keep its binary values binary instead.
func (a Arg) MarshalJSON() ([]byte, error) { return a.JSON(), nil }

// String returns the plain JSON form of the argument, for logs.
func (a Arg) String() string { return string(a.JSON()) }

// Decode decodes the argument into v, a non-nil pointer, as json.Unmarshal
// would decode its plain JSON form (binary values decode into []byte
// fields and elements). In addition:
//   - into a *Arg, it copies the argument;
//   - into a *[]byte, a binary argument gives its bytes without a copy;
//   - into a *any, binary values become []byte values, wherever they are,
//     and the rest is what json.Unmarshal makes of JSON.
func (a Arg) Decode(v any) error {
	switch p := v.(type) {
	case *Arg:
		*p = a
		return nil
	case *[]byte:
		if a.IsBinary() {
			*p = (*a.atts)[0]
			return nil
		}
	case *any:
		if len(a.bin()) > 0 {
			var val any
			if err := json.Unmarshal(a.data, &val); err != nil {
				return fmt.Errorf("socketio/parser: decode argument: %w", err)
			}
			*p = a.restore(val)
			return nil
		}
	}
	if err := json.Unmarshal(a.JSON(), v); err != nil {
		return fmt.Errorf("socketio/parser: decode argument: %w", err)
	}
	return nil
}

// restore replaces the placeholders decoded into v by the binary values
// they name.
func (a Arg) restore(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if ph, _ := x["_placeholder"].(bool); ph {
			if n, ok := x["num"].(float64); ok && n >= 0 && n < float64(len(a.bin())) && n == float64(int(n)) {
				return (*a.atts)[int(n)]
			}
		}
		for k, e := range x {
			x[k] = a.restore(e)
		}
	case []any:
		for i, e := range x {
			x[i] = a.restore(e)
		}
	}
	return v
}

// appendTo appends the JSON text of the argument to dst, its placeholders
// numbered from base, for a payload whose attachments before this
// argument's are base.
func (a Arg) appendTo(dst []byte, base int) ([]byte, error) {
	if a.data == nil {
		return append(dst, "null"...), nil
	}
	if len(a.bin()) == 0 {
		return append(dst, a.data...), nil
	}
	if base == 0 {
		return append(dst, a.data...), nil
	}
	return walkPlaceholders(a.data, len(a.bin()), dst, func(out []byte, num int) []byte {
		return appendPlaceholder(out, base+num)
	})
}

func appendPlaceholder(dst []byte, num int) []byte {
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(num), 10)
	return append(dst, '}')
}

// Args is a list of arguments, such as the arguments of an event after its
// name, or the arguments of an acknowledgement.
type Args []Arg

// Decode decodes the arguments into the pointers dst, in order, as
// Arg.Decode does. Arguments beyond dst are ignored; destinations beyond the
// arguments are left untouched, as a missing argument is undefined.
func (as Args) Decode(dst ...any) error {
	for i, d := range dst {
		if i >= len(as) {
			break
		}
		if err := as[i].Decode(d); err != nil {
			return fmt.Errorf("socketio/parser: argument %d: %w", i, err)
		}
	}
	return nil
}

// Any returns the arguments as a []any, ready to be spread into an emit:
// s.Emit("event", args.Any()...) sends them on unchanged, binary values
// included.
func (as Args) Any() []any {
	out := make([]any, len(as))
	for i, a := range as {
		out[i] = a
	}
	return out
}

// SplitArgs returns the elements of the JSON array data, the payload of an
// EVENT or ACK packet, as arguments; attachments are the packet's binary
// attachments, named by the placeholders of data. For an EVENT, the first
// element is the event name. Each argument gets the attachments its own
// placeholders name, renumbered from 0. data must be valid JSON, as the
// payloads of decoded packets are; a placeholder that names no attachment is
// an error wrapping ErrInvalidAttachments. The arguments alias data and
// attachments.
func SplitArgs(data json.RawMessage, attachments [][]byte) (Args, error) {
	args, err := AppendArgs(nil, data, attachments)
	if err != nil {
		return nil, err
	}
	if args == nil {
		args = Args{} // an empty array gives an empty list, not nil
	}
	return args, nil
}

// AppendArgs appends the arguments of the JSON array data to dst, as SplitArgs returns them,
// and returns the extended list; on error it returns dst unchanged. A caller that keeps room
// for the usual number of arguments in a struct it allocates anyway splits a payload without
// allocating.
func AppendArgs(dst Args, data json.RawMessage, attachments [][]byte) (Args, error) {
	var small [8]json.RawMessage
	raw, err := SplitArray(data, small[:0])
	if err != nil {
		return dst, err
	}
	n := len(dst)
	args := slices.Grow(dst, len(raw))[:n+len(raw)]
	for i, r := range raw {
		if len(attachments) == 0 || bytes.IndexByte(r, '{') < 0 {
			args[n+i] = Arg{data: r}
			continue
		}
		if args[n+i], err = localArg(r, attachments); err != nil {
			clear(args[n:])
			return dst, err
		}
	}
	return args, nil
}

// localArg returns the argument whose JSON text is r, an element of a
// payload whose placeholders name attachments, with its own attachments
// numbered from 0 in the order its placeholders appear.
func localArg(r []byte, attachments [][]byte) (Arg, error) {
	var atts [][]byte
	var local map[int]int // payload number -> argument number
	out, err := walkPlaceholders(r, len(attachments), make([]byte, 0, len(r)), func(out []byte, num int) []byte {
		n, ok := local[num]
		if !ok {
			if local == nil {
				local = make(map[int]int, 1)
			}
			n = len(atts)
			local[num] = n
			atts = append(atts, attachments[num])
		}
		return appendPlaceholder(out, n)
	})
	if err != nil {
		return Arg{}, err
	}
	if len(atts) == 0 {
		return Arg{data: r}, nil
	}
	return Arg{data: out, atts: newBinaryValues(atts)}, nil
}
