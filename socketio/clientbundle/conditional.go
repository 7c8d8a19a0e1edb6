package clientbundle

import "strings"

// noneMatch reports whether the If-None-Match header lines of a request
// match etag, a strong entity tag such as `"4.8.4-abc"`. It uses the weak
// comparison that RFC 9110, section 13.1.2 prescribes for If-None-Match:
// a "W/" prefix on either side is ignored. "*" matches any representation,
// and so always matches here. Parsing stops at the first malformed entity
// tag, as net/http does.
func noneMatch(lines []string, etag string) bool {
	for _, line := range lines {
		s := line
		for {
			s = strings.TrimLeft(s, " \t")
			if s == "" {
				break
			}
			if s[0] == ',' {
				s = s[1:]
				continue
			}
			if s[0] == '*' {
				return true
			}
			tag, rest, ok := scanETag(s)
			if !ok {
				break
			}
			if tag == strings.TrimPrefix(etag, "W/") {
				return true
			}
			s = rest
		}
	}
	return false
}

// scanETag reads one entity tag from the start of s and returns its opaque
// part, quotes included and any "W/" prefix dropped, and the text after it.
func scanETag(s string) (tag, rest string, ok bool) {
	s = strings.TrimPrefix(s, "W/")
	if len(s) < 2 || s[0] != '"' {
		return "", "", false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[:i+1], s[i+1:], true
		case c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80:
			// etagc
		default:
			return "", "", false
		}
	}
	return "", "", false
}
