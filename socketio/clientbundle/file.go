package clientbundle

import (
	"bytes"
	"compress/gzip"
	"path"
	"strconv"
	"sync"

	"github.com/andybalholm/brotli"
)

// coding is a content coding the handler can send.
type coding uint8

const (
	identity coding = iota
	codingBrotli
	codingGzip
	numCodings
)

// tokens and suffixes of the content codings, indexed by coding.
var (
	encodingValues = [numCodings][]string{nil, header("br"), header("gzip")}
	etagSuffixes   = [numCodings]string{"", "-br", "-gz"}
)

// file is one servable file with its identity bytes and, once requested,
// its compressed variants.
type file struct {
	contentType []string
	// etags are known up front, so a conditional request is answered
	// without compressing anything.
	etags    [numCodings][]string
	variants [numCodings]variant
	once     [numCodings]sync.Once
}

// variant is the body of a file in one content coding, with the header
// values that describe it. It is immutable once built.
type variant struct {
	body     []byte
	etag     []string
	length   []string
	encoding []string
}

func newFile(version, name string, body []byte) *file {
	f := &file{contentType: jsTypeValue}
	if path.Ext(name) == ".map" {
		f.contentType = jsonTypeValue
	}
	for c := range numCodings {
		f.etags[c] = header(etagFor(version, name, body, etagSuffixes[c]))
	}
	f.variants[identity] = newVariant(body, f.etags[identity], nil)
	return f
}

func newVariant(body []byte, etag, encoding []string) variant {
	return variant{
		body:     body,
		etag:     etag,
		length:   header(strconv.Itoa(len(body))),
		encoding: encoding,
	}
}

// variant returns the body of f in content coding c, compressing it the
// first time it is asked for. If compression fails it returns the identity
// variant, whose headers say so.
func (f *file) variant(c coding) *variant {
	if c == identity {
		return &f.variants[identity]
	}
	f.once[c].Do(func() {
		body, err := compress(c, f.variants[identity].body)
		if err != nil {
			f.variants[c] = f.variants[identity]
			return
		}
		f.variants[c] = newVariant(body, f.etags[c], encodingValues[c])
	})
	return &f.variants[c]
}

// compress encodes body in coding c: gzip at its best level, brotli at quality
// 9. It runs once per file and coding.
func compress(c coding, body []byte) ([]byte, error) {
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	switch c {
	case codingBrotli:
		// Quality 9: within 10 % of the best size, at a twelfth of its time (about 50 ms for
		// socket.io.js instead of 0.6 s), so the first request never waits long.
		w = brotli.NewWriterLevel(&buf, 9)
	case codingGzip:
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return nil, err
		}
		w = zw
	default:
		return body, nil
	}
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}
