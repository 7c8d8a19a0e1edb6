package main

import (
	"strconv"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/cmd/siobench/internal/wire"
)

func bcast(k int64) wire.Packet {
	ts := strconv.FormatInt(time.Now().UnixNano(), 10)
	data := `["bcast","` + strconv.FormatInt(k, 10) + ":" + ts + `"]`
	return wire.Packet{Type: wire.SIOEvent, Data: []byte(data)}
}

// TestMemberChecks feeds one member broadcasts of its room out of order, twice, and of
// another room: each is counted as it should be.
func TestMemberChecks(t *testing.T) {
	w := &worker{cfg: workerConfig{Rooms: 3}, joinAck: []chan struct{}{make(chan struct{}, 1)}}
	m := &member{room: 1, next: 1}
	for _, k := range []int64{1, 4, 4, 10, 2} {
		w.onPacket(0, m, bcast(k))
	}
	w.onPacket(0, m, wire.Packet{Type: wire.SIOEvent, Data: []byte(`["bcast","x"]`)})
	if got := w.deliv.Load(); got != 3 {
		t.Errorf("deliveries %d, want 3 (1, 4, 10)", got)
	}
	if got := w.dups.Load(); got != 1 {
		t.Errorf("duplicates %d, want 1", got)
	}
	if got := w.lost.Load(); got != 1 {
		t.Errorf("lost %d, want 1 (7)", got)
	}
	if got := w.wrong.Load(); got != 2 {
		t.Errorf("wrong %d, want 2 (room 2's broadcast, a bad payload)", got)
	}
	if m.next != 13 || len(w.lat) != 3 {
		t.Errorf("next %d, %d latencies; want 13, 3", m.next, len(w.lat))
	}
}

func TestQuantile(t *testing.T) {
	us := []int64{5000, 1000, 3000, 2000, 4000}
	if got := quantileMS(us, 0.5); got != 3 {
		t.Errorf("p50 %v ms, want 3", got)
	}
	if got := quantileMS(us, 0.99); got != 5 {
		t.Errorf("p99 %v ms, want 5", got)
	}
	if got := quantileMS(nil, 0.5); got != 0 {
		t.Errorf("p50 of nothing %v, want 0", got)
	}
}
