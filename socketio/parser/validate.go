package parser

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// validatePayload checks data, the trimmed payload of a packet of type t or
// nil when the packet has none, against the rules of the reference
// implementation.
func validatePayload(t Type, data []byte) error {
	if data == nil {
		switch t {
		case Connect, Disconnect:
			return nil
		}
		return fmt.Errorf("%w: %s packet without payload", ErrInvalidPayload, t)
	}
	if t == Disconnect {
		return fmt.Errorf("%w: DISCONNECT packet with payload", ErrInvalidPayload)
	}
	if !validJSON(data) {
		return fmt.Errorf("%w: not valid JSON", ErrInvalidPayload)
	}
	switch t {
	case Connect:
		if data[0] != '{' {
			return fmt.Errorf("%w: CONNECT payload is not an object", ErrInvalidPayload)
		}
	case ConnectError:
		if data[0] != '{' && data[0] != '"' {
			return fmt.Errorf("%w: CONNECT_ERROR payload is neither an object nor a string", ErrInvalidPayload)
		}
	case Ack, BinaryAck:
		if data[0] != '[' {
			return fmt.Errorf("%w: %s payload is not an array", ErrInvalidPayload, t)
		}
	case Event, BinaryEvent:
		if data[0] != '[' {
			return fmt.Errorf("%w: %s payload is not an array", ErrInvalidPayload, t)
		}
		first := firstElement(data)
		switch {
		case len(first) == 0:
			return fmt.Errorf("%w: %s payload is an empty array", ErrInvalidPayload, t)
		case first[0] == '"':
			if isReservedName(first) {
				return fmt.Errorf("%w: reserved event name %s", ErrInvalidPayload, first)
			}
		case first[0] == '-' || isDigit(first[0]):
			// The reference accepts a number as event name.
		default:
			return fmt.Errorf("%w: event name is neither a string nor a number", ErrInvalidPayload)
		}
	}
	return nil
}

// isReservedName reports whether the JSON string literal s is a reserved
// event name.
func isReservedName(s []byte) bool {
	if len(s) < 2 {
		return false
	}
	inner := s[1 : len(s)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		for _, r := range reservedEvents {
			if string(inner) == r {
				return true
			}
		}
		return false
	}
	name, err := unquote(s)
	return err == nil && IsReservedEvent(name)
}

// checkAckID checks that only EVENT and ACK packets carry an ack id, and
// that ACK packets do.
func checkAckID(t Type, hasID bool) error {
	switch {
	case hasID && !t.IsEvent() && !t.IsAck():
		return fmt.Errorf("%w: %s packet with an ack id", ErrInvalidAckID, t)
	case !hasID && t.IsAck():
		return fmt.Errorf("%w: %s packet without an ack id", ErrInvalidAckID, t)
	}
	return nil
}

// checkNamespace checks a namespace for encoding: "" or "/..." without a
// comma, valid UTF-8.
func checkNamespace(nsp string) error {
	if nsp == "" || nsp == MainNamespace {
		return nil
	}
	if nsp[0] != '/' {
		return fmt.Errorf("%w: %q does not start with \"/\"", ErrInvalidNamespace, nsp)
	}
	for i := 0; i < len(nsp); i++ {
		if nsp[i] == ',' {
			return fmt.Errorf("%w: %q contains a comma", ErrInvalidNamespace, nsp)
		}
	}
	if !utf8.ValidString(nsp) {
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidNamespace)
	}
	return nil
}
