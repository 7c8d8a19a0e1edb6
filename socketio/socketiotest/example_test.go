package socketiotest_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/echo-socketio/echo-socketio/socketio"
	"github.com/echo-socketio/echo-socketio/socketio/socketiotest"
)

// registerShout is the application code under test: it answers "shout" with the text in
// upper case and tells the other sockets about it.
func registerShout(sio *socketio.Server) {
	sio.OnConnection(func(s *socketio.Socket) {
		s.On("shout", func(text string, ack socketio.Ack) error {
			if err := s.Broadcast().Emit("heard", text); err != nil {
				return err
			}
			return ack(strings.ToUpper(text))
		})
	})
}

// A test of an application's handler: two in-process clients, an acknowledgement and a
// broadcast, without a network or a browser. In a _test.go file the errors go to t.Fatal.
func Example() {
	sio := socketio.NewServer(socketio.Options{})
	registerShout(sio)
	defer sio.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	alice, err := socketiotest.Connect(ctx, sio, "/", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer alice.Close()
	bob, err := socketiotest.Connect(ctx, sio, "/", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bob.Close()

	reply, err := alice.EmitWithAck(ctx, "shout", "hello")
	if err != nil {
		fmt.Println(err)
		return
	}
	var upper string
	_ = reply.Decode(&upper)
	fmt.Println("alice got:", upper)

	ev, err := bob.Expect(ctx, "heard")
	if err != nil {
		fmt.Println(err)
		return
	}
	var text string
	_ = ev.Decode(&text)
	fmt.Println("bob heard:", text)
	// Output:
	// alice got: HELLO
	// bob heard: hello
}
