package socketio

import (
	"errors"
	"fmt"

	"github.com/echo-socketio/echo-socketio/engineio"
	"github.com/echo-socketio/echo-socketio/socketio/msgpackparser"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// Parser is the packet encoding a server speaks with its clients (the parser option of
// Node's server). Every client of a server must use the same one.
type Parser int

const (
	// ParserJSON is the default encoding of socket.io-parser, which every official client
	// uses unless configured otherwise: a text message per packet, followed by one binary
	// message per binary value.
	ParserJSON Parser = iota
	// ParserMsgpack is the encoding of socket.io-msgpack-parser 3.x: one binary MessagePack
	// message per packet, binary values inline. Clients opt in with the parser option of
	// socket.io-client, or with the socket.io.msgpack.min.js bundle the server serves.
	ParserMsgpack
)

// String returns the name of the parser's npm package.
func (p Parser) String() string {
	switch p {
	case ParserJSON:
		return "socket.io-parser"
	case ParserMsgpack:
		return "socket.io-msgpack-parser"
	}
	return fmt.Sprintf("Parser(%d)", int(p))
}

// errTextUnderMsgpack reports a text message on a connection that speaks MessagePack.
var errTextUnderMsgpack = errors.New("socketio: text message under the msgpack parser")

// packetDecoder decodes the messages of one connection: parser.Decoder, or msgpackDecoder.
type packetDecoder interface {
	DecodeText(b []byte) (p *parser.Packet, complete bool, err error)
	DecodeBinary(b []byte) (p *parser.Packet, complete bool, err error)
}

// msgpackDecoder is the packetDecoder of ParserMsgpack: every binary message is a packet.
type msgpackDecoder struct{ d msgpackparser.Decoder }

func (m *msgpackDecoder) DecodeText([]byte) (*parser.Packet, bool, error) {
	return nil, false, errTextUnderMsgpack
}

func (m *msgpackDecoder) DecodeBinary(b []byte) (*parser.Packet, bool, error) {
	p, err := m.d.Decode(b)
	return p, err == nil, err
}

// newDecoder returns the decoder of one connection.
func (s *Server) newDecoder() packetDecoder {
	if s.opts.Parser == ParserMsgpack {
		return &msgpackDecoder{msgpackparser.Decoder{MaxAttachments: s.opts.MaxAttachments}}
	}
	return &parser.Decoder{MaxAttachments: s.opts.MaxAttachments}
}

// encodeFrames returns the Engine.IO messages of p: for the JSON parser its text frame, then
// one binary frame per attachment; for the msgpack parser one binary frame.
func (s *Server) encodeFrames(p *parser.Packet) ([]*engineio.Prepared, error) {
	if s.opts.Parser == ParserMsgpack {
		b, err := msgpackparser.Encode(p)
		if err != nil {
			return nil, err
		}
		return []*engineio.Prepared{engineio.NewPrepared(b, true)}, nil
	}
	text, atts, err := parser.Encode(p)
	if err != nil {
		return nil, err
	}
	return preparedFrames(text, atts), nil
}
