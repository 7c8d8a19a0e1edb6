// Package msgpackparser is a Socket.IO packet codec wire-compatible with the official
// socket.io-msgpack-parser 3.x, which encodes every packet as one MessagePack map written
// by notepack.io:
//
//	{"type": 2, "data": ["event", 1, <bin>], "id": 7, "nsp": "/"}
//
// Each packet travels as one binary Engine.IO message; there are no attachments and no
// BINARY_EVENT or BINARY_ACK types on the wire. Binary values are MessagePack bin values
// (Buffer, ArrayBuffer and typed arrays as notepack.io 3 writes them); the extension type 0
// that older notepack.io versions wrote for ArrayBuffer is read as binary too.
//
// The package converts between that form and the form the rest of the module uses, a
// [parser.Packet] whose Data is JSON with {"_placeholder":true,"num":N} where binary values
// are and whose Attachments hold those values. So a decoded packet is exactly what the JSON
// parser would have produced for the same event, and every part of the server that handles
// packets (typed handlers, raw arguments, acks, broadcasts, recovery, cluster adapters)
// works unchanged. Numbers follow notepack.io: a number with an integral value is written as
// the smallest MessagePack integer that holds it (unsigned for values >= 0), any other
// number as a float 64; read floats become JSON numbers, NaN and the infinities null, as
// JSON.stringify writes them. MessagePack timestamps (JavaScript Date values) become
// ISO-8601 strings, which is what a Date turns into in JSON.
//
// The package does no I/O and starts no goroutines. Decoding is bounded: nesting depth,
// number of binary values, namespace length, and container lengths that the input cannot
// hold are all rejected before anything is allocated for them.
package msgpackparser
