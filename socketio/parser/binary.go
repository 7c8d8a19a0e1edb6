package parser

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Reconstruct returns data, the JSON payload of a binary packet, with every
// placeholder {"_placeholder":true,"num":N} replaced by the attachment N
// written as a base64 JSON string, the form encoding/json decodes into a
// []byte. data is not modified.
//
// As in the reference implementation, an object is a placeholder when its
// "_placeholder" member is true; its "num" member must then be an integer
// from 0 to len(attachments)-1, or Reconstruct returns an error wrapping
// ErrInvalidAttachments. Attachments that no placeholder names are ignored.
func Reconstruct(data json.RawMessage, attachments [][]byte) (json.RawMessage, error) {
	data = trimSpace(data)
	if len(data) == 0 {
		return nil, nil
	}
	if !validJSON(data) {
		return nil, fmt.Errorf("%w: not valid JSON", ErrInvalidPayload)
	}
	size := len(data)
	for _, a := range attachments {
		size += base64.StdEncoding.EncodedLen(len(a)) + 2
	}
	out, err := walkPlaceholders(data, len(attachments), make([]byte, 0, size), func(out []byte, num int) []byte {
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, attachments[num])
		return append(out, '"')
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkPlaceholders reports whether every placeholder in the valid JSON
// text data names one of n attachments.
func checkPlaceholders(data []byte, n int) error {
	_, err := walkPlaceholders(data, n, nil, nil)
	return err
}

// Keys of a placeholder object.
const (
	keyOther byte = iota
	keyPlaceholder
	keyNum
)

// container is an open object or array during walkPlaceholders.
type container struct {
	obj         bool   // object rather than array
	wantKey     bool   // the next string of the object is a member name
	key         byte   // the member whose value comes next
	placeholder bool   // the last "_placeholder" member is true
	num         []byte // the last "num" member, when it is a number
	start       int    // offset of the container in the output
	err         error  // first error in the contents, if not discarded
}

// value records a member value of an object: tok is the value, or nil for
// an array or object.
func (c *container) value(tok []byte) {
	if !c.obj {
		return
	}
	isNum := len(tok) > 0 && (tok[0] == '-' || isDigit(tok[0]))
	switch c.key {
	case keyPlaceholder:
		c.placeholder = string(tok) == "true"
	case keyNum:
		c.num = nil
		if isNum {
			c.num = tok
		}
	}
}

// attachment returns the attachment number of a placeholder object.
func (c *container) attachment(n int) (int, error) {
	if c.num == nil {
		return 0, fmt.Errorf("%w: placeholder without numeric \"num\"", ErrInvalidAttachments)
	}
	f, err := strconv.ParseFloat(string(c.num), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f >= float64(n) {
		return 0, fmt.Errorf("%w: placeholder num %s out of range [0,%d)", ErrInvalidAttachments, c.num, n)
	}
	return int(f), nil
}

// walkPlaceholders walks the valid JSON text data without recursion, checking
// that every placeholder names one of n attachments. When replace is not nil
// it copies data to out, replacing each placeholder by what replace appends
// for its attachment number. Errors inside a placeholder are discarded with
// it, as the reference never looks inside placeholders.
func walkPlaceholders(data []byte, n int, out []byte, replace func(out []byte, num int) []byte) ([]byte, error) {
	emit := replace != nil
	var stack []container
	var rootErr error
	for i := 0; i < len(data); {
		c := data[i]
		var top *container
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		switch {
		case c == '{' || c == '[':
			if top != nil {
				top.value(nil)
			}
			stack = append(stack, container{obj: c == '{', wantKey: c == '{', start: len(out)})
			if emit {
				out = append(out, c)
			}
			i++
		case c == '}' || c == ']':
			if top == nil {
				return nil, fmt.Errorf("%w: unbalanced JSON", ErrInvalidPayload)
			}
			f := *top
			stack = stack[:len(stack)-1]
			if emit {
				out = append(out, c)
			}
			err := f.err
			if f.obj && f.placeholder {
				num, nerr := f.attachment(n)
				err = nerr
				if nerr == nil && emit {
					out = replace(out[:f.start], num)
				}
			}
			if len(stack) == 0 {
				if rootErr == nil {
					rootErr = err
				}
			} else if p := &stack[len(stack)-1]; p.err == nil {
				p.err = err
			}
			i++
		case c == '"':
			j := skipString(data, i)
			tok := data[i:j]
			if top != nil && top.obj && top.wantKey {
				top.wantKey = false
				top.key = classifyKey(tok)
			} else if top != nil {
				top.value(tok)
			}
			if emit {
				out = append(out, tok...)
			}
			i = j
		case c == ',' || c == ':' || isSpace(c):
			if c == ',' && top != nil && top.obj {
				top.wantKey = true
			}
			if emit {
				out = append(out, c)
			}
			i++
		default:
			j := skipValue(data, i)
			if j <= i {
				j = i + 1
			}
			if top != nil {
				top.value(data[i:j])
			}
			if emit {
				out = append(out, data[i:j]...)
			}
			i = j
		}
	}
	return out, rootErr
}

// classifyKey tells which placeholder member the JSON string key names.
func classifyKey(key []byte) byte {
	switch string(key) {
	case `"_placeholder"`:
		return keyPlaceholder
	case `"num"`:
		return keyNum
	}
	for _, c := range key {
		if c == '\\' {
			var s string
			if json.Unmarshal(key, &s) != nil {
				return keyOther
			}
			switch s {
			case "_placeholder":
				return keyPlaceholder
			case "num":
				return keyNum
			}
			return keyOther
		}
	}
	return keyOther
}
