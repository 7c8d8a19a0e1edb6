package socketio

import (
	"errors"
	"fmt"
)

// DisconnectReason tells why a socket left its namespace. The values are those of the official
// server.
type DisconnectReason string

// The reasons a socket disconnects for.
const (
	ReasonTransportClose            DisconnectReason = "transport close"
	ReasonTransportError            DisconnectReason = "transport error"
	ReasonPingTimeout               DisconnectReason = "ping timeout"
	ReasonParseError                DisconnectReason = "parse error"
	ReasonServerNamespaceDisconnect DisconnectReason = "server namespace disconnect"
	ReasonClientNamespaceDisconnect DisconnectReason = "client namespace disconnect"
	ReasonServerShuttingDown        DisconnectReason = "server shutting down"
	ReasonForcedClose               DisconnectReason = "forced close"
	// ReasonInboxTimeout: the connection's inbox stayed full for Options.InboxTimeout; the
	// application's handlers did not keep up with the client.
	ReasonInboxTimeout DisconnectReason = "inbox timeout"
	// ReasonHandlerPanic: application code of the socket (a handler, middleware, hook or
	// listener) panicked. The panic is reported to the error hooks as a *PanicError.
	ReasonHandlerPanic DisconnectReason = "handler panic"
)

// ConnectError refuses a connection to a namespace. A middleware returns it to send the client
// a connect_error with a message and JSON data; any other error sends only its text.
type ConnectError struct {
	// Message is the text the client's connect_error gets, as err.message.
	Message string
	// Data, when not nil, is marshalled to JSON and reaches the client as err.data.
	Data any
}

// Error returns the message.
func (e *ConnectError) Error() string { return e.Message }

// Errors returned by the server.
var (
	// ErrDisconnected is returned when emitting on a socket that is no longer connected.
	ErrDisconnected = errors.New("socketio: socket disconnected")
	// ErrReservedEvent is returned when emitting an event whose name is reserved, such as
	// "connect" or "disconnect".
	ErrReservedEvent = errors.New("socketio: reserved event name")
	// ErrAckTimeout is returned when acknowledgements did not arrive in time.
	ErrAckTimeout = errors.New("socketio: acknowledgement timed out")
	// ErrAlreadyAcked is returned by an Ack that is called a second time.
	ErrAlreadyAcked = errors.New("socketio: acknowledgement already sent")
	// ErrNoAck is the former name of ErrAlreadyAcked, the same value.
	//
	// Deprecated: use ErrAlreadyAcked.
	ErrNoAck = ErrAlreadyAcked
)

// ArgumentError tells that an event's arguments did not decode into the handler's parameter
// types. It reaches the socket's error hook (Socket.OnError), or, for a server-side event
// (Namespace.OnServerSideEmit), the server's (Server.OnError).
type ArgumentError struct {
	// Event is the name of the event.
	Event string
	// Index is the position of the argument among the event's arguments, from 0.
	Index int
	// Err is the decoding error.
	Err error
}

// Error describes the argument and the decoding failure.
func (e *ArgumentError) Error() string {
	return fmt.Sprintf("socketio: event %q, argument %d: %v", e.Event, e.Index, e.Err)
}

// Unwrap returns the decoding error.
func (e *ArgumentError) Unwrap() error { return e.Err }

// AckTimeoutError is returned by a broadcast with acknowledgements when some receivers did not
// answer in time. The answers that arrived are returned with it.
type AckTimeoutError struct {
	// Expected is the number of sockets the broadcast was sent to.
	Expected int
	// Missing is the number of them that did not answer.
	Missing int
}

// Error tells how many answers are missing.
func (e *AckTimeoutError) Error() string {
	return fmt.Sprintf("socketio: %d of %d acknowledgements missing at timeout", e.Missing, e.Expected)
}

// Is makes errors.Is(err, ErrAckTimeout) true.
func (e *AckTimeoutError) Is(target error) bool { return target == ErrAckTimeout }
