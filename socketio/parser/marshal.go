package parser

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// maxMarshalDepth bounds the nesting of values MarshalArgs walks. It matches
// the nesting encoding/json accepts when decoding.
const maxMarshalDepth = 10000

// cycleCheckDepth is the depth from which MarshalArgs tracks the pointers it
// follows to detect cycles.
const cycleCheckDepth = 100

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	isZeroerType      = reflect.TypeFor[interface{ IsZero() bool }]()
	argType           = reflect.TypeFor[Arg]()
)

// MarshalArgs returns the JSON array of args and the attachments found in
// them, ready to be the payload and attachments of an ACK packet.
//
// Values are marshalled as encoding/json marshals them, except that every
// non-nil []byte (any slice type whose elements are bytes, as encoding/json
// sees it) becomes a placeholder {"_placeholder":true,"num":N} and the N-th
// attachment. Byte slices are found anywhere: in struct fields (honouring
// json tags, omitempty, omitzero, "-" and embedded structs), slices, arrays,
// maps, pointers and interfaces. Values that implement json.Marshaler or
// encoding.TextMarshaler, json.RawMessage among them, are marshalled by
// themselves, except Arg: an Arg, anywhere in the arguments, is written as
// it was received, its binary values as attachments. The attachments alias
// the caller's byte slices.
//
// Whether a type can hold a []byte is computed once per type, so arguments
// of types that cannot are marshalled by encoding/json with no extra walk.
// Cyclic values and values nested deeper than 10000 levels are rejected
// with an error wrapping ErrUnsupportedValue.
func MarshalArgs(args ...any) (data json.RawMessage, attachments [][]byte, err error) {
	e := getEncoder()
	defer putEncoder(e)
	if err := e.args(args); err != nil {
		return nil, nil, err
	}
	return bytes.Clone(e.buf), e.attachments(), nil
}

// args appends the JSON array of args.
func (e *encoder) args(args []any) error {
	e.buf = append(e.buf, '[')
	for i, a := range args {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.marshal(a); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// MarshalEvent is like MarshalArgs with the event name as first element:
// it returns the payload of an EVENT packet. It rejects reserved event
// names (see IsReservedEvent).
func MarshalEvent(event string, args ...any) (data json.RawMessage, attachments [][]byte, err error) {
	if IsReservedEvent(event) {
		return nil, nil, fmt.Errorf("%w: reserved event name %q", ErrInvalidPayload, event)
	}
	e := getEncoder()
	defer putEncoder(e)
	e.buf = append(e.buf, '[')
	e.buf = AppendString(e.buf, event)
	for _, a := range args {
		e.buf = append(e.buf, ',')
		if err := e.marshal(a); err != nil {
			return nil, nil, err
		}
	}
	e.buf = append(e.buf, ']')
	return bytes.Clone(e.buf), e.attachments(), nil
}

// encoder holds the state of one MarshalArgs call.
type encoder struct {
	buf   []byte
	att   [][]byte
	json  *json.Encoder
	depth int
	seen  map[visit]struct{}

	// withArgs records that an Arg was written as it is: its JSON text was checked when it
	// was made by NewArg or decoded, but not when it was made by SplitArgs from a payload
	// that was not.
	withArgs bool
}

type visit struct {
	ptr unsafe.Pointer
	n   int
	typ reflect.Type
}

var encoderPool = sync.Pool{New: func() any {
	e := new(encoder)
	e.json = json.NewEncoder(e)
	return e
}}

func getEncoder() *encoder { return encoderPool.Get().(*encoder) }

func putEncoder(e *encoder) {
	if cap(e.buf) > 64<<10 {
		return
	}
	e.buf = e.buf[:0]
	clear(e.att)
	e.att = e.att[:0]
	e.depth = 0
	e.withArgs = false
	clear(e.seen)
	encoderPool.Put(e)
}

func (e *encoder) attachments() [][]byte {
	if len(e.att) == 0 {
		return nil
	}
	return slices.Clone(e.att)
}

// Write lets the json.Encoder append to buf.
func (e *encoder) Write(p []byte) (int, error) {
	e.buf = append(e.buf, p...)
	return len(p), nil
}

// leaf appends v as encoding/json marshals it.
func (e *encoder) leaf(v any) error {
	if err := e.json.Encode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrUnsupportedValue, err)
	}
	if n := len(e.buf); n > 0 && e.buf[n-1] == '\n' {
		e.buf = e.buf[:n-1]
	}
	return nil
}

func (e *encoder) marshal(a any) error {
	if a == nil {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	switch x := a.(type) {
	case Arg:
		return e.arg(x)
	case json.RawMessage:
		if e.raw(x) {
			return nil
		}
	}
	if !mayHaveBinary(reflect.TypeOf(a)) {
		return e.leaf(a)
	}
	return e.walk(reflect.ValueOf(a))
}

func (e *encoder) walk(v reflect.Value) error {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > maxMarshalDepth {
		return fmt.Errorf("%w: nested deeper than %d levels", ErrUnsupportedValue, maxMarshalDepth)
	}
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	t := v.Type()
	if t == argType && v.CanInterface() {
		return e.arg(v.Interface().(Arg))
	}
	if t.Kind() == reflect.Pointer && t.Elem() == argType && v.CanInterface() {
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.arg(*v.Interface().(*Arg))
	}
	if isMarshaler(t) || !mayHaveBinary(t) {
		return e.leafValue(v)
	}
	if v.CanAddr() && isMarshaler(reflect.PointerTo(t)) {
		return e.leafValue(v.Addr())
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.walk(v.Elem())
	case reflect.Pointer:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		done, err := e.enter(v, 0)
		if err != nil {
			return err
		}
		defer done()
		return e.walk(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if isByteSlice(t) {
			e.buf = append(e.buf, `{"_placeholder":true,"num":`...)
			e.buf = strconv.AppendInt(e.buf, int64(len(e.att)), 10)
			e.buf = append(e.buf, '}')
			e.att = append(e.att, v.Bytes())
			return nil
		}
		done, err := e.enter(v, v.Len())
		if err != nil {
			return err
		}
		defer done()
		return e.array(v)
	case reflect.Array:
		return e.array(v)
	case reflect.Map:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		done, err := e.enter(v, 0)
		if err != nil {
			return err
		}
		defer done()
		return e.mapValue(v)
	case reflect.Struct:
		return e.structValue(v)
	}
	return e.leafValue(v)
}

// raw appends the JSON text m as encoding/json marshals a json.RawMessage, when that is m
// itself: m is one valid JSON value, compact, with nothing that encoding/json escapes (the
// characters <, > and &, and U+2028 and U+2029, whose encoding starts with the byte 0xE2).
// It reports false, having appended nothing, for any other m, which encoding/json handles:
// the fast path of the arguments a handler got as json.RawMessage and answers with.
func (e *encoder) raw(m json.RawMessage) bool {
	if m == nil {
		e.buf = append(e.buf, "null"...)
		return true
	}
	if len(m) == 0 {
		return false
	}
	i := 0
	for ; i+8 <= len(m); i += 8 {
		if w := binary.LittleEndian.Uint64(m[i:]); hasLess(w, ' '+1) || hasByte(w, '<') ||
			hasByte(w, '>') || hasByte(w, '&') || hasByte(w, 0xE2) {
			break // the loop below looks at this word
		}
	}
	for _, c := range m[i:] {
		switch c {
		case ' ', '\t', '\n', '\r', '<', '>', '&', 0xE2:
			return false
		}
	}
	if !validJSON(m) {
		return false
	}
	e.buf = append(e.buf, m...)
	return true
}

// arg appends an Arg, its attachments numbered after those found so far.
func (e *encoder) arg(a Arg) error {
	e.withArgs = true
	buf, err := a.appendTo(e.buf, len(e.att))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnsupportedValue, err)
	}
	e.buf = buf
	e.att = append(e.att, a.bin()...)
	return nil
}

// enter records that the walk follows the reference v, once deep enough
// for cycles to be worth looking for, and fails if it already does.
func (e *encoder) enter(v reflect.Value, n int) (func(), error) {
	if e.depth < cycleCheckDepth {
		return func() {}, nil
	}
	if e.seen == nil {
		e.seen = map[visit]struct{}{}
	}
	k := visit{ptr: v.UnsafePointer(), n: n, typ: v.Type()}
	if _, ok := e.seen[k]; ok {
		return nil, fmt.Errorf("%w: cycle through %s", ErrUnsupportedValue, v.Type())
	}
	e.seen[k] = struct{}{}
	return func() { delete(e.seen, k) }, nil
}

func (e *encoder) leafValue(v reflect.Value) error {
	if !v.CanInterface() {
		return fmt.Errorf("%w: unexported value of type %s", ErrUnsupportedValue, v.Type())
	}
	return e.leaf(v.Interface())
}

func (e *encoder) array(v reflect.Value) error {
	e.buf = append(e.buf, '[')
	for i := range v.Len() {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.walk(v.Index(i)); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

func (e *encoder) mapValue(v reflect.Value) error {
	type entry struct {
		key string
		val reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, err := mapKey(it.Key())
		if err != nil {
			return err
		}
		entries = append(entries, entry{k, it.Value()})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	e.buf = append(e.buf, '{')
	for i, en := range entries {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = AppendString(e.buf, en.key)
		e.buf = append(e.buf, ':')
		if err := e.walk(en.val); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// mapKey returns the member name encoding/json uses for the map key k.
func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if k.Type().Implements(textMarshalerType) {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := k.Interface().(encoding.TextMarshaler).MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("%w: map key type %s", ErrUnsupportedValue, k.Type())
}

func (e *encoder) structValue(v reflect.Value) error {
	e.buf = append(e.buf, '{')
	first := true
fields:
	for _, f := range structFields(v.Type()) {
		fv := v
		for _, i := range f.index {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue fields
				}
				fv = fv.Elem()
			}
			fv = fv.Field(i)
		}
		if f.omitEmpty && isEmptyValue(fv) {
			continue
		}
		if f.omitZero && isZeroValue(fv) {
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = append(e.buf, f.key...)
		if f.quoted {
			if err := e.quoted(fv); err != nil {
				return err
			}
			continue
		}
		if err := e.walk(fv); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

// quoted appends a field with the ",string" option: its JSON inside a JSON
// string. Such fields hold booleans, numbers or strings, never bytes.
func (e *encoder) quoted(v reflect.Value) error {
	if isMarshaler(v.Type()) {
		return e.leafValue(v)
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		v = v.Elem()
	}
	start := len(e.buf)
	if err := e.leafValue(v); err != nil {
		return err
	}
	inner := string(e.buf[start:])
	e.buf = AppendString(e.buf[:start], inner)
	return nil
}

func isMarshaler(t reflect.Type) bool {
	return t.Implements(marshalerType) || t.Implements(textMarshalerType)
}

// isByteSlice reports whether encoding/json writes values of the slice type
// t as base64 strings.
func isByteSlice(t reflect.Type) bool {
	if t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Uint8 {
		return false
	}
	return !isMarshaler(reflect.PointerTo(t.Elem()))
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// isZeroValue tells whether an "omitzero" field is zero: its IsZero method
// says so when it has one, reflect.Value.IsZero otherwise.
func isZeroValue(v reflect.Value) bool {
	t := v.Type()
	switch {
	case t.Kind() == reflect.Pointer && t.Implements(isZeroerType):
		return v.IsNil() || (v.CanInterface() && v.Interface().(interface{ IsZero() bool }).IsZero())
	case t.Kind() == reflect.Interface && t.Implements(isZeroerType):
		return v.IsNil() || (v.CanInterface() && v.Interface().(interface{ IsZero() bool }).IsZero())
	case t.Implements(isZeroerType) && v.CanInterface():
		return v.Interface().(interface{ IsZero() bool }).IsZero()
	case reflect.PointerTo(t).Implements(isZeroerType) && v.CanInterface():
		if !v.CanAddr() {
			c := reflect.New(t)
			c.Elem().Set(v)
			v = c.Elem()
		}
		return v.Addr().Interface().(interface{ IsZero() bool }).IsZero()
	}
	return v.IsZero()
}

var binaryCache sync.Map // reflect.Type -> bool

// mayHaveBinary reports whether values of type t can hold a byte slice that
// MarshalArgs turns into an attachment. Interfaces can hold anything, so
// their contents are checked value by value.
func mayHaveBinary(t reflect.Type) bool {
	if b, ok := binaryCache.Load(t); ok {
		return b.(bool)
	}
	b, _ := computeBinary(t, map[reflect.Type]bool{})
	return b
}

// computeBinary computes mayHaveBinary for t. Types of a recursive type are
// assumed binary-free while they are being computed; a negative answer that
// relied on that assumption is not cached, a positive one always is.
func computeBinary(t reflect.Type, inProgress map[reflect.Type]bool) (has, provisional bool) {
	if b, ok := binaryCache.Load(t); ok {
		return b.(bool), false
	}
	if inProgress[t] {
		return false, true
	}
	switch {
	case t == argType:
		has = true
	case isMarshaler(t):
	case t.Kind() == reflect.Interface:
		has = true
	case isByteSlice(t):
		has = true
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array ||
		t.Kind() == reflect.Pointer || t.Kind() == reflect.Map:
		inProgress[t] = true
		has, provisional = computeBinary(t.Elem(), inProgress)
		delete(inProgress, t)
	case t.Kind() == reflect.Struct:
		inProgress[t] = true
		for _, f := range structFields(t) {
			h, p := computeBinary(f.typ, inProgress)
			provisional = provisional || p
			if h {
				has = true
				break
			}
		}
		delete(inProgress, t)
	}
	if has || !provisional {
		binaryCache.Store(t, has)
		provisional = false
	}
	return has, provisional
}

// AppendString appends s to dst as a JSON string, escaped as encoding/json
// escapes strings (invalid UTF-8 becomes U+FFFD), and returns the extended
// slice. It allocates nothing when dst has room.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
