package parser

import "encoding/binary"

// maxJSONDepth is the deepest nesting of arrays and objects accepted, the
// limit of encoding/json, so that every payload accepted here can also be
// decoded by encoding/json.
const maxJSONDepth = 10000

// validJSON reports whether b is one valid JSON value, surrounded by
// optional white space, nested at most maxJSONDepth levels. It accepts
// exactly what json.Valid accepts, without recursion.
func validJSON(b []byte) bool {
	var small [64]byte
	stack := small[:0] // the open containers, '{' or '['
	i := skipSpace(b, 0)
value:
	if i >= len(b) {
		return false
	}
	switch c := b[i]; {
	case c == '{' || c == '[':
		stack = append(stack, c)
		if len(stack) > maxJSONDepth {
			return false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == c+2 { // '}' is '{'+2, ']' is '['+2
			stack = stack[:len(stack)-1]
			i++
			goto next
		}
		if c == '{' {
			if i = member(b, i); i < 0 {
				return false
			}
		}
		goto value
	case c == '"':
		if i = scanString(b, i); i < 0 {
			return false
		}
	case c == 't':
		if i = literal(b, i, "true"); i < 0 {
			return false
		}
	case c == 'f':
		if i = literal(b, i, "false"); i < 0 {
			return false
		}
	case c == 'n':
		if i = literal(b, i, "null"); i < 0 {
			return false
		}
	default:
		if i = scanNumber(b, i); i < 0 {
			return false
		}
	}
next:
	i = skipSpace(b, i)
	if len(stack) == 0 {
		return i == len(b)
	}
	if i >= len(b) {
		return false
	}
	top := stack[len(stack)-1]
	switch b[i] {
	case ',':
		i = skipSpace(b, i+1)
		if top == '{' {
			if i = member(b, i); i < 0 {
				return false
			}
		}
		goto value
	case top + 2:
		stack = stack[:len(stack)-1]
		i++
		goto next
	}
	return false
}

// member scans an object member name and its colon at b[i] and returns the
// index of the value, or -1.
func member(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = scanString(b, i); i < 0 {
		return -1
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipSpace(b, i+1)
}

// scanString returns the index after the string starting at b[i], or -1.
func scanString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		// Eight bytes at a time while none of them ends the string, escapes or is a control
		// character; the loop below looks at the word that holds one.
		for i+8 <= len(b) && plainWord(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return -1
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func literal(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// scanNumber returns the index after the number starting at b[i], or -1.
func scanNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// Byte masks of a 64-bit word, for the tests of eight bytes at once (SWAR).
const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// hasByte reports whether a byte of w is c.
func hasByte(w uint64, c byte) bool {
	x := w ^ (swarOnes * uint64(c))
	return (x-swarOnes)&^x&swarHigh != 0
}

// hasLess reports whether a byte of w is less than n, which is at most 128.
func hasLess(w uint64, n byte) bool {
	return (w-swarOnes*uint64(n))&^w&swarHigh != 0
}

// plainWord reports whether none of the eight bytes of w (a part of a JSON string) is a
// quote, a backslash or a control character, so that a string scan can skip them all.
func plainWord(w uint64) bool {
	return !hasLess(w, 0x20) && !hasByte(w, '"') && !hasByte(w, '\\')
}
