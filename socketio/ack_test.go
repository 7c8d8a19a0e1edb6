package socketio_test

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// An Ack called from several goroutines at once sends one answer: the other calls return
// ErrAlreadyAcked.
func TestAckConcurrentCalls(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	const callers = 8
	results := make(chan error, callers)
	onConnect(srv, func(s *socketio.Socket) {
		s.On("q", func(ack socketio.Ack) {
			var start sync.WaitGroup
			start.Add(1)
			for i := range callers {
				go func() {
					start.Wait()
					results <- ack(i)
				}()
			}
			start.Done()
		})
	})
	c := inprocConnect(t, srv, "/", nil)
	if _, err := c.EmitWithAck(inprocCtx(t), "q"); err != nil {
		t.Fatal(err)
	}
	sent := 0
	for range callers {
		switch err := recv(t, results); {
		case err == nil:
			sent++
		case !errors.Is(err, socketio.ErrAlreadyAcked):
			t.Fatalf("ack: %v", err)
		}
	}
	if sent != 1 {
		t.Fatalf("%d calls of the Ack sent an answer, want 1", sent)
	}
	// The next request gets its own answer, not a second one of the first.
	r, err := c.EmitWithAck(inprocCtx(t), "q")
	if err != nil || len(r) != 1 {
		t.Fatalf("second request: %v %v", r, err)
	}
}

// The arguments an acknowledgement relays reach the client as they were sent, whether they
// take the fast path of compact JSON or are rewritten by encoding/json (white space, HTML
// characters, U+2028), and the handler of an event name with escapes is found.
func TestAckRelaysRawJSON(t *testing.T) {
	srv := inprocServer(t, socketio.Options{})
	onConnect(srv, func(s *socketio.Socket) {
		relay := func(args []json.RawMessage, ack socketio.Ack) {
			out := make([]any, len(args))
			for i, a := range args {
				out[i] = a
			}
			if err := ack(out...); err != nil {
				t.Errorf("ack: %v", err)
			}
		}
		s.On("echo", relay)
		s.On("é \"quoted\"", relay)
	})
	c := inprocConnect(t, srv, "/", nil)
	args := []any{
		map[string]any{"a": []any{1.5, "x"}},
		"<b>&amp;</b> \u2028 é",
		nil, true, 12.0,
		json.RawMessage(`{ "spaced" : [ 1 , 2 ] }`),
	}
	for _, event := range []string{"echo", "é \"quoted\""} {
		r, err := c.EmitWithAck(inprocCtx(t), event, args...)
		if err != nil {
			t.Fatalf("%s: %v", event, err)
		}
		if len(r) != len(args) {
			t.Fatalf("%s: %d arguments back, want %d", event, len(r), len(args))
		}
		for i, want := range args {
			wantJSON, _ := json.Marshal(want)
			var got, exp any
			if err := json.Unmarshal(r[i].JSON(), &got); err != nil {
				t.Fatalf("%s: argument %d: %v", event, i, err)
			}
			_ = json.Unmarshal(wantJSON, &exp)
			g, _ := json.Marshal(got)
			e, _ := json.Marshal(exp)
			if string(g) != string(e) {
				t.Fatalf("%s: argument %d = %s, want %s", event, i, r[i].JSON(), wantJSON)
			}
		}
	}
}
