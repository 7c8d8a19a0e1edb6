package socketio

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// Ack answers an event that the client sent with an acknowledgement callback. Its arguments
// reach the client's callback, JSON-encoded ([]byte values and Args anywhere in them travel as
// binary).
// Calling it when the client asked for no answer does nothing; calling it twice returns
// ErrAlreadyAcked.
type Ack func(args ...any) error

var (
	ackType   = reflect.TypeFor[Ack]()
	errorType = reflect.TypeFor[error]()
)

// Arg is one argument of an event or an acknowledgement as it travelled: JSON, binary, or JSON
// with binary values inside. It can be inspected (IsBinary, Bytes), decoded (Decode), and
// emitted again as it came, binary values included. See parser.Arg.
type Arg = parser.Arg

// Args is the list of arguments of an event (after its name) or of an acknowledgement. Its Any
// method spreads them into an emit: s.Emit("event", args.Any()...) relays them byte for byte,
// binary values included. See parser.Args.
type Args = parser.Args

// handler is an event handler whose signature was analysed once, at registration.
type handler struct {
	fn     reflect.Value
	params []reflect.Type // the decoded parameters, without the trailing Ack
	hasAck bool
	retErr bool
	fast   func(args Args, ack Ack) error // common signatures, without reflection
}

// newHandler checks fn's signature. Accepted: a func whose parameters are decodable types,
// optionally followed by an Ack, returning nothing or an error; or the raw forms func(Args),
// func(Args, Ack), func(Arg), func(Arg, Ack) (also returning an error), and their JSON-only
// counterparts
// func([]json.RawMessage), func([]json.RawMessage, Ack), func(json.RawMessage) and
// func(json.RawMessage, Ack), which get binary values as base64 strings.
func newHandler(fn any) (*handler, error) {
	h := &handler{}
	switch f := fn.(type) {
	case func():
		h.fast = func(Args, Ack) error { f(); return nil }
		return h, nil
	case func(Ack):
		h.fast = func(_ Args, ack Ack) error { f(ack); return nil }
		return h, nil
	case func(Args):
		h.fast = func(args Args, _ Ack) error { f(args); return nil }
		return h, nil
	case func(Args, Ack):
		h.fast = func(args Args, ack Ack) error { f(args, ack); return nil }
		return h, nil
	case func([]Arg):
		h.fast = func(args Args, _ Ack) error { f(args); return nil }
		return h, nil
	case func([]Arg, Ack):
		h.fast = func(args Args, ack Ack) error { f(args, ack); return nil }
		return h, nil
	case func(Arg):
		h.fast = func(args Args, _ Ack) error { f(arg(args, 0)); return nil }
		return h, nil
	case func(Arg, Ack):
		h.fast = func(args Args, ack Ack) error { f(arg(args, 0), ack); return nil }
		return h, nil
	case func([]json.RawMessage):
		h.fast = func(args Args, _ Ack) error { f(jsonArgs(args)); return nil }
		return h, nil
	case func([]json.RawMessage, Ack):
		h.fast = func(args Args, ack Ack) error { f(jsonArgs(args), ack); return nil }
		return h, nil
	case func(json.RawMessage):
		h.fast = func(args Args, _ Ack) error { f(jsonArg(args, 0)); return nil }
		return h, nil
	case func(json.RawMessage, Ack):
		h.fast = func(args Args, ack Ack) error { f(jsonArg(args, 0), ack); return nil }
		return h, nil
	case func() error:
		h.fast = func(Args, Ack) error { return f() }
		return h, nil
	case func(Ack) error:
		h.fast = func(_ Args, ack Ack) error { return f(ack) }
		return h, nil
	case func(Args) error:
		h.fast = func(args Args, _ Ack) error { return f(args) }
		return h, nil
	case func(Args, Ack) error:
		h.fast = f
		return h, nil
	case func(Arg) error:
		h.fast = func(args Args, _ Ack) error { return f(arg(args, 0)) }
		return h, nil
	case func(Arg, Ack) error:
		h.fast = func(args Args, ack Ack) error { return f(arg(args, 0), ack) }
		return h, nil
	}
	v := reflect.ValueOf(fn)
	t := v.Type()
	if v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("socketio: handler must be a func, not %T", fn)
	}
	if t.IsVariadic() {
		return nil, fmt.Errorf("socketio: handler %v must not be variadic (use func(socketio.Args) for any number of arguments)", t)
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

func arg(args Args, i int) Arg {
	if i < len(args) {
		return args[i]
	}
	return Arg{}
}

func jsonArg(args Args, i int) json.RawMessage {
	if i < len(args) {
		return args[i].JSON()
	}
	return nil
}

// jsonArgs returns the plain JSON of args, binary values as base64 strings.
func jsonArgs(args Args) []json.RawMessage {
	out := make([]json.RawMessage, len(args))
	for i, a := range args {
		out[i] = a.JSON()
	}
	return out
}

// call decodes args into the handler's parameters and runs it. Missing arguments leave their
// parameters at the zero value, as undefined would; extra arguments are ignored.
func (h *handler) call(event string, args Args, ack Ack) error {
	if h.fast != nil {
		return h.fast(args, ack)
	}
	in := make([]reflect.Value, len(h.params), len(h.params)+1)
	for i, t := range h.params {
		p := reflect.New(t)
		if i < len(args) {
			if err := args[i].Decode(p.Interface()); err != nil {
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

// Reply is the answer to an emit with acknowledgement: the arguments the other side passed to
// its callback, binary values kept. Its Decode method decodes them into pointers, in order.
type Reply = Args
