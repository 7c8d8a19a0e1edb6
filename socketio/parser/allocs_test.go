package parser_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

// TestArgSize keeps an Arg, which a server makes per argument of every event and
// acknowledgement, at a byte slice and a pointer: the binary values are kept out of line.
func TestArgSize(t *testing.T) {
	if n := reflect.TypeFor[parser.Arg]().Size(); n > 32 {
		t.Fatalf("an Arg takes %d bytes, more than 32", n)
	}
}

// TestEchoRequestAllocs counts the allocations of the parser's share of an echo request and
// its acknowledgement: the request decoded into a packet of the caller's, its arguments split
// into room of the caller's, and the acknowledgement's frame, which is the one allocation.
func TestEchoRequestAllocs(t *testing.T) {
	frame := []byte(`212["echo","e-17-000000000042-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]`)
	var d parser.Decoder
	var p parser.Packet
	var room [2]parser.Arg
	var args parser.Args
	var text []byte
	allocs := leastAllocs(5, 200, func() {
		complete, err := d.DecodeTextTo(frame, &p)
		if err != nil || !complete {
			t.Fatalf("DecodeTextTo = %v, %v", complete, err)
		}
		if args, err = parser.AppendArgs(room[:0], p.Data, p.Attachments); err != nil {
			t.Fatal(err)
		}
		if text, _, err = parser.EncodeAck(p.Namespace, p.ID, args[1].JSON()); err != nil {
			t.Fatal(err)
		}
	})
	if want := `312["e-17-000000000042-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]`; string(text) != want {
		t.Fatalf("ack %s, want %s", text, want)
	}
	if &args[0] != &room[0] {
		t.Fatal("AppendArgs did not use the room it was given")
	}
	t.Logf("%v allocations per echo request", allocs)
	// The ack's frame, and the json.RawMessage boxed into EncodeAck's ...any. Under the race
	// detector the encoder's pool drops encoders at random, so the count is checked by the
	// run without it that make test adds (Makefile, target unit).
	if allocs > 2 && !raceEnabled {
		t.Fatalf("%v allocations per echo request, want at most 2", allocs)
	}
}

// TestAppendArgs checks that AppendArgs appends what SplitArgs returns, and leaves the list
// it was given as it was on error.
func TestAppendArgs(t *testing.T) {
	head := parser.Args{parser.BinaryArg([]byte{1})}
	got, err := parser.AppendArgs(head, []byte(`["a",{"_placeholder":true,"num":0},3]`), [][]byte{{7}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || !got[0].IsBinary() || got[1].String() != `"a"` || got[2].Bytes()[0] != 7 || got[3].String() != "3" {
		t.Fatalf("AppendArgs = %v", got)
	}
	bad, err := parser.AppendArgs(head, []byte(`["a",{"_placeholder":true,"num":1}]`), [][]byte{{7}})
	if err == nil || len(bad) != 1 || !bad[0].IsBinary() {
		t.Fatalf("AppendArgs with a bad placeholder = %v, %v", bad, err)
	}
	empty, err := parser.SplitArgs([]byte(`[]`), nil)
	if err != nil || empty == nil || len(empty) != 0 {
		t.Fatalf("SplitArgs([]) = %#v, %v; want an empty list", empty, err)
	}
}

// leastAllocs is the least of tries testing.AllocsPerRun figures of f: the goroutines of other
// tests, and a collection that empties a pool, can only add allocations to one of them.
func leastAllocs(tries, runs int, f func()) float64 {
	least := math.Inf(1)
	for range tries {
		least = min(least, testing.AllocsPerRun(runs, f))
	}
	return least
}
