package engineio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"strconv"
	"strings"
)

// acceptedEncoding returns "gzip" or "deflate" when the Accept-Encoding header accepts one of
// them (gzip preferred), or "".
func acceptedEncoding(header string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "deflate" && name != "*" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if name == "*" {
			name = "gzip"
		}
		if q > bestQ || (q == bestQ && name == "gzip") {
			best, bestQ = name, q
		}
	}
	if bestQ <= 0 {
		return ""
	}
	return best
}

// compress returns body compressed with enc, using writers pooled by the server.
func (s *Server) compress(enc string, body []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(body) / 2)
	if enc == "gzip" {
		zw, _ := s.gzipPool.Get().(*gzip.Writer)
		if zw == nil {
			zw = gzip.NewWriter(&out)
		} else {
			zw.Reset(&out)
		}
		defer s.gzipPool.Put(zw)
		if _, err := zw.Write(body); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		return out.Bytes(), nil
	}
	// The "deflate" content coding is the zlib format (RFC 1950), as browsers expect.
	fw, _ := s.zlibPool.Get().(*zlib.Writer)
	if fw == nil {
		fw = zlib.NewWriter(&out)
	} else {
		fw.Reset(&out)
	}
	defer s.zlibPool.Put(fw)
	if _, err := fw.Write(body); err != nil {
		return nil, err
	}
	if err := fw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
