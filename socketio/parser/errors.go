package parser

import "errors"

// Sentinel errors. Errors returned by the package wrap one of them with
// details.
var (
	// ErrUnknownType reports a packet type outside 0-6, or an empty frame.
	ErrUnknownType = errors.New("socketio/parser: unknown packet type")

	// ErrInvalidAttachments reports a malformed attachment count, a
	// placeholder that does not name an attachment, or attachments on a
	// packet type that cannot carry them.
	ErrInvalidAttachments = errors.New("socketio/parser: illegal attachments")

	// ErrTooManyAttachments reports a binary packet announcing more
	// attachments than the decoder accepts.
	ErrTooManyAttachments = errors.New("socketio/parser: too many attachments")

	// ErrInvalidNamespace reports a namespace that does not start with "/",
	// contains a comma, is not valid UTF-8 or is too long.
	ErrInvalidNamespace = errors.New("socketio/parser: invalid namespace")

	// ErrInvalidAckID reports an acknowledgement id larger than MaxAckID, an
	// ACK packet without one, or one on a packet type that takes none.
	ErrInvalidAckID = errors.New("socketio/parser: invalid ack id")

	// ErrInvalidPayload reports a payload that is not valid JSON or does not
	// have the shape its packet type requires.
	ErrInvalidPayload = errors.New("socketio/parser: invalid payload")

	// ErrUnexpectedBinary reports a binary frame that no binary packet is
	// waiting for.
	ErrUnexpectedBinary = errors.New("socketio/parser: got binary data when not reconstructing a packet")

	// ErrUnexpectedText reports a text frame that arrived while a binary
	// packet was still waiting for attachments.
	ErrUnexpectedText = errors.New("socketio/parser: got text data when reconstructing a packet")

	// ErrUnsupportedValue reports an argument that MarshalArgs cannot
	// encode, such as a cyclic or too deeply nested value.
	ErrUnsupportedValue = errors.New("socketio/parser: unsupported value")
)
