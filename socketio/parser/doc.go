// Package parser implements the Socket.IO v5 packet codec: the text format
// of CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT and
// BINARY_ACK packets, namespaces, acknowledgement ids and binary
// attachments.
//
// The package does no I/O and starts no goroutines. Every Socket.IO packet
// travels as one or more Engine.IO message packets: a text frame that holds
// the header and the JSON payload, followed, for binary packets, by one
// binary frame per attachment. This package turns packets into those frames
// and back; moving the frames is the job of the Engine.IO layer.
//
// # Wire format
//
// A text frame reads
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// for example 2["hello","world"], 2/admin,12["ev",1] or
// 51-["upload",{"_placeholder":true,"num":0}]. The namespace "/" is never
// written. The payload rules are those of the reference JavaScript parser
// (socket.io-parser): a CONNECT payload is an object or absent, a DISCONNECT
// has no payload, a CONNECT_ERROR payload is an object or a string, an EVENT
// payload is a non-empty array whose first element is the event name (a
// string that is not a reserved name, or a number), and an ACK payload is an
// array. This package is stricter than the reference in a few places, all
// of them following the protocol specification: an EVENT or ACK packet
// without a payload is rejected, as the specification requires one; an ACK
// packet must carry an ack id and only EVENT and ACK packets may carry one
// (so "42{}" is an error, not a CONNECT_ERROR with ack id 2); an ack id may
// not exceed MaxAckID; and an empty frame is rejected rather than read as a
// CONNECT packet.
//
// # Decoding
//
// A [Decoder] holds the state of one connection: a binary packet is complete
// only when all its attachments have arrived, so the decoder keeps it until
// then. Decoded packets alias the frames they were decoded from (see
// [Decoder.DecodeText]); callers that reuse their read buffers must copy.
// [SplitArray] and [EventName] take an EVENT or ACK payload apart into the
// event name and the raw JSON of each argument, ready for json.Unmarshal.
//
// JSON is checked without recursion and with the nesting limit of
// encoding/json (10000 levels), so that every payload accepted here can be
// decoded by encoding/json.
//
// # Encoding
//
// [AppendPacket] appends a packet's text frame to a buffer, allocating
// nothing when the buffer has room, and [Encode] returns it in a new slice
// together with the attachments to send after it. Both check the packet as
// the decoder would, so what they write a Decoder reads back unchanged. A
// server broadcasting one packet to many sockets encodes it once.
//
// # Binary data
//
// On the wire, a binary packet's JSON payload holds placeholders such as
// {"_placeholder":true,"num":0} where the binary values were. [Reconstruct]
// replaces every placeholder with the base64 JSON string of its attachment,
// which encoding/json decodes straight into a []byte. [MarshalArgs] and
// [MarshalEvent] do the opposite for outgoing data: every []byte found in the
// arguments becomes a placeholder and an attachment.
//
// # Arguments that keep their binary values
//
// [SplitArgs] takes an EVENT or ACK payload and its attachments apart into
// [Args], one [Arg] per element, each with the binary values its own
// placeholders name. An Arg can be inspected ([Arg.IsBinary],
// [Arg.Bytes]), decoded ([Arg.Decode], with []byte for binary values even
// into an any), or passed back to [MarshalArgs] and [MarshalEvent], which
// write it as it came: a relay of received arguments is byte for byte,
// binary values included, as Node's socket.io relays ...args.
//
// # Errors
//
// Every error returned by this package wraps one of the Err* sentinels, so
// callers can test it with [errors.Is]. No input makes the package panic.
package parser
