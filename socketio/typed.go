package socketio

import (
	"encoding/json"
	"fmt"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// OnEvent registers the handler of an event on s, like s.On, with the event's first argument
// decoded into a T without reflection: the compiler writes the decoding for T, so the handler
// costs what a raw func(Args, Ack) error handler that decodes its own argument costs. A
// missing argument leaves the T at its zero value; an argument that does not decode into a T
// is reported to OnError as an *ArgumentError and the handler does not run. ack is a no-op
// when the client asked for no answer. Events with several arguments take a raw
// func(Args, Ack) error handler with s.On, or put the values in one object.
//
// OnEvent panics on a reserved event name, as On does.
func OnEvent[T any](s *Socket, event string, fn func(v T, ack Ack) error) {
	if fn == nil {
		panic(fmt.Sprintf("socketio: OnEvent(%q): nil handler", event))
	}
	if parser.IsReservedEvent(event) {
		panic(fmt.Sprintf("socketio: OnEvent(%q): %v", event, reservedOnError(event)))
	}
	s.setHandler(event, typedHandler(event, fn))
}

// typedHandler returns the handler OnEvent registers.
func typedHandler[T any](event string, fn func(T, Ack) error) handler {
	return func(_ string, args Args, ack Ack, _ []json.RawMessage) error {
		var v T
		if len(args) > 0 {
			if err := args[0].Decode(&v); err != nil {
				return &ArgumentError{Event: event, Index: 0, Err: err}
			}
		}
		return fn(v, ack)
	}
}

// reservedOnError explains why On refuses a reserved event name.
func reservedOnError(event string) error {
	switch event {
	case "connect":
		return fmt.Errorf("%w: register connection hooks with Server.OnConnection or Namespace.OnConnection", ErrReservedEvent)
	case "connect_error":
		return fmt.Errorf("%w: a refused connection never reaches a socket; refuse it in a Middleware", ErrReservedEvent)
	case "newListener", "removeListener":
		return fmt.Errorf("%w: Go sockets have no listener events", ErrReservedEvent)
	}
	return fmt.Errorf("%w: clients cannot send it", ErrReservedEvent)
}

// onReserved registers fn, given to On with the reserved name event: the disconnect and
// disconnecting hooks, as in Node, in the forms func(), func(DisconnectReason) and
// func(string). The other reserved names are refused.
func (s *Socket) onReserved(event string, fn any) error {
	var hook func(DisconnectReason)
	switch f := fn.(type) {
	case func():
		hook = func(DisconnectReason) { f() }
	case func(DisconnectReason):
		hook = f
	case func(string):
		hook = func(r DisconnectReason) { f(string(r)) }
	}
	switch {
	case event != "disconnect" && event != "disconnecting":
		return reservedOnError(event)
	case hook == nil:
		return fmt.Errorf("the %s hook must be a func(), func(socketio.DisconnectReason) or func(string), not %T", event, fn)
	case event == "disconnect":
		s.OnDisconnect(hook)
	default:
		s.OnDisconnecting(hook)
	}
	return nil
}
