package socketio

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

type benchMsg struct {
	Room string `json:"room"`
	Text string `json:"text"`
	N    int    `json:"n"`
}

var benchSink benchMsg

// BenchmarkHandlerDispatch measures the dispatch of one event to its handler, from the
// arguments as they come off the wire to the handler's return, in the three forms a handler
// can take: raw (func(Args, Ack) error, decoding its argument itself), generic (OnEvent,
// decoding code written by the compiler) and reflective (On with func(T, Ack) error, the
// parameters found and the call made by package reflect). The decoding of the JSON itself is
// the same encoding/json work in all three.
func BenchmarkHandlerDispatch(b *testing.B) {
	all, err := parser.SplitArgs(json.RawMessage(`["chat",{"room":"lobby","text":"hello","n":7}]`), nil)
	if err != nil {
		b.Fatal(err)
	}
	args := all[1:]
	raw, err := newHandler(func(args Args, _ Ack) error {
		var m benchMsg
		if len(args) > 0 {
			if err := args[0].Decode(&m); err != nil {
				return err
			}
		}
		benchSink = m
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	reflective, err := newHandler(func(m benchMsg, _ Ack) error { benchSink = m; return nil })
	if err != nil {
		b.Fatal(err)
	}
	generic := typedHandler("chat", func(m benchMsg, _ Ack) error { benchSink = m; return nil })
	for _, c := range []struct {
		name string
		h    handler
	}{{"raw", raw}, {"generic", generic}, {"reflective", reflective}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.h.call("chat", args, noAck); err != nil {
					b.Fatal(err)
				}
			}
			if benchSink.N != 7 {
				b.Fatalf("decoded %+v", benchSink)
			}
		})
	}
}

// TestGenericHandlerAllocs checks that the generic form allocates no more than the raw form
// that decodes the same argument.
func TestGenericHandlerAllocs(t *testing.T) {
	all, err := parser.SplitArgs(json.RawMessage(`["chat",{"room":"lobby","text":"hello","n":7}]`), nil)
	if err != nil {
		t.Fatal(err)
	}
	args := all[1:]
	raw, _ := newHandler(func(args Args, _ Ack) error {
		var m benchMsg
		err := args[0].Decode(&m)
		benchSink = m
		return err
	})
	generic := typedHandler("chat", func(m benchMsg, _ Ack) error { benchSink = m; return nil })
	rawAllocs := testing.AllocsPerRun(200, func() { _ = raw.call("chat", args, noAck) })
	genericAllocs := testing.AllocsPerRun(200, func() { _ = generic.call("chat", args, noAck) })
	if genericAllocs > rawAllocs {
		t.Fatalf("generic handler: %.1f allocations per event, raw: %.1f", genericAllocs, rawAllocs)
	}
}

// TestHandlerSet: the handlers of a socket, kept in a list and in a map past handlerListMax,
// are found, replaced and removed the same way in both.
func TestHandlerSet(t *testing.T) {
	var hs handlerSet
	mark := func(n int) handler {
		return func(string, Args, Ack, []json.RawMessage) error { return fmt.Errorf("handler %d", n) }
	}
	check := func(event string, want int) {
		t.Helper()
		h := hs.get(event)
		switch {
		case want < 0 && h != nil:
			t.Fatalf("%s: a handler after its removal", event)
		case want < 0:
		case h == nil:
			t.Fatalf("%s: no handler", event)
		case h.call(event, nil, noAck).Error() != fmt.Sprintf("handler %d", want):
			t.Fatalf("%s: %v, want handler %d", event, h.call(event, nil, noAck), want)
		}
	}
	for n := range 2 * handlerListMax {
		event := fmt.Sprint("e", n)
		hs.set(event, mark(n))
		hs.set(event, mark(100+n)) // replaces
		check(event, 100+n)
		if n == 3 {
			hs.del("e1")
			check("e1", -1)
			check("e2", 102)
			hs.set("e1", mark(1))
		}
		if (hs.m != nil) != (n >= handlerListMax) {
			t.Fatalf("%d handlers: in a map: %v", n+1, hs.m != nil)
		}
	}
	check("e1", 1)
	check("e0", 100)
	hs.del("e0")
	check("e0", -1)
	check("nope", -1)
}
