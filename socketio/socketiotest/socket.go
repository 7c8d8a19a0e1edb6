package socketiotest

import (
	"context"
	"fmt"
	"sync"

	"github.com/echo-socketio/echo-socketio/socketio"
	sioparser "github.com/echo-socketio/echo-socketio/socketio/parser"
)

// Event is an event the server sent to a socket.
type Event struct {
	// Name is the event's name.
	Name string
	// Args are the event's arguments, binary values kept as binary.
	Args socketio.Args
	// Ack answers the event when the server asked for an answer (EmitWithAck, or a
	// broadcast with Timeout); it is nil otherwise. Its arguments are marshalled as the
	// server's are: []byte values travel as binary.
	Ack socketio.Ack
}

// Decode decodes the event's arguments into the pointers dst, in order. See Args.Decode.
func (e *Event) Decode(dst ...any) error { return e.Args.Decode(dst...) }

// Socket is a client's connection to one namespace. Its methods are safe for concurrent use.
type Socket struct {
	client    *Client
	nsp       string
	connected chan error
	done      chan struct{}
	notify    chan struct{}

	mu     sync.Mutex
	id     string
	events []*Event
	acks   map[uint64]chan socketio.Args
	nextID uint64
	reason string
	ended  bool
}

// ID returns the socket's ID, as the server's Socket.ID reports it.
func (s *Socket) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Namespace returns the name of the socket's namespace.
func (s *Socket) Namespace() string { return s.nsp }

// Client returns the client the socket belongs to.
func (s *Socket) Client() *Client { return s.client }

// Done returns a channel closed when the socket is disconnected.
func (s *Socket) Done() <-chan struct{} { return s.done }

// DisconnectReason returns why the socket disconnected, with the reasons of socket.io-client:
// "io server disconnect" when the server disconnected it, "io client disconnect" after Close,
// "transport close" when the session ended. It is empty while the socket is connected.
func (s *Socket) DisconnectReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// Emit sends an event to the server. []byte values and Args anywhere in args travel as
// binary. Reserved event names ("connect", "disconnect", ...) are refused.
func (s *Socket) Emit(event string, args ...any) error {
	p, err := s.eventPacket(event, args)
	if err != nil {
		return err
	}
	return s.client.writePacket(p)
}

// EmitWithAck sends an event to the server and waits for the server's handler to answer with
// its Ack, until ctx ends or the socket disconnects. The Reply holds the Ack's arguments, as
// socketio.Socket.EmitWithAck returns a client's.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (socketio.Reply, error) {
	p, err := s.eventPacket(event, args)
	if err != nil {
		return nil, err
	}
	ch := make(chan socketio.Args, 1)
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	id := s.nextID
	s.nextID++
	s.acks[id] = ch
	s.mu.Unlock()
	p.ID, p.HasID = id, true
	if err := s.client.writePacket(p); err != nil {
		s.dropAck(id)
		return nil, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-s.done:
		return nil, ErrClosed
	case <-ctx.Done():
		s.dropAck(id)
		return nil, fmt.Errorf("socketiotest: waiting for the answer to %q: %w", event, ctx.Err())
	}
}

func (s *Socket) dropAck(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.acks, id)
}

func (s *Socket) eventPacket(event string, args []any) (*sioparser.Packet, error) {
	select {
	case <-s.done:
		return nil, ErrClosed
	default:
	}
	data, atts, err := sioparser.MarshalEvent(event, args...)
	if err != nil {
		return nil, fmt.Errorf("socketiotest: emit %q: %w", event, err)
	}
	return &sioparser.Packet{Type: sioparser.Event, Namespace: s.nsp, Data: data, Attachments: atts}, nil
}

// Receive returns the next event the server sent to the socket, in the order sent. It waits
// until one arrives, ctx ends, or the socket is disconnected with no event left (ErrClosed).
func (s *Socket) Receive(ctx context.Context) (*Event, error) {
	for {
		s.mu.Lock()
		if len(s.events) > 0 {
			e := s.events[0]
			s.events[0] = nil
			s.events = s.events[1:]
			s.mu.Unlock()
			return e, nil
		}
		ended := s.ended
		s.mu.Unlock()
		if ended {
			return nil, ErrClosed
		}
		select {
		case <-s.notify:
		case <-s.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("socketiotest: waiting for an event: %w", ctx.Err())
		}
	}
}

// Expect receives the next event and checks its name: an event of another name is an error
// wrapping ErrUnexpectedEvent (the event is consumed all the same).
func (s *Socket) Expect(ctx context.Context, event string) (*Event, error) {
	e, err := s.Receive(ctx)
	if err != nil {
		return nil, err
	}
	if e.Name != event {
		return e, fmt.Errorf("%w: got %q %v, want %q", ErrUnexpectedEvent, e.Name, e.Args, event)
	}
	return e, nil
}

// Close disconnects the socket from its namespace, as socket.disconnect() does in
// socket.io-client: the server sees the reason "client namespace disconnect". When it was the
// last socket of its client, the client is closed too.
func (s *Socket) Close() {
	c := s.client
	c.mu.Lock()
	mine := c.sockets[s.nsp] == s
	if mine {
		delete(c.sockets, s.nsp)
	}
	last := len(c.sockets) == 0
	c.mu.Unlock()
	if mine {
		_ = c.writePacket(&sioparser.Packet{Type: sioparser.Disconnect, Namespace: s.nsp})
		s.end("io client disconnect")
	}
	if last {
		c.Close()
	}
}

// end marks the socket disconnected for reason; it is idempotent.
func (s *Socket) end(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	s.reason = reason
	s.acks = nil
	close(s.done)
}

func (s *Socket) onEvent(p *sioparser.Packet) {
	all, err := sioparser.SplitArgs(p.Data, p.Attachments)
	if err != nil || len(all) == 0 {
		return
	}
	var name string
	if err := all[0].Decode(&name); err != nil {
		name = all[0].String()
	}
	e := &Event{Name: name, Args: all[1:]}
	if p.HasID {
		e.Ack = s.ackFunc(p.ID)
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.events = append(s.events, e)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *Socket) ackFunc(id uint64) socketio.Ack {
	var once sync.Once
	return func(args ...any) error {
		err := fmt.Errorf("socketiotest: acknowledgement %d already sent", id)
		once.Do(func() {
			data, atts, merr := sioparser.MarshalArgs(args...)
			if merr != nil {
				err = fmt.Errorf("socketiotest: ack: %w", merr)
				return
			}
			err = s.client.writePacket(&sioparser.Packet{Type: sioparser.Ack, Namespace: s.nsp, ID: id, HasID: true, Data: data, Attachments: atts})
		})
		return err
	}
}

func (s *Socket) onAck(p *sioparser.Packet) {
	if !p.HasID {
		return
	}
	args, err := sioparser.SplitArgs(p.Data, p.Attachments)
	if err != nil {
		return
	}
	s.mu.Lock()
	ch := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if ch != nil {
		ch <- args
	}
}
