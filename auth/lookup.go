package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// source is one entry of TokenLookup.
type source struct {
	kind   string // auth, header, query, cookie
	name   string
	prefix string // header only
}

func parseLookup(s string) ([]source, error) {
	var out []source
	for part := range strings.SplitSeq(s, ",") {
		fields := strings.SplitN(strings.TrimLeft(part, " "), ":", 3)
		if len(fields) < 2 || strings.TrimSpace(fields[1]) == "" {
			return nil, fmt.Errorf("auth: TokenLookup entry %q: want source:name", part)
		}
		src := source{kind: strings.TrimSpace(fields[0]), name: strings.TrimSpace(fields[1])}
		switch src.kind {
		case "auth", "query", "cookie":
			if len(fields) == 3 {
				return nil, fmt.Errorf("auth: TokenLookup entry %q: only header sources take a prefix", part)
			}
		case "header":
			if len(fields) == 3 {
				src.prefix = fields[2]
			}
		default:
			return nil, fmt.Errorf("auth: TokenLookup entry %q: unknown source %q (want auth, header, query or cookie)", part, src.kind)
		}
		out = append(out, src)
	}
	return out, nil
}

// errNotString is the cause of a refusal for an auth payload field that is not a string.
var errNotString = errors.New("auth: the auth payload field is not a string")

// credentials are where a token may be: the CONNECT auth payload (nil for an HTTP request),
// the headers and the query of the request.
type credentials struct {
	auth   json.RawMessage
	header http.Header
	query  url.Values
}

// fromSocket returns the credentials of a socket's handshake.
func fromSocket(s *socketio.Socket) credentials {
	h := s.Handshake()
	return credentials{auth: h.Auth, header: http.Header(h.Headers), query: url.Values(h.Query)}
}

// fromRequest returns the credentials of an HTTP request, which has no auth payload.
func fromRequest(r *http.Request) credentials {
	return credentials{header: r.Header, query: r.URL.Query()}
}

// find returns the token of the first source that holds one. found is false when no source
// holds a token; err is set when a source holds something that cannot be a token. The "auth"
// sources hold nothing for an HTTP request.
func find(h credentials, sources []source) (token string, found bool, err error) {
	var payload map[string]json.RawMessage
	payloadRead := false
	for _, src := range sources {
		switch src.kind {
		case "auth":
			if !payloadRead {
				payloadRead = true
				// Anything but an object, null included, holds no token.
				if h.auth != nil {
					_ = json.Unmarshal(h.auth, &payload)
				}
			}
			raw, ok := payload[src.name]
			if !ok || string(raw) == "null" {
				continue
			}
			var v string
			if json.Unmarshal(raw, &v) != nil {
				return "", true, errNotString
			}
			if v != "" {
				return v, true, nil
			}
		case "header":
			for _, v := range h.header.Values(src.name) {
				if src.prefix != "" {
					if len(v) <= len(src.prefix) || !strings.EqualFold(v[:len(src.prefix)], src.prefix) {
						continue
					}
					v = v[len(src.prefix):]
				}
				if v != "" {
					return v, true, nil
				}
			}
		case "query":
			if v := h.query.Get(src.name); v != "" {
				return v, true, nil
			}
		case "cookie":
			r := http.Request{Header: http.Header{"Cookie": h.header.Values("Cookie")}}
			if c, err := r.Cookie(src.name); err == nil && c.Value != "" {
				return c.Value, true, nil
			}
		}
	}
	return "", false, nil
}
