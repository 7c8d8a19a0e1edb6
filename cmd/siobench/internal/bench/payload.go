package bench

import (
	"bytes"
	"strconv"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

// makePayload returns a payload string of the given size (or longer when
// the identifying prefix does not fit) that starts with kind, the client
// index and the sequence id: "e12.345." followed by 'x' padding. The
// content is a pure function of its arguments, so a receiver can rebuild and
// compare what it should have got.
func makePayload(dst []byte, kind byte, client int, seq int64, size int) []byte {
	dst = append(dst[:0], kind)
	dst = strconv.AppendInt(dst, int64(client), 10)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, '.')
	for len(dst) < size {
		dst = append(dst, 'x')
	}
	return dst
}

// parsePayload extracts the kind, client index and sequence id from a
// payload made by makePayload. It does not check the padding.
func parsePayload(p string) (kind byte, client int, seq int64, ok bool) {
	if len(p) < 5 {
		return 0, 0, 0, false
	}
	kind = p[0]
	rest := p[1:]
	i := indexByte(rest, '.')
	if i <= 0 {
		return 0, 0, 0, false
	}
	c, err := strconv.Atoi(rest[:i])
	if err != nil {
		return 0, 0, 0, false
	}
	rest = rest[i+1:]
	j := indexByte(rest, '.')
	if j <= 0 {
		return 0, 0, 0, false
	}
	s, err := strconv.ParseInt(rest[:j], 10, 64)
	if err != nil {
		return 0, 0, 0, false
	}
	return kind, c, s, true
}

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}

// ackMatches reports whether data, the JSON data of an acknowledgement, is
// the one-element array holding payload. The common encoding is compared
// byte for byte; any other valid encoding is decoded and compared.
func ackMatches(data, payload []byte, scratch *[]byte) bool {
	// Payloads hold only letters, digits and dots, so their JSON encoding
	// is the payload between quotes.
	exp := append((*scratch)[:0], '[', '"')
	exp = append(exp, payload...)
	exp = append(exp, '"', ']')
	*scratch = exp
	if bytes.Equal(data, exp) {
		return true
	}
	args, err := wire.StringArray(data)
	return err == nil && len(args) == 1 && args[0] == string(payload)
}
