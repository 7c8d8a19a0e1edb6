package socketio

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

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

// handler runs an event handler: it decodes the event's arguments into the handler's
// parameters and calls it. Its signature was analysed once, at registration; the common
// signatures call the application's func directly, the others go through package reflect
// (reflectHandler). A handler is one small closure: sockets keep a few of them each.
// room is storage that the JSON-only forms may use for the []json.RawMessage they pass to the
// application when it is long enough, so that an event's task can hold it; nil for none.
type handler func(event string, args Args, ack Ack, room []json.RawMessage) error

// call runs the handler.
func (h handler) call(event string, args Args, ack Ack) error { return h(event, args, ack, nil) }

// callWith runs the handler, with room for the []json.RawMessage of the JSON-only forms.
func (h handler) callWith(event string, args Args, ack Ack, room []json.RawMessage) error {
	return h(event, args, ack, room)
}

// handlerListMax is the most handlers a handlerSet keeps in its list; beyond, they move to a
// map.
const handlerListMax = 8

// handlerSet holds the handlers of a socket's events: a short list for the few events most
// sockets handle, which costs a fraction of a map's smallest allocation, and a map when there
// are many. Its zero value is empty.
type handlerSet struct {
	list []namedHandler // the handlers while there are at most handlerListMax, else nil
	m    map[string]handler
}

// namedHandler is a handler and the event it handles.
type namedHandler struct {
	event string
	h     handler
}

// get returns the handler of event, or nil.
func (hs *handlerSet) get(event string) handler {
	if hs.m != nil {
		return hs.m[event]
	}
	for i := range hs.list {
		if hs.list[i].event == event {
			return hs.list[i].h
		}
	}
	return nil
}

// name returns the event among those of the handlers in the list that is b, without
// allocating; a set that keeps its handlers in a map does not look.
func (hs *handlerSet) name(b []byte) (string, bool) {
	for i := range hs.list {
		if hs.list[i].event == string(b) {
			return hs.list[i].event, true
		}
	}
	return "", false
}

// set makes h the handler of event, replacing the one it had.
func (hs *handlerSet) set(event string, h handler) {
	if hs.m != nil {
		hs.m[event] = h
		return
	}
	for i := range hs.list {
		if hs.list[i].event == event {
			hs.list[i].h = h
			return
		}
	}
	switch {
	case hs.list == nil:
		hs.list = make([]namedHandler, 0, 4) // applications register a few handlers at once
	case len(hs.list) == handlerListMax:
		hs.m = make(map[string]handler, 2*handlerListMax)
		for _, nh := range hs.list {
			hs.m[nh.event] = nh.h
		}
		hs.m[event] = h
		hs.list = nil
		return
	}
	hs.list = append(hs.list, namedHandler{event, h})
}

// del removes the handler of event.
func (hs *handlerSet) del(event string) {
	if hs.m != nil {
		delete(hs.m, event)
		return
	}
	for i := range hs.list {
		if hs.list[i].event == event {
			hs.list = slices.Delete(hs.list, i, i+1) // which lets the removed handler go
			return
		}
	}
}

// reflectHandler is a handler of a signature without a fast path: its parameters are decoded
// and the call made by package reflect.
type reflectHandler struct {
	fn     reflect.Value
	params []reflect.Type // the decoded parameters, without the trailing Ack
	hasAck bool
	retErr bool
}

// newHandler checks fn's signature. Accepted: a func whose parameters are decodable types,
// optionally followed by an Ack, returning nothing or an error; or the raw forms func(Args),
// func(Args, Ack), func(Arg), func(Arg, Ack) (also returning an error), and their JSON-only
// counterparts
// func([]json.RawMessage), func([]json.RawMessage, Ack), func(json.RawMessage) and
// func(json.RawMessage, Ack), which get binary values as base64 strings.
func newHandler(fn any) (handler, error) {
	switch f := fn.(type) {
	case func():
		return func(string, Args, Ack, []json.RawMessage) error { f(); return nil }, nil
	case func(Ack):
		return func(_ string, _ Args, ack Ack, _ []json.RawMessage) error { f(ack); return nil }, nil
	case func(Args):
		return func(_ string, args Args, _ Ack, _ []json.RawMessage) error { f(args); return nil }, nil
	case func(Args, Ack):
		return func(_ string, args Args, ack Ack, _ []json.RawMessage) error { f(args, ack); return nil }, nil
	case func([]Arg):
		return func(_ string, args Args, _ Ack, _ []json.RawMessage) error { f(args); return nil }, nil
	case func([]Arg, Ack):
		return func(_ string, args Args, ack Ack, _ []json.RawMessage) error { f(args, ack); return nil }, nil
	case func(Arg):
		return func(_ string, args Args, _ Ack, _ []json.RawMessage) error { f(arg(args, 0)); return nil }, nil
	case func(Arg, Ack):
		return func(_ string, args Args, ack Ack, _ []json.RawMessage) error { f(arg(args, 0), ack); return nil }, nil
	case func([]json.RawMessage):
		return func(_ string, args Args, _ Ack, room []json.RawMessage) error { f(jsonArgs(args, room)); return nil }, nil
	case func([]json.RawMessage, Ack):
		return func(_ string, args Args, ack Ack, room []json.RawMessage) error {
			f(jsonArgs(args, room), ack)
			return nil
		}, nil
	case func(json.RawMessage):
		return func(_ string, args Args, _ Ack, _ []json.RawMessage) error { f(jsonArg(args, 0)); return nil }, nil
	case func(json.RawMessage, Ack):
		return func(_ string, args Args, ack Ack, _ []json.RawMessage) error { f(jsonArg(args, 0), ack); return nil }, nil
	case func() error:
		return func(string, Args, Ack, []json.RawMessage) error { return f() }, nil
	case func(Ack) error:
		return func(_ string, _ Args, ack Ack, _ []json.RawMessage) error { return f(ack) }, nil
	case func(Args) error:
		return func(_ string, args Args, _ Ack, _ []json.RawMessage) error { return f(args) }, nil
	case func(Args, Ack) error:
		return func(_ string, args Args, ack Ack, _ []json.RawMessage) error { return f(args, ack) }, nil
	case func(Arg) error:
		return func(_ string, args Args, _ Ack, _ []json.RawMessage) error { return f(arg(args, 0)) }, nil
	case func(Arg, Ack) error:
		return func(_ string, args Args, ack Ack, _ []json.RawMessage) error { return f(arg(args, 0), ack) }, nil
	}
	h := &reflectHandler{}
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
	return h.call, nil
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

// jsonArgs returns the plain JSON of args, binary values as base64 strings, in room when it is
// long enough. room must be the application's to keep.
func jsonArgs(args Args, room []json.RawMessage) []json.RawMessage {
	var out []json.RawMessage
	if len(args) <= len(room) {
		out = room[:len(args):len(args)] // capped: an append by the application reallocates
	} else {
		out = make([]json.RawMessage, len(args))
	}
	for i, a := range args {
		out[i] = a.JSON()
	}
	return out
}

// call decodes args into the handler's parameters and runs it. Missing arguments leave their
// parameters at the zero value, as undefined would; extra arguments are ignored.
func (h *reflectHandler) call(event string, args Args, ack Ack, _ []json.RawMessage) error {
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
