package diff_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The scripted sessions drive the servers with a raw client that records what it sends and
// what it receives, one line per packet or HTTP exchange, as a trace. Values that must differ
// between two servers (session IDs, socket IDs, private session IDs, offsets) are registered
// as tokens and replaced with placeholders numbered in order of appearance before traces are
// compared.

// readTimeout bounds every wait of the client for the server.
const readTimeout = 10 * time.Second

// trace is the record of one session against one server.
type trace struct {
	mu      sync.Mutex
	lines   []string
	tokens  map[string]string // value -> placeholder
	offsets map[string]string // offset -> placeholder; offsets can be as short as "a"
	counts  map[string]int
}

func newTrace() *trace {
	return &trace{tokens: map[string]string{}, offsets: map[string]string{}, counts: map[string]int{}}
}

// offset registers a recovery offset. It is masked only where offsets stand: as the last
// argument of an event and as the offset of a CONNECT.
func (tr *trace) offset(value string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if _, ok := tr.offsets[value]; ok {
		return
	}
	tr.counts["OFF"]++
	tr.offsets[value] = fmt.Sprintf("<OFF%d>", tr.counts["OFF"])
}

func (tr *trace) add(format string, args ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.lines = append(tr.lines, fmt.Sprintf(format, args...))
}

// token registers a value that differs between servers under kind.
func (tr *trace) token(kind, value string) {
	if value == "" {
		return
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if _, ok := tr.tokens[value]; ok {
		return
	}
	tr.counts[kind]++
	tr.tokens[value] = fmt.Sprintf("<%s%d>", kind, tr.counts[kind])
}

// masked returns the lines with every token replaced, longest tokens first.
func (tr *trace) masked() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	values := make([]string, 0, len(tr.tokens))
	for v := range tr.tokens {
		values = append(values, v)
	}
	sortByLenDesc(values)
	// Ack ids chosen by the server (an event it sends with an id, and the client's answer)
	// are numbered by the namespace for all its sockets: they are masked too.
	acks := map[string]string{}
	lines := make([]string, len(tr.lines))
	for i, l := range tr.lines {
		if m := serverAckID.FindStringSubmatch(l); m != nil {
			p, ok := acks[m[2]]
			if !ok {
				p = fmt.Sprintf("<ACK%d>", len(acks)+1)
				acks[m[2]] = p
			}
			l = m[1] + p + l[len(m[1])+len(m[2]):]
		}
		lines[i] = l
	}
	// A token is replaced where it stands as a value: a JSON string (quoted, or with escaped
	// quotes inside a recorded body), or a query's sid parameter.
	out := make([]string, len(lines))
	for i, l := range lines {
		for _, v := range values {
			p := tr.tokens[v]
			l = strings.ReplaceAll(l, `"`+v+`"`, `"`+p+`"`)
			l = strings.ReplaceAll(l, `\"`+v+`\"`, `\"`+p+`\"`)
			l = strings.ReplaceAll(l, "sid="+v, "sid="+p)
		}
		if m := eventOffset.FindStringSubmatchIndex(l); m != nil {
			if p, ok := tr.offsets[l[m[2]:m[3]]]; ok {
				l = l[:m[2]] + p + l[m[3]:]
			}
		}
		if m := connectOffset.FindStringSubmatchIndex(l); m != nil {
			if p, ok := tr.offsets[l[m[2]:m[3]]]; ok {
				l = l[:m[2]] + p + l[m[3]:]
			}
		}
		out[i] = l
	}
	return out
}

// serverAckID finds the ack id of an event the server sent ("<- 42<id>[", "<- 45N-<id>[") or
// of the answer the client sent to one ("-> 43<id>[", "-> 46N-<id>["), after an optional
// namespace.
var serverAckID = regexp.MustCompile(`^(.*?(?:<- 4(?:2|5\d+-)|-> 4(?:3|6\d+-))(?:/[^,\[]*,)?)(\d+)\[`)

var (
	// eventOffset finds the last argument of an event received.
	eventOffset = regexp.MustCompile(`<- 4(?:2|5\d+-)[^\[]*\[.*,"([^"]*)"\]$`)
	// connectOffset finds the offset of a CONNECT sent.
	connectOffset = regexp.MustCompile(`-> 40.*"offset":"([^"]*)"`)
)

func sortByLenDesc(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && (len(s[j]) > len(s[j-1]) || len(s[j]) == len(s[j-1]) && s[j] < s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// client is one raw Engine.IO/Socket.IO client of a session.
type client struct {
	name     string // prefixes its trace lines when a session has several clients
	base     string // http://host:port
	path     string // the endpoint, "/socket.io/"
	tr       *trace
	hc       *http.Client
	recovery bool          // events carry offsets: register them
	wait     time.Duration // how long a read waits; readTimeout when zero

	sid       string
	transport string
	ws        *websocket.Conn
	pending   []packet // received on polling, not yet consumed
	pid       string   // the private session ID of the last CONNECT answer
	offset    string   // the last offset received
}

// packet is one Engine.IO packet received: text ("4...") or a binary message.
type packet struct {
	text   string
	binary []byte
	isBin  bool
}

func (p packet) String() string {
	if p.isBin {
		return "bin " + hex.EncodeToString(p.binary)
	}
	return p.text
}

func (c *client) log(format string, args ...any) {
	c.tr.add(c.name+format, args...)
}

func (c *client) url(scheme, query string) string {
	u := c.base + c.path + "?" + query
	if scheme == "ws" {
		u = "ws" + strings.TrimPrefix(u, "http")
	}
	return u
}

// request sends an HTTP request and returns the status, the Content-Type and the body.
func (c *client) request(method, query, contentType, body string) (int, http.Header, string) {
	req, err := http.NewRequest(method, c.url("http", query), strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.log("%s error %v", method, shortErr(err))
		return 0, nil, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

// recordHTTP records an HTTP exchange: its status, the headers that matter and the body.
func (c *client) recordHTTP(what string, status int, h http.Header, body string) {
	if status == 0 {
		return
	}
	c.log("%s -> %d ct=%q cc=%q body=%q", what, status, h.Get("Content-Type"), h.Get("Cache-Control"), body)
}

// raw sends one HTTP request with a raw query and records the answer in full.
func (c *client) raw(method, query, contentType, body string) (int, string) {
	status, h, b := c.request(method, query, contentType, body)
	c.recordHTTP(method+" "+query, status, h, b)
	return status, b
}

// rawWS opens a websocket with a raw query and records the handshake's answer. It returns the
// connection, or nil when the handshake failed.
func (c *client) rawWS(query string) *websocket.Conn {
	d := websocket.Dialer{HandshakeTimeout: readTimeout}
	ws, res, err := d.Dial(c.url("ws", query), nil)
	if err != nil {
		if res != nil {
			b, _ := io.ReadAll(res.Body)
			c.recordHTTP("WS "+query, res.StatusCode, res.Header, string(b))
		} else {
			c.log("WS %s error %v", query, shortErr(err))
		}
		return nil
	}
	c.log("WS %s -> %d", query, res.StatusCode)
	return ws
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// open makes the Engine.IO handshake on transport with the extra query and records the open
// packet.
func (c *client) open(transport, query string) bool {
	c.transport = transport
	q := "EIO=4&transport=" + transport
	if query != "" {
		q += "&" + query
	}
	if transport == "websocket" {
		c.ws = c.rawWS(q)
		if c.ws == nil {
			return false
		}
	} else {
		status, h, body := c.request("GET", q, "", "")
		if status != http.StatusOK {
			c.recordHTTP("GET handshake", status, h, body)
			return false
		}
		c.log("GET handshake -> %d ct=%q cc=%q", status, h.Get("Content-Type"), h.Get("Cache-Control"))
		c.pending = append(c.pending, decodePayload(body)...)
	}
	p, ok := c.next()
	if !ok || !strings.HasPrefix(p.text, "0") {
		return false
	}
	var open struct {
		SID string `json:"sid"`
	}
	_ = json.Unmarshal([]byte(p.text[1:]), &open)
	c.sid = open.SID
	c.tr.token("SID", url.QueryEscape(c.sid))
	c.tr.token("SID", c.sid)
	c.log("<- %s", p)
	return true
}

func decodePayload(body string) []packet {
	var out []packet
	for _, part := range strings.Split(body, "\x1e") {
		if strings.HasPrefix(part, "b") {
			b, err := base64.StdEncoding.DecodeString(part[1:])
			if err != nil {
				out = append(out, packet{text: "bad base64 " + part})
				continue
			}
			out = append(out, packet{binary: b, isBin: true})
			continue
		}
		out = append(out, packet{text: part})
	}
	return out
}

func (c *client) sidQuery() string {
	return "EIO=4&transport=polling&sid=" + url.QueryEscape(c.sid)
}

// send sends Engine.IO packets (text, or []byte for binary messages): in one POST on polling,
// as consecutive frames on websocket.
func (c *client) send(pkts ...any) {
	var parts []string
	for _, p := range pkts {
		switch v := p.(type) {
		case string:
			c.log("-> %s", v)
			parts = append(parts, v)
		case []byte:
			c.log("-> bin %s", hex.EncodeToString(v))
			parts = append(parts, "b"+base64.StdEncoding.EncodeToString(v))
		}
	}
	if c.transport == "websocket" {
		for _, p := range pkts {
			var err error
			switch v := p.(type) {
			case string:
				err = c.ws.WriteMessage(websocket.TextMessage, []byte(v))
			case []byte:
				err = c.ws.WriteMessage(websocket.BinaryMessage, v)
			}
			if err != nil {
				c.log("write error %v", shortErr(err))
				return
			}
		}
		return
	}
	status, h, body := c.request("POST", c.sidQuery(), "text/plain;charset=UTF-8", strings.Join(parts, "\x1e"))
	if status != http.StatusOK || body != "ok" {
		c.recordHTTP("POST", status, h, body)
	}
}

// next returns the next packet from the server, polling or reading the websocket as needed.
// ok is false when the transport ended or nothing came within readTimeout; that is recorded.
func (c *client) next() (packet, bool) {
	if c.transport == "websocket" {
		wait := c.wait
		if wait == 0 {
			wait = readTimeout
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(wait))
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			switch {
			case asCloseError(err, &ce):
				c.log("<- close frame %d", ce.Code)
			default:
				c.log("<- connection ended (%s)", shortErr(err))
			}
			return packet{}, false
		}
		if mt == websocket.BinaryMessage {
			return packet{binary: data, isBin: true}, true
		}
		return packet{text: string(data)}, true
	}
	for len(c.pending) == 0 {
		status, h, body := c.request("GET", c.sidQuery(), "", "")
		if status != http.StatusOK {
			c.recordHTTP("GET", status, h, body)
			return packet{}, false
		}
		c.pending = append(c.pending, decodePayload(body)...)
	}
	p := c.pending[0]
	c.pending = c.pending[1:]
	return p, true
}

func asCloseError(err error, ce **websocket.CloseError) bool {
	e, ok := err.(*websocket.CloseError)
	if ok {
		*ce = e
	}
	return ok
}

// expect records and returns the next packet. A noop ("6") on polling is recorded and skipped.
func (c *client) expect() (packet, bool) {
	for {
		p, ok := c.next()
		if !ok {
			return p, false
		}
		if p.text == "6" && c.transport == "polling" {
			continue // how many noops a poll gets depends on timing
		}
		c.observe(p)
		c.log("<- %s", p)
		return p, true
	}
}

// expectN records the next n packets.
func (c *client) expectN(n int) {
	for range n {
		if _, ok := c.expect(); !ok {
			return
		}
	}
}

// until records packets until one starts with prefix (or the transport ends).
func (c *client) until(prefix string) (packet, bool) {
	for {
		p, ok := c.expect()
		if !ok || strings.HasPrefix(p.text, prefix) {
			return p, ok
		}
	}
}

// expectEnd records what the client sees until its transport ends.
func (c *client) expectEnd() {
	for {
		if _, ok := c.expect(); !ok {
			return
		}
	}
}

// observe registers the tokens a packet carries: the socket ID and private session ID of a
// CONNECT answer, and the offset of an event when recovery is on.
func (c *client) observe(p packet) {
	if p.isBin || len(p.text) < 2 || p.text[0] != '4' {
		return
	}
	body := p.text[2:]
	if i := strings.IndexAny(body, "[{"); i >= 0 {
		body = body[i:]
	}
	switch p.text[1] {
	case '0':
		var ans struct {
			SID string `json:"sid"`
			PID string `json:"pid"`
		}
		if json.Unmarshal([]byte(body), &ans) == nil {
			c.tr.token("ID", ans.SID)
			if ans.PID != "" {
				c.pid = ans.PID
				c.tr.token("PID", ans.PID)
			}
		}
	case '2', '5':
		if !c.recovery {
			return
		}
		var args []json.RawMessage
		if json.Unmarshal([]byte(body), &args) != nil || len(args) < 2 {
			return
		}
		var last string
		if json.Unmarshal(args[len(args)-1], &last) == nil && !strings.HasPrefix(last, "msg:") {
			c.offset = last
			c.tr.offset(last)
		}
	}
}

// expectGone records the packets the client gets until its session ends, and that it ended,
// but not how: a session that times out on polling ends with a close packet when a poll is
// pending at that moment and with "Session ID unknown" when the poll comes just after, on
// either server.
func (c *client) expectGone() {
	real := c.tr
	for {
		c.tr = newTrace()
		p, ok := c.expect()
		c.tr = real
		if !ok || p.text == "1" {
			c.log("<- (the session ended)")
			return
		}
		c.log("<- %s", p)
	}
}

// close ends the client's transport from its side: a close packet on polling, a close
// frame on websocket.
func (c *client) close() {
	if c.transport == "websocket" && c.ws != nil {
		_ = c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		_ = c.ws.Close()
		c.ws = nil
		return
	}
	if c.transport == "polling" && c.sid != "" {
		_, _, _ = c.request("POST", c.sidQuery(), "text/plain;charset=UTF-8", "1")
	}
}

// drop ends the client's transport without a word: the TCP connection of a websocket is
// closed, a polling client stops polling and sends a close packet so that the server does not
// wait for a ping timeout.
func (c *client) drop() {
	if c.transport == "websocket" && c.ws != nil {
		_ = c.ws.NetConn().Close()
		c.ws = nil
		return
	}
	c.close()
}

// upgrade moves a polling session to websocket: probe, noop on the pending poll, upgrade.
func (c *client) upgrade() bool {
	type result struct {
		status int
		h      http.Header
		body   string
	}
	poll := make(chan result, 1)
	go func() {
		s, h, b := c.request("GET", c.sidQuery(), "", "")
		poll <- result{s, h, b}
	}()
	time.Sleep(100 * time.Millisecond) // let the poll reach the server first
	ws := c.rawWS("EIO=4&transport=websocket&sid=" + url.QueryEscape(c.sid))
	if ws == nil {
		return false
	}
	c.log("-> 2probe")
	_ = ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
	_ = ws.SetReadDeadline(time.Now().Add(readTimeout))
	_, m, err := ws.ReadMessage()
	if err != nil {
		c.log("<- probe answer error %v", shortErr(err))
		_ = ws.Close()
		return false
	}
	c.log("<- %s", m)
	select {
	case r := <-poll:
		c.recordHTTP("pending GET", r.status, r.h, r.body)
	case <-time.After(readTimeout):
		c.log("pending GET not released")
	}
	c.log("-> 5")
	_ = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	c.ws, c.transport = ws, "websocket"
	return true
}

// answer sends the acknowledgement of the event packet p (a "42<id>[...]" with an ack id)
// with the JSON array payload.
func (c *client) answer(p packet, payload string) {
	text := strings.TrimPrefix(p.text, "42")
	if i := strings.Index(text, ","); i >= 0 && strings.HasPrefix(text, "/") {
		text = text[i+1:]
	}
	end := strings.IndexByte(text, '[')
	if end < 0 {
		c.log("no ack id in %s", p)
		return
	}
	c.send("43" + text[:end] + payload)
}

// answerBinary is answer with binary attachments: payload holds their placeholders.
func (c *client) answerBinary(p packet, payload string, atts ...[]byte) {
	text := strings.TrimPrefix(p.text, "42")
	end := strings.IndexByte(text, '[')
	if end < 0 {
		c.log("no ack id in %s", p)
		return
	}
	pkts := []any{fmt.Sprintf("46%d-%s%s", len(atts), text[:end], payload)}
	for _, a := range atts {
		pkts = append(pkts, a)
	}
	c.send(pkts...)
}

// connect sends a CONNECT for nsp with the auth payload (JSON, or "") and records the answer.
func (c *client) connect(nsp, auth string) (packet, bool) {
	pkt := "40"
	if nsp != "/" {
		pkt += nsp + ","
	}
	c.send(pkt + auth)
	return c.until("4")
}

// emit sends an event packet of nsp ("/" for the main namespace).
func (c *client) emit(nsp, payload string) {
	c.send("42" + nspPrefix(nsp) + payload)
}

func nspPrefix(nsp string) string {
	if nsp == "/" {
		return ""
	}
	return nsp + ","
}

// sync sends an echo on nsp and records every packet until it comes back: what the server
// sent before it is in the trace, in order.
func (c *client) sync(nsp string) {
	c.emit(nsp, `["echo","msg:sync"]`)
	want := "42" + nspPrefix(nsp) + `["echo","msg:sync"`
	for {
		p, ok := c.expect()
		if !ok || strings.HasPrefix(p.text, want) {
			return
		}
	}
}

// stop ends the client quietly at the end of a session.
func (c *client) stop() {
	if c.ws != nil {
		_ = c.ws.Close()
		c.ws = nil
	} else if c.transport == "polling" && c.sid != "" {
		_, _, _ = c.request("POST", c.sidQuery(), "text/plain;charset=UTF-8", "1")
	}
	c.sid = ""
}
