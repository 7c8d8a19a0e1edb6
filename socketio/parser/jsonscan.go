package parser

import (
	"encoding/json"
	"fmt"
)

// The helpers in this file walk JSON text without recursion. Except where
// noted they expect text that json.Valid accepts; on other input they stop
// early or return a wrong answer, but they never index out of range.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// trimSpace returns b without leading and trailing JSON white space.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string that starts with the
// quote at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index just past the value that starts at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default:
		for i < len(b) {
			switch c := b[i]; {
			case c == ',' || c == ']' || c == '}' || c == ':' || isSpace(c):
				return i
			}
			i++
		}
		return i
	}
}

// unquote returns the value of the JSON string literal s.
func unquote(s []byte) (string, error) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", fmt.Errorf("%w: not a string", ErrInvalidPayload)
	}
	plain := true
	for _, c := range s[1 : len(s)-1] {
		if c == '\\' || c == '"' || c < 0x20 || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(s[1 : len(s)-1]), nil
	}
	var v string
	if err := json.Unmarshal(s, &v); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	return v, nil
}

// firstElement returns the first element of the JSON array data, or nil if
// the array is empty.
func firstElement(data []byte) []byte {
	i := skipSpace(data, 1)
	if i >= len(data) || data[i] == ']' {
		return nil
	}
	return data[i:skipValue(data, i)]
}

// SplitArray appends the elements of the JSON array data to dst and returns
// the extended slice. The elements alias data. Decoded EVENT and ACK
// payloads split this way give the event name (for events) followed by the
// arguments, each ready for json.Unmarshal. The payload of a binary packet
// should go through Reconstruct first. data must be valid JSON, as the
// payloads of decoded packets are.
func SplitArray(data json.RawMessage, dst []json.RawMessage) ([]json.RawMessage, error) {
	data = trimSpace(data)
	if len(data) < 2 || data[0] != '[' || data[len(data)-1] != ']' {
		return dst, fmt.Errorf("%w: not an array", ErrInvalidPayload)
	}
	end := len(data) - 1
	i := skipSpace(data, 1)
	if i == end {
		return dst, nil
	}
	for i < end {
		j := skipValue(data, i)
		if j == i || j > end {
			return dst, fmt.Errorf("%w: malformed array", ErrInvalidPayload)
		}
		dst = append(dst, json.RawMessage(data[i:j]))
		i = skipSpace(data, j)
		if i == end {
			return dst, nil
		}
		if data[i] != ',' {
			return dst, fmt.Errorf("%w: malformed array", ErrInvalidPayload)
		}
		i = skipSpace(data, i+1)
	}
	return dst, fmt.Errorf("%w: malformed array", ErrInvalidPayload)
}

// EventName returns the event name of an EVENT or BINARY_EVENT payload: the
// first element of the array, unquoted when it is a string. A number, which
// the protocol also allows, is returned as written, e.g. "42".
func EventName(data json.RawMessage) (string, error) {
	data = trimSpace(data)
	if len(data) < 2 || data[0] != '[' {
		return "", fmt.Errorf("%w: event payload is not an array", ErrInvalidPayload)
	}
	first := firstElement(data)
	switch {
	case len(first) == 0:
		return "", fmt.Errorf("%w: event payload is empty", ErrInvalidPayload)
	case first[0] == '"':
		return unquote(first)
	case first[0] == '-' || isDigit(first[0]):
		return string(first), nil
	}
	return "", fmt.Errorf("%w: event name is not a string", ErrInvalidPayload)
}
