package bench

import (
	"context"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

// TestDeliverChecks feeds one member's deliveries to the broadcast check:
// in order, out of order, repeated, altered, and in another encoding.
func TestDeliverChecks(t *testing.T) {
	const k = 4
	expected := make([]string, k)
	wantData := make([][]byte, k)
	var buf []byte
	for s := range expected {
		buf = makePayload(buf, 'b', 0, int64(s), 32)
		expected[s] = string(buf)
		wantData[s] = wire.AppendEvent(nil, wire.NoID, "bcast", expected[s])[1:]
	}
	event := func(s int) wire.Packet {
		return wire.Packet{Type: wire.SIOEvent, ID: wire.NoID, Data: append([]byte(nil), wantData[s]...)}
	}
	altered := event(1)
	altered.Data[len(altered.Data)-3] = 'y'
	escaped := wire.Packet{Type: wire.SIOEvent, ID: wire.NoID, Data: []byte(`["bcast","\u0062` + expected[1][1:] + `"]`)}
	tests := []struct {
		name             string
		seq              []wire.Packet
		lost, dup, wrong int64
		delivered        []int64 // deliveries counted per broadcast
	}{
		{"ok, in order", []wire.Packet{event(0), event(1), event(2)}, 0, 0, 0, []int64{1, 1, 1, 0}},
		{"ok, another encoding", []wire.Packet{event(0), escaped}, 0, 0, 0, []int64{1, 1, 0, 0}},
		{"nok, one missing", []wire.Packet{event(0), event(2)}, 1, 0, 0, []int64{1, 0, 1, 0}},
		{"nok, out of order", []wire.Packet{event(0), event(2), event(1)}, 1, 1, 0, []int64{1, 0, 1, 0}},
		{"nok, repeated", []wire.Packet{event(0), event(0)}, 0, 1, 0, []int64{1, 0, 0, 0}},
		{"nok, altered", []wire.Packet{event(0), altered}, 0, 0, 1, []int64{1, 0, 0, 0}},
		{"nok, not a known broadcast", []wire.Packet{{Type: wire.SIOEvent, Data: []byte(`["bcast","b0.9.xxxxxxxxxxxxxxxxxxxxxxxxxx"]`)}}, 0, 0, 1, []int64{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := &runner{cfg: Config{N: 1, Timeout: time.Second}, chk: &checker{cancel: cancel}}
			slots := make([]bcastSlot, k)
			for s := range slots {
				slots[s].remaining.Store(1)
				slots[s].done = make(chan struct{})
			}
			last := int64(-1)
			for _, p := range tt.seq {
				r.deliver(0, p, expected, wantData, slots, &last)
			}
			if r.chk.lost.Load() != tt.lost || r.chk.dup.Load() != tt.dup || r.chk.wrong.Load() != tt.wrong {
				t.Errorf("lost %d, dup %d, wrong %d; want %d, %d, %d (%v)", r.chk.lost.Load(), r.chk.dup.Load(),
					r.chk.wrong.Load(), tt.lost, tt.dup, tt.wrong, r.chk.messages())
			}
			for s := range slots {
				if got := 1 - slots[s].remaining.Load(); got != tt.delivered[s] {
					t.Errorf("broadcast %d counted %d deliveries, want %d", s, got, tt.delivered[s])
				}
			}
		})
	}
}

// TestDeliverAllocatesNothing checks that a delivery in the usual encoding is
// checked and counted without allocating.
func TestDeliverAllocatesNothing(t *testing.T) {
	const k = 1000
	expected := make([]string, k)
	wantData := make([][]byte, k)
	var buf []byte
	for s := range expected {
		buf = makePayload(buf, 'b', 0, int64(s), 64)
		expected[s] = string(buf)
		wantData[s] = wire.AppendEvent(nil, wire.NoID, "bcast", expected[s])[1:]
	}
	_, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &runner{cfg: Config{N: 1}, chk: &checker{cancel: cancel}}
	slots := make([]bcastSlot, k)
	for s := range slots {
		slots[s].remaining.Store(1 << 40)
		slots[s].done = make(chan struct{})
	}
	p := wire.Packet{Type: wire.SIOEvent, ID: wire.NoID, Data: append([]byte(nil), wantData[5]...)}
	allocs := testing.AllocsPerRun(100, func() {
		last := int64(4)
		r.deliver(0, p, expected, wantData, slots, &last)
	})
	if allocs != 0 || r.chk.failed() {
		t.Errorf("%v allocations per delivery (checker: %v)", allocs, r.chk.messages())
	}
}
