package rediscluster

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// Arguments of server-side emits and acknowledgements keep their binary values across the
// cluster: a message that carries one is written in MessagePack, where binary values are
// MessagePack binary (a Buffer for a Node server), as the Node adapters write such messages;
// others stay JSON.

// MPField is a member of a MessagePack map written by encodeFields. Val is a string, an int,
// a parser.Arg (written with its binary values as binary) or a []mpField (a nested map).
type MPField struct {
	Key string
	Val any
}

// EncodeFields returns the MessagePack map of fields.
func EncodeFields(fields []MPField) ([]byte, error) {
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	if err := writeFields(e, fields); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// EncodeArgMessage returns, in MessagePack, the cluster message of type typ from server uid
// about namespace nsp whose data carries arg as its packet, and requestID when it is not
// empty: a server-side emit, or the answer to a request.
func EncodeArgMessage(uid, nsp string, typ int, requestID string, arg parser.Arg) ([]byte, error) {
	data := make([]MPField, 0, 2)
	if requestID != "" {
		data = append(data, MPField{Key: "requestId", Val: requestID})
	}
	data = append(data, MPField{Key: "packet", Val: arg})
	return EncodeFields([]MPField{{Key: "uid", Val: uid}, {Key: "nsp", Val: nsp}, {Key: "type", Val: typ}, {Key: "data", Val: data}})
}

func writeFields(e *msgpack.Encoder, fields []MPField) error {
	_ = e.EncodeMapLen(len(fields))
	for _, f := range fields {
		_ = e.EncodeString(f.Key)
		var err error
		switch v := f.Val.(type) {
		case string:
			err = e.EncodeString(v)
		case int:
			err = e.EncodeInt(int64(v))
		case parser.Arg:
			data, atts := v.Parts()
			err = JSONToMsgpack(e, data, atts)
		case []MPField:
			err = writeFields(e, v)
		default:
			err = fmt.Errorf("redisadapter: cannot encode a %T", v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ArgOf returns the argument read from a message: data, its JSON text, whose placeholders
// name atts (the binary values of a MessagePack message). No data reads as null.
func ArgOf(data json.RawMessage, atts [][]byte) (parser.Arg, error) {
	if len(data) == 0 {
		return parser.Arg{}, nil
	}
	a, err := parser.NewArg(data, atts)
	if err != nil {
		return parser.Arg{}, Malformed("argument: %v", err)
	}
	return a, nil
}
