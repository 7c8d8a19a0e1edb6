// Package testfake is a fake Socket.IO server for siobench's own tests only.
// It is not the project's server and must not be used to measure anything:
// it implements just enough of Engine.IO v4 (WebSocket-only sessions and
// HTTP long-polling, pings, no upgrades) and of Socket.IO v5 (the main
// namespace, events and acks) to serve the benchmark contract, and it can be
// told to misbehave (drop, duplicate or alter one message) so that the tests
// can check that siobench notices.
package testfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Faults selects messages to tamper with. Each field counts from 1 over the
// whole server (the Nth echo ack, the Nth broadcast delivery); zero means
// never.
type Faults struct {
	DropAck        int64
	DuplicateAck   int64
	CorruptAck     int64
	DropDelivery   int64
	DuplicateDeliv int64
	// CorruptDeliv changes the last byte of a delivery's payload.
	CorruptDeliv int64
	// EscapeDeliv sends a delivery in another valid JSON encoding (its
	// first payload byte as a \u escape), which must be accepted.
	EscapeDeliv int64
	// CloseOnEcho ends the session of the client that sends the Nth echo
	// request, instead of acknowledging it.
	CloseOnEcho int64
}

// Server is the fake contract server. Create it with Start and stop it
// with Close.
type Server struct {
	URL    string
	faults Faults
	ping   time.Duration

	http     *httptest.Server
	upgrader websocket.Upgrader
	done     chan struct{}
	wg       sync.WaitGroup

	acks, deliveries atomic.Int64
	// Pongs counts the pong packets received from clients.
	Pongs atomic.Int64

	mu       sync.Mutex
	nextID   int
	sessions map[string]*session
	rooms    map[string]map[*session]bool
}

// session is one Engine.IO session on either transport.
type session struct {
	id      string
	srv     *Server
	polling bool

	wmu sync.Mutex
	ws  *websocket.Conn

	qmu    sync.Mutex
	queue  []string
	wake   chan struct{}
	closed chan struct{}
	once   sync.Once
}

// Start starts a fake server on 127.0.0.1 that pings every pingInterval.
func Start(pingInterval time.Duration, f Faults) *Server {
	s := &Server{
		faults:   f,
		ping:     pingInterval,
		done:     make(chan struct{}),
		sessions: map[string]*session{},
		rooms:    map[string]map[*session]bool{},
	}
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.http.URL
	return s
}

// Close stops the server and waits for all its goroutines.
func (s *Server) Close() {
	close(s.done)
	s.mu.Lock()
	for _, ss := range s.sessions {
		ss.close()
	}
	s.mu.Unlock()
	s.http.Close()
	s.wg.Wait()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/socket.io/" || r.URL.Query().Get("EIO") != "4" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	switch r.URL.Query().Get("transport") {
	case "websocket":
		s.serveWebSocket(w, r)
	case "polling":
		s.servePolling(w, r)
	default:
		http.Error(w, "bad transport", http.StatusBadRequest)
	}
}

func (s *Server) newSession(polling bool) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	ss := &session{
		id:      "fake" + strconv.Itoa(s.nextID),
		srv:     s,
		polling: polling,
		wake:    make(chan struct{}, 1),
		closed:  make(chan struct{}),
	}
	s.sessions[ss.id] = ss
	return ss
}

func (s *Server) openPacket(id string) string {
	ms := int(s.ping / time.Millisecond)
	return fmt.Sprintf(`0{"sid":%q,"upgrades":[],"pingInterval":%d,"pingTimeout":%d,"maxPayload":1000000}`, id, ms, 5000)
}

func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	ss := s.newSession(false)
	ss.ws = ws
	defer s.drop(ss)
	ss.send(s.openPacket(ss.id))
	s.wg.Add(1)
	go s.pinger(ss)
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if !ss.handle(string(msg)) {
			return
		}
	}
}

func (s *Server) servePolling(w http.ResponseWriter, r *http.Request) {
	sid := r.URL.Query().Get("sid")
	if sid == "" && r.Method == http.MethodGet {
		ss := s.newSession(true)
		s.wg.Add(1)
		go s.pinger(ss)
		io.WriteString(w, s.openPacket(ss.id))
		return
	}
	s.mu.Lock()
	ss := s.sessions[sid]
	s.mu.Unlock()
	if ss == nil {
		http.Error(w, "unknown sid", http.StatusBadRequest)
		return
	}
	switch r.Method {
	case http.MethodPost:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		io.WriteString(w, "ok")
		for _, p := range strings.Split(string(body), "\x1e") {
			if !ss.handle(p) {
				s.drop(ss)
				return
			}
		}
	case http.MethodGet:
		for {
			ss.qmu.Lock()
			q := ss.queue
			ss.queue = nil
			ss.qmu.Unlock()
			if len(q) > 0 {
				io.WriteString(w, strings.Join(q, "\x1e"))
				return
			}
			select {
			case <-ss.wake:
			case <-ss.closed:
				io.WriteString(w, "1")
				return
			case <-r.Context().Done():
				return
			}
		}
	}
}

// pinger sends a ping every interval until the session ends.
func (s *Server) pinger(ss *session) {
	defer s.wg.Done()
	t := time.NewTicker(s.ping)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ss.send("2")
		case <-ss.closed:
			return
		case <-s.done:
			return
		}
	}
}

func (s *Server) drop(ss *session) {
	s.mu.Lock()
	delete(s.sessions, ss.id)
	for _, members := range s.rooms {
		delete(members, ss)
	}
	s.mu.Unlock()
	ss.close()
}

func (ss *session) close() {
	ss.once.Do(func() {
		close(ss.closed)
		if ss.ws != nil {
			ss.ws.Close()
		}
	})
}

// send queues or writes one Engine.IO packet.
func (ss *session) send(p string) {
	if ss.polling {
		ss.qmu.Lock()
		ss.queue = append(ss.queue, p)
		ss.qmu.Unlock()
		select {
		case ss.wake <- struct{}{}:
		default:
		}
		return
	}
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	ss.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	ss.ws.WriteMessage(websocket.TextMessage, []byte(p))
}

// handle processes one Engine.IO packet and reports whether the session
// goes on.
func (ss *session) handle(p string) bool {
	if p == "" {
		return false
	}
	switch p[0] {
	case '3':
		ss.srv.Pongs.Add(1)
		return true
	case '1':
		return false
	case '4':
		return ss.handleSocketIO(p[1:])
	}
	return false
}

func (ss *session) handleSocketIO(p string) bool {
	if p == "0" || strings.HasPrefix(p, "0{") {
		ss.send(`40{"sid":"s` + ss.id + `"}`)
		return true
	}
	if p == "1" {
		return false
	}
	if p == "" || p[0] != '2' {
		return false
	}
	p = p[1:]
	i := strings.IndexByte(p, '[')
	if i < 0 {
		return false
	}
	id := -1
	if i > 0 {
		n, err := strconv.Atoi(p[:i])
		if err != nil {
			return false
		}
		id = n
	}
	var args []json.RawMessage
	if err := json.Unmarshal([]byte(p[i:]), &args); err != nil || len(args) == 0 {
		return false
	}
	var name string
	if err := json.Unmarshal(args[0], &name); err != nil {
		return false
	}
	args = args[1:]
	ack := func(data string) {
		if id >= 0 {
			ss.send("43" + strconv.Itoa(id) + data)
		}
	}
	s := ss.srv
	switch name {
	case "echo":
		data, _ := json.Marshal(args)
		n := s.acks.Add(1)
		switch n {
		case s.faults.DropAck:
			return true
		case s.faults.CloseOnEcho:
			return false
		case s.faults.DuplicateAck:
			ack(string(data))
		case s.faults.CorruptAck:
			data = []byte(`["corrupted"]`)
		}
		ack(string(data))
	case "join":
		var room string
		if len(args) < 1 || json.Unmarshal(args[0], &room) != nil {
			return false
		}
		s.mu.Lock()
		if s.rooms[room] == nil {
			s.rooms[room] = map[*session]bool{}
		}
		s.rooms[room][ss] = true
		s.mu.Unlock()
		ack("[]")
	case "bcast":
		var room string
		if len(args) < 2 || json.Unmarshal(args[0], &room) != nil {
			return false
		}
		pkt := `42["bcast",` + string(args[1]) + `]`
		s.mu.Lock()
		members := make([]*session, 0, len(s.rooms[room]))
		for m := range s.rooms[room] {
			members = append(members, m)
		}
		s.mu.Unlock()
		for _, m := range members {
			n := s.deliveries.Add(1)
			out := pkt
			switch n {
			case s.faults.DropDelivery:
				continue
			case s.faults.DuplicateDeliv:
				m.send(pkt)
			case s.faults.CorruptDeliv:
				out = pkt[:len(pkt)-3] + `!"]`
			case s.faults.EscapeDeliv:
				out = `42["bcast","\u00` + strconv.FormatInt(int64(pkt[12]), 16) + pkt[13:]
			}
			m.send(out)
		}
		ack("[]")
	}
	return true
}
