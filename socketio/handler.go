package socketio

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// Ack answers an event that the client sent with an acknowledgement callback. Its arguments
// reach the client's callback, JSON-encoded ([]byte values anywhere in them travel as binary).
// Calling it when the client asked for no answer does nothing; calling it twice returns
// ErrNoAck.
type Ack func(args ...any) error

var (
	ackType   = reflect.TypeFor[Ack]()
	errorType = reflect.TypeFor[error]()
)

// handler is an event handler whose signature was analysed once, at registration.
type handler struct {
	fn     reflect.Value
	params []reflect.Type // the decoded parameters, without the trailing Ack
	hasAck bool
	retErr bool
	fast   func(args []json.RawMessage, ack Ack) error // common signatures, without reflection
}

// newHandler checks fn's signature. Accepted: a func whose parameters are JSON-decodable
// types, optionally followed by an Ack, returning nothing or an error; or the raw forms
// func([]json.RawMessage) and func([]json.RawMessage, Ack).
func newHandler(fn any) (*handler, error) {
	h := &handler{}
	switch f := fn.(type) {
	case func():
		h.fast = func([]json.RawMessage, Ack) error { f(); return nil }
		return h, nil
	case func(Ack):
		h.fast = func(_ []json.RawMessage, ack Ack) error { f(ack); return nil }
		return h, nil
	case func([]json.RawMessage):
		h.fast = func(args []json.RawMessage, _ Ack) error { f(args); return nil }
		return h, nil
	case func([]json.RawMessage, Ack):
		h.fast = func(args []json.RawMessage, ack Ack) error { f(args, ack); return nil }
		return h, nil
	case func(json.RawMessage):
		h.fast = func(args []json.RawMessage, _ Ack) error { f(arg(args, 0)); return nil }
		return h, nil
	case func(json.RawMessage, Ack):
		h.fast = func(args []json.RawMessage, ack Ack) error { f(arg(args, 0), ack); return nil }
		return h, nil
	}
	v := reflect.ValueOf(fn)
	t := v.Type()
	if v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("socketio: handler must be a func, not %T", fn)
	}
	if t.IsVariadic() {
		return nil, fmt.Errorf("socketio: handler %v must not be variadic (use func([]json.RawMessage) for any number of arguments)", t)
	}
	switch {
	case t.NumOut() == 0:
	case t.NumOut() == 1 && t.Out(0) == errorType:
		h.retErr = true
	default:
		return nil, fmt.Errorf("socketio: handler %v must return nothing or an error", t)
	}
	n := t.NumIn()
	if n > 0 && t.In(n-1) == ackType {
		h.hasAck = true
		n--
	}
	for i := range n {
		p := t.In(i)
		if p == ackType {
			return nil, fmt.Errorf("socketio: handler %v: the Ack must be the last parameter", t)
		}
		if p.Kind() == reflect.Func || p.Kind() == reflect.Chan || p.Kind() == reflect.UnsafePointer {
			return nil, fmt.Errorf("socketio: handler %v: parameter %d of type %v cannot be decoded from JSON", t, i, p)
		}
		h.params = append(h.params, p)
	}
	h.fn = v
	return h, nil
}

func arg(args []json.RawMessage, i int) json.RawMessage {
	if i < len(args) {
		return args[i]
	}
	return nil
}

// call decodes args into the handler's parameters and runs it. Missing arguments leave their
// parameters at the zero value, as undefined would; extra arguments are ignored.
func (h *handler) call(event string, args []json.RawMessage, ack Ack) error {
	if h.fast != nil {
		return h.fast(args, ack)
	}
	in := make([]reflect.Value, len(h.params), len(h.params)+1)
	for i, t := range h.params {
		p := reflect.New(t)
		if i < len(args) {
			if err := json.Unmarshal(args[i], p.Interface()); err != nil {
				return &ArgumentError{Event: event, Index: i, Err: err}
			}
		}
		in[i] = p.Elem()
	}
	if h.hasAck {
		in = append(in, reflect.ValueOf(ack))
	}
	out := h.fn.Call(in)
	if h.retErr && !out[0].IsNil() {
		return out[0].Interface().(error)
	}
	return nil
}

// Reply is the answer to an emit with acknowledgement: the JSON arguments the other side
// passed to its callback.
type Reply []json.RawMessage

// Decode decodes the reply's arguments into the pointers dst, in order. Missing arguments
// leave their destinations untouched.
func (r Reply) Decode(dst ...any) error {
	for i, d := range dst {
		if i >= len(r) {
			break
		}
		if err := json.Unmarshal(r[i], d); err != nil {
			return fmt.Errorf("socketio: reply argument %d: %w", i, err)
		}
	}
	return nil
}
