package socketio_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// exampleClient connects to srv like a socket.io-client over websocket and sends frames after
// the namespace CONNECT. It returns the frames it received, up to want of them.
func exampleClient(srv *httptest.Server, want int, frames ...string) []string {
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return []string{err.Error()}
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, _ = ws.ReadMessage() // the Engine.IO open packet
	_ = ws.WriteMessage(websocket.TextMessage, []byte("40"))
	_, _, _ = ws.ReadMessage() // the CONNECT answer
	for _, f := range frames {
		_ = ws.WriteMessage(websocket.TextMessage, []byte(f))
	}
	var got []string
	for len(got) < want {
		_, m, err := ws.ReadMessage()
		if err != nil {
			break
		}
		got = append(got, string(m))
	}
	return got
}

func shutdown(io *socketio.Server, srv *httptest.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = io.Shutdown(ctx)
	srv.Close()
}

// A chat message with typed fields: the handler's parameters are decoded from the event's JSON
// arguments, and the Ack answers the client's callback.
type ChatMessage struct {
	Room string `json:"room"`
	Text string `json:"text"`
}

func ExampleSocket_On() {
	io := socketio.NewServer(socketio.Options{})
	io.OnConnection(func(s *socketio.Socket) {
		s.On("chat", func(m ChatMessage, ack socketio.Ack) {
			fmt.Printf("%s in %s\n", m.Text, m.Room)
			_ = ack("delivered")
		})
	})
	srv := httptest.NewServer(io)
	defer shutdown(io, srv)

	// What socket.emit("chat", {room: "lobby", text: "hi"}, cb) sends, with ack id 1.
	replies := exampleClient(srv, 1, `421["chat",{"room":"lobby","text":"hi"}]`)
	fmt.Println(replies)
	// Output:
	// hi in lobby
	// [431["delivered"]]
}

func ExampleBroadcastOperator_Emit() {
	io := socketio.NewServer(socketio.Options{})
	io.OnConnection(func(s *socketio.Socket) {
		s.Join("news")
		_ = io.To("news").Emit("headline", "rooms are ready", []byte{1, 2})
	})
	srv := httptest.NewServer(io)
	defer shutdown(io, srv)

	// A binary argument travels as a placeholder and a binary frame after the text frame.
	got := exampleClient(srv, 2)
	fmt.Printf("%s %q\n", got[0], got[1])
	// Output:
	// 451-["headline","rooms are ready",{"_placeholder":true,"num":0}] "\x01\x02"
}

func ExampleServer() {
	io := socketio.NewServer(socketio.Options{})
	io.OnConnection(func(s *socketio.Socket) {
		s.OnDisconnect(func(reason socketio.DisconnectReason) {})
		_ = s.Emit("welcome", s.ID() != "")
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io) // the default Path
	srv := httptest.NewServer(mux)
	defer shutdown(io, srv)

	fmt.Println(exampleClient(srv, 1))
	// Output:
	// [42["welcome",true]]
}
