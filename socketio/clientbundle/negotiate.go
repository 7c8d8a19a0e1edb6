package clientbundle

import "strings"

// negotiate picks the content coding for a response from the request's
// Accept-Encoding header lines, following RFC 9110, section 12.5.3.
//
// Each coding gets the q-value of its own entry, else that of "*", else 0.
// An entry whose q-value is malformed is ignored, and when a coding is
// listed twice the first entry counts. Brotli or gzip is sent when its
// q-value is positive and not below that of an explicit "identity" entry;
// between equally weighted brotli and gzip, brotli wins because it is
// smaller. Otherwise, including when nothing acceptable is listed, the
// response is not encoded.
func negotiate(lines []string) coding {
	const unlisted = -1
	qBr, qGzip, qIdentity, qAny := unlisted, unlisted, unlisted, unlisted
	for _, line := range lines {
		for line != "" {
			var elem string
			elem, line, _ = strings.Cut(line, ",")
			name, params, _ := strings.Cut(elem, ";")
			name = strings.TrimSpace(name)
			q, ok := parseQ(params)
			if !ok {
				continue
			}
			var slot *int
			switch {
			case strings.EqualFold(name, "br"):
				slot = &qBr
			case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
				slot = &qGzip
			case strings.EqualFold(name, "identity"):
				slot = &qIdentity
			case name == "*":
				slot = &qAny
			default:
				continue
			}
			if *slot == unlisted {
				*slot = q
			}
		}
	}
	resolve := func(q int) int {
		switch {
		case q != unlisted:
			return q
		case qAny != unlisted:
			return qAny
		default:
			return 0
		}
	}
	br, gz := resolve(qBr), resolve(qGzip)
	// An unlisted identity stays acceptable (RFC 9110) but only as the
	// fallback, so it is weighed as 0 here.
	id := max(qIdentity, 0)
	switch {
	case br > 0 && br >= gz && br >= id:
		return codingBrotli
	case gz > 0 && gz >= id:
		return codingGzip
	default:
		return identity
	}
}

// parseQ returns the q-value among the parameters of one Accept-Encoding
// entry (the text after the coding's first ";") in thousandths, 1000 when
// there is none. It reports false when the q parameter does not match the
// grammar of RFC 9110, section 12.4.2: "0" ["." 0*3DIGIT] or
// "1" ["." 0*3("0")].
func parseQ(params string) (int, bool) {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		key, value, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(key), "q") {
			continue
		}
		return parseQValue(strings.TrimSpace(value))
	}
	return 1000, true
}

func parseQValue(s string) (int, bool) {
	if s == "" || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	rest := s[1:]
	if rest == "" {
		return q, true
	}
	if rest[0] != '.' || len(rest) > 4 {
		return 0, false
	}
	scale := 100
	for i := 1; i < len(rest); i++ {
		d := rest[i]
		if d < '0' || d > '9' || (q == 1000 && d != '0') {
			return 0, false
		}
		q += int(d-'0') * scale
		scale /= 10
	}
	return q, true
}
