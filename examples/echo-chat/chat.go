package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/echo-socketio/echo-socketio/socketio"
)

const (
	// historySize is the number of messages kept per channel.
	historySize = 50
	// maxChannels bounds the channels whose history is kept.
	maxChannels = 200
	// maxText is the longest message, in bytes.
	maxText = 2000
)

// validChannel matches channel names.
var validChannel = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,23}$`)

// Each channel is the room "channel:<name>", and each user the room "user:<name>" that all
// the user's tabs join, so that a private message or a notification reaches every one of them.
func channelRoom(name string) string { return "channel:" + name }
func userRoom(name string) string    { return "user:" + name }

// message is a chat message, in a channel or private (To set).
type message struct {
	ID      string    `json:"id"`
	Channel string    `json:"channel,omitempty"`
	From    string    `json:"from"`
	To      string    `json:"to,omitempty"`
	Text    string    `json:"text"`
	At      time.Time `json:"at"`
}

// notification is what POST /api/notify pushes.
type notification struct {
	From    string    `json:"from"`
	Channel string    `json:"channel,omitempty"`
	Text    string    `json:"text"`
	At      time.Time `json:"at"`
}

// reply answers a client's request through its acknowledgement: an error, or a result.
type reply struct {
	Error   string    `json:"error,omitempty"`
	Message *message  `json:"message,omitempty"`
	History []message `json:"history,omitempty"`
}

// chat holds the state of the application: the recent messages of each channel.
type chat struct {
	sio     *socketio.Server
	mu      sync.Mutex
	history map[string][]message
}

// newChat returns the chat of the Socket.IO server io, with no history yet.
func newChat(sio *socketio.Server) *chat {
	return &chat{sio: sio, history: make(map[string][]message)}
}

// register sets the connection handler of the main namespace.
func (c *chat) register() {
	c.sio.OnConnection(func(s *socketio.Socket) {
		name := userName(s)
		log.Printf("A client has connected: %s", s.ID())
		s.Set("name", name) // FetchSockets reports it in Data(), for the presence lists
		s.Join(userRoom(name))
		s.OnError(func(err error) { log.Printf("client %s: %v", s.ID(), err) })

		s.On("join", func(channel string, ack socketio.Ack) {
			if !validChannel.MatchString(channel) {
				_ = ack(reply{Error: "a channel name has 1 to 24 lowercase letters, digits, '_' or '-'"})
				return
			}
			s.Join(channelRoom(channel))
			_ = ack(reply{History: c.recent(channel)})
			c.presence(channel)
		})

		s.On("leave", func(channel string) {
			if validChannel.MatchString(channel) {
				s.Leave(channelRoom(channel))
				c.presence(channel)
			}
		})

		s.On("message", func(in struct{ Channel, Text string }, ack socketio.Ack) {
			if !slices.Contains(s.Rooms(), channelRoom(in.Channel)) {
				_ = ack(reply{Error: "join #" + in.Channel + " first"})
				return
			}
			m, err := newMessage(name, in.Text)
			if err != nil {
				_ = ack(reply{Error: err.Error()})
				return
			}
			m.Channel = in.Channel
			c.remember(m)
			_ = s.To(channelRoom(m.Channel)).Emit("message", m)
			_ = ack(reply{Message: &m}) // the delivered mark on the sender's page
		})

		s.On("typing", func(in struct {
			Channel string
			Typing  bool
		}) {
			if slices.Contains(s.Rooms(), channelRoom(in.Channel)) {
				_ = s.To(channelRoom(in.Channel)).Volatile().Emit("typing",
					map[string]any{"channel": in.Channel, "user": name, "typing": in.Typing})
			}
		})

		s.On("private", func(in struct{ To, Text string }, ack socketio.Ack) {
			m, err := newMessage(name, in.Text)
			if err != nil {
				_ = ack(reply{Error: err.Error()})
				return
			}
			m.To = in.To
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			online, err := c.sio.In(userRoom(m.To)).FetchSockets(ctx)
			cancel()
			if err != nil || len(online) == 0 {
				_ = ack(reply{Error: m.To + " is not online"})
				return
			}
			// The recipient's tabs and the sender's other tabs; this one has the acknowledgement.
			_ = s.To(userRoom(m.To), userRoom(name)).Emit("private", m)
			_ = ack(reply{Message: &m})
		})

		// The rooms are gone once the socket disconnected: note the channels before.
		var channels []string
		s.OnDisconnecting(func(socketio.DisconnectReason) {
			for _, r := range s.Rooms() {
				if ch, ok := strings.CutPrefix(r, "channel:"); ok {
					channels = append(channels, ch)
				}
			}
		})
		s.OnDisconnect(func(reason socketio.DisconnectReason) {
			log.Printf("A client has disconnected: %s (%s)", s.ID(), reason)
			for _, ch := range channels {
				c.presence(ch)
			}
		})
	})
}

// newMessage returns a message from a user, or an error when the text is empty or too long.
func newMessage(from, text string) (message, error) {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > maxText {
		return message{}, errText
	}
	return message{ID: rand.Text(), From: from, Text: text, At: time.Now().UTC()}, nil
}

// errText refuses an empty or too long message.
var errText = errors.New("a message has 1 to 2000 bytes")

// remember adds a message to the history of its channel.
func (c *chat) remember(m message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.history[m.Channel]
	if !ok && len(c.history) >= maxChannels {
		return
	}
	if len(h) == historySize {
		h = slices.Delete(h, 0, 1)
	}
	c.history[m.Channel] = append(h, m)
}

// recent returns a copy of a channel's history, oldest first.
func (c *chat) recent(channel string) []message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.history[channel])
}

// presence tells the members of a channel who is in it. The list comes from FetchSockets,
// so with the Redis adapter it covers every instance.
//
// Two sockets joining at once, on one instance or on two, send two lists, and the one fetched
// first may arrive last and miss a user. Each list therefore carries the time its fetch
// started, and the page keeps the newest: that fetch began after the last change, so it saw it.
func (c *chat) presence(channel string) {
	at := time.Now().UnixMicro()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	room := c.sio.In(channelRoom(channel))
	sockets, err := room.FetchSockets(ctx)
	if err != nil {
		log.Printf("presence of #%s: %v", channel, err)
		return
	}
	users := []string{}
	for _, rs := range sockets {
		var data struct{ Name string }
		if json.Unmarshal(rs.Data(), &data) == nil && !slices.Contains(users, data.Name) {
			users = append(users, data.Name)
		}
	}
	slices.Sort(users)
	_ = room.Emit("presence", map[string]any{"channel": channel, "users": users, "at": at})
}
