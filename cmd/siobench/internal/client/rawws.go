package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

// The raw WebSocket transport speaks RFC 6455 itself over a plain TCP
// connection, so that a reader sees the bytes of many connections without a
// goroutine per connection or an allocation per message: the frames of a
// read are parsed in place, and an Engine.IO packet handed to Conn.handle
// shares memory with the read buffer. It carries text frames only, which is
// all Engine.IO needs without binary attachments.
//
// A Poller reads the connections registered with it on one goroutine; a raw
// transport without a Poller reads on a goroutine of its own.

// maxMessage bounds one WebSocket message (after reassembly of fragments).
const maxMessage = 1 << 20

// rawReadBuffer is the size of the buffer one read fills.
const rawReadBuffer = 64 << 10

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

var errUnexpectedEOF = errors.New("client: connection closed by the server without a close frame")

// rawTransport is a WebSocket-only Engine.IO session on a raw connection.
type rawTransport struct {
	nc      net.Conn
	timeout time.Duration
	hb      time.Duration
	poller  *Poller

	wmu  sync.Mutex
	wbuf []byte
	mask [4]byte

	// Read side: only touched by the one reader at a time (the Poller's
	// goroutine under rmu, or the transport's own goroutine).
	rmu      sync.Mutex
	closed   bool      // set under rmu; the reader skips a closed transport
	pending  []byte    // the start of a frame that the last read cut
	msg      []byte    // fragments of a message being reassembled
	deadline time.Time // when the session is given up without a ping
	fd       int
	token    uint64
	// polled is the connection the Poller reads, nil when run reads. A
	// polled transport has left the runtime's network poller: it reads and
	// writes its own descriptor fd, and nc is closed.
	polled *Conn
}

// dialRaw opens a TCP connection, performs the WebSocket handshake and
// reads the Engine.IO open packet.
func dialRaw(ctx context.Context, cfg Config) (*rawTransport, wire.Open, error) {
	var open wire.Open
	u, err := endpoint(cfg, "")
	if err != nil {
		return nil, open, err
	}
	pu, err := url.Parse(u)
	if err != nil {
		return nil, open, fmt.Errorf("client: bad URL: %w", err)
	}
	host := pu.Host
	if pu.Port() == "" {
		host = net.JoinHostPort(pu.Hostname(), "80")
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, open, fmt.Errorf("client: websocket handshake: %w", err)
	}
	t := &rawTransport{nc: nc, timeout: cfg.Timeout, poller: cfg.Poller, fd: -1}
	if _, err := rand.Read(t.mask[:]); err != nil {
		nc.Close()
		return nil, open, fmt.Errorf("client: websocket mask: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	rest, err := handshake(nc, pu)
	if err != nil {
		nc.Close()
		return nil, open, err
	}
	// Read until the open packet is complete; frames after it stay pending.
	var first []byte
	buf := make([]byte, 4096)
	t.pending = rest
	for first == nil {
		n, msg, err := t.nextFrame(t.pending)
		if err != nil {
			nc.Close()
			return nil, open, fmt.Errorf("client: reading the open packet: %w", err)
		}
		if n > 0 {
			if msg != nil {
				first = bytes.Clone(msg)
			}
			t.pending = t.pending[n:]
			continue
		}
		m, err := nc.Read(buf)
		if err != nil {
			nc.Close()
			return nil, open, fmt.Errorf("client: reading the open packet: %w", err)
		}
		t.pending = append(t.pending, buf[:m]...)
	}
	t.pending = bytes.Clone(t.pending)
	if len(t.pending) == 0 {
		t.pending = nil
	}
	nc.SetDeadline(time.Time{})
	open, err = wire.ParseOpen(first)
	if err != nil {
		nc.Close()
		return nil, open, err
	}
	t.hb = heartbeat(open)
	t.deadline = time.Now().Add(t.hb)
	return t, open, nil
}

// handshake sends the upgrade request and checks the answer. It returns the
// bytes read after the response header.
func handshake(nc net.Conn, u *url.URL) ([]byte, error) {
	var key [16]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("client: websocket key: %w", err)
	}
	k := base64.StdEncoding.EncodeToString(key[:])
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + k +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		return nil, fmt.Errorf("client: websocket handshake: %w", err)
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		return nil, fmt.Errorf("client: websocket handshake: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return nil, fmt.Errorf("client: websocket handshake: bad handshake (HTTP %d)", resp.StatusCode)
	}
	h := sha1.Sum([]byte(k + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(h[:]) {
		return nil, errors.New("client: websocket handshake: wrong Sec-WebSocket-Accept")
	}
	rest, _ := br.Peek(br.Buffered())
	return bytes.Clone(rest), nil
}

// nextFrame parses the frame at the start of b. It returns the number of
// bytes consumed (0 when b holds no complete frame) and, when the frame
// completes a text message, the message, which may share memory with b.
// Control frames are answered here; a close frame or a protocol error is
// returned as an error.
func (t *rawTransport) nextFrame(b []byte) (int, []byte, error) {
	if len(b) < 2 {
		return 0, nil, nil
	}
	fin, op := b[0]&0x80 != 0, b[0]&0x0f
	if b[0]&0x70 != 0 {
		return 0, nil, errors.New("client: websocket frame with reserved bits set")
	}
	if b[1]&0x80 != 0 {
		return 0, nil, errors.New("client: masked websocket frame from the server")
	}
	n, h := uint64(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, nil, nil
		}
		n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil, nil
		}
		n, h = binary.BigEndian.Uint64(b[2:]), 10
	}
	if n > maxMessage {
		return 0, nil, fmt.Errorf("client: websocket frame of %d bytes exceeds %d", n, maxMessage)
	}
	if uint64(len(b)-h) < n {
		return 0, nil, nil
	}
	end := h + int(n)
	p := b[h:end]
	switch op {
	case opText, opContinuation:
		if op == opContinuation && t.msg == nil {
			return 0, nil, errors.New("client: websocket continuation frame without a message")
		}
		if op == opText && t.msg != nil {
			return 0, nil, errors.New("client: websocket text frame inside a fragmented message")
		}
		if fin && t.msg == nil {
			return end, p, nil
		}
		if len(t.msg)+len(p) > maxMessage {
			return 0, nil, fmt.Errorf("client: websocket message exceeds %d bytes", maxMessage)
		}
		if t.msg == nil {
			t.msg = make([]byte, 0, 2*len(p))
		}
		t.msg = append(t.msg, p...)
		if !fin {
			return end, nil, nil
		}
		m := t.msg
		t.msg = nil
		return end, m, nil
	case opBinary:
		return 0, nil, fmt.Errorf("client: unexpected binary frame of %d bytes", n)
	case opPing:
		return end, nil, t.writeFrame(opPong, p)
	case opPong:
		return end, nil, nil
	case opClose:
		return 0, nil, fmt.Errorf("client: websocket closed by the server: %w", closeError(p))
	default:
		return 0, nil, fmt.Errorf("client: unknown websocket opcode %d", op)
	}
}

// closeError describes the payload of a close frame.
func closeError(p []byte) error {
	if len(p) < 2 {
		return errors.New("close frame without a status")
	}
	return fmt.Errorf("close %d %s", binary.BigEndian.Uint16(p), wire.Truncate(p[2:]))
}

// consume parses the frames of data, hands every complete message to c and
// keeps the start of a cut frame for the next read.
func (t *rawTransport) consume(c *Conn, data []byte) error {
	if len(t.pending) > 0 {
		t.pending = append(t.pending, data...)
		data = t.pending
	}
	for {
		n, msg, err := t.nextFrame(data)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		data = data[n:]
		if msg != nil {
			if err := t.message(c, msg); err != nil {
				return err
			}
		}
	}
	if len(data) == 0 {
		t.pending = t.pending[:0]
		return nil
	}
	// Keep the rest: copy it, since data may be the reader's shared buffer.
	t.pending = append(t.pending[:0:0], data...)
	return nil
}

func (t *rawTransport) message(c *Conn, msg []byte) error {
	if len(msg) > 0 && msg[0] == wire.EIOPing {
		t.deadline = time.Now().Add(t.hb)
	}
	return c.handle(msg)
}

// writeFrame sends one masked frame.
func (t *rawTransport) writeFrame(op byte, parts ...[]byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	return t.writeFrameLocked(op, parts...)
}

func (t *rawTransport) writeFrameLocked(op byte, parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := append(t.wbuf[:0], 0x80|op)
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, t.mask[:]...)
	start := len(b)
	for _, p := range parts {
		b = append(b, p...)
	}
	for i := range b[start:] {
		b[start+i] ^= t.mask[i&3]
	}
	t.wbuf = b
	if t.polled != nil {
		return writeFD(t.fd, b, t.timeout)
	}
	t.nc.SetWriteDeadline(time.Now().Add(t.timeout))
	_, err := t.nc.Write(b)
	return err
}

func (t *rawTransport) send(p []byte) error { return t.writeFrame(opText, p) }

func (t *rawTransport) sendMessage(sio []byte) error {
	return t.writeFrame(opText, []byte{wire.EIOMessage}, sio)
}

// start begins reading: on the Poller's goroutine when there is one, else
// on a goroutine of the transport's own.
func (t *rawTransport) start(c *Conn) {
	if t.poller != nil && t.poller.add(c, t) == nil {
		return
	}
	go c.readLoop()
}

// run reads on the calling goroutine until the session ends.
func (t *rawTransport) run(c *Conn) error {
	buf := make([]byte, 4096)
	if len(t.pending) > 0 {
		p := t.pending
		t.pending = nil
		if err := t.consume(c, p); err != nil {
			return err
		}
	}
	for {
		t.nc.SetReadDeadline(t.deadline)
		n, err := t.nc.Read(buf)
		if n > 0 {
			if err := t.consume(c, buf[:n]); err != nil {
				return err
			}
		}
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				return ErrPingTimeout
			case errors.Is(err, io.EOF):
				return errUnexpectedEOF
			}
			return err
		}
	}
}

func (t *rawTransport) close() {
	if t.polled == nil {
		t.wmu.Lock()
		t.writeFrameLocked(opClose, []byte{0x03, 0xe8}) // 1000, normal closure
		t.wmu.Unlock()
		t.nc.Close()
		return
	}
	t.poller.remove(t)
	t.wmu.Lock()
	if t.fd >= 0 {
		t.writeFrameLocked(opClose, []byte{0x03, 0xe8})
	}
	t.wmu.Unlock()
	t.closeFD()
	t.polled.finish(ErrClosed)
}

// closeFD closes the descriptor of a polled transport, once it left the
// Poller; writes fail from then on.
func (t *rawTransport) closeFD() {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.fd >= 0 {
		closeFD(t.fd)
		t.fd = -1
	}
}
