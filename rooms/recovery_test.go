package rooms_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/parser"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
)

func event(data string) *parser.Packet {
	return &parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(data)}
}

func TestRecoveryReplay(t *testing.T) {
	n := &nsp{delivered: map[rooms.SocketID]int{}}
	m := rooms.NewMemoryWithRecovery(n, rooms.RecoveryOptions{})
	n.adapter = m
	m.AddAll("a", "a", "r")
	// The first broadcast gives the client its offset: the last argument of the event.
	first := captureOffset(t, m, n, `["msg",1]`, rooms.Selection{Rooms: []rooms.Room{"r"}})
	m.PersistSession(sockets.Session{SID: "a", PID: "p", Rooms: []rooms.Room{"a", "r"}})
	m.DelAll("a")
	_ = m.Broadcast(event(`["msg",2]`), rooms.Selection{Rooms: []rooms.Room{"r"}})
	_ = m.Broadcast(event(`["msg",3]`), rooms.Selection{Rooms: []rooms.Room{"other"}})                                // not for a
	_ = m.Broadcast(event(`["msg",4]`), rooms.Selection{Except: []rooms.Room{"r"}})                                   // a excluded
	_ = m.Broadcast(event(`["msg",5]`), rooms.Selection{})                                                            // everyone
	_ = m.Broadcast(event(`["msg",6]`), rooms.Selection{Flags: rooms.Flags{Volatile: true}})                          // not logged
	_ = m.Broadcast(&parser.Packet{Type: parser.Event, Data: []byte(`["x"]`), HasID: true, ID: 3}, rooms.Selection{}) // acks are not logged
	s, missed, ok := m.RestoreSession("p", first)
	if !ok || s.SID != "a" {
		t.Fatalf("restore: %v %v", s, ok)
	}
	var got []string
	for _, p := range missed {
		got = append(got, string(p.Data[:9]))
	}
	if fmt.Sprint(got) != `[["msg",2, ["msg",5,]` {
		t.Fatalf("missed %v", got)
	}
	if _, _, ok := m.RestoreSession("p", first); ok {
		t.Fatal("a session was restored twice")
	}
	if _, _, ok := m.RestoreSession("nope", first); ok {
		t.Fatal("an unknown session was restored")
	}
}

func captureOffset(t *testing.T, m *rooms.Memory, n *nsp, data string, sel rooms.Selection) string {
	t.Helper()
	var offset string
	n.onDeliver = func(p *parser.Packet) {
		s := string(p.Data)
		i := len(s) - 3
		for i > 0 && s[i] != '"' {
			i--
		}
		offset = s[i+1 : len(s)-2]
	}
	_ = m.Broadcast(event(data), sel)
	n.onDeliver = nil
	if offset == "" {
		t.Fatal("no offset appended")
	}
	return offset
}

func TestRecoveryBudget(t *testing.T) {
	// Thousands of disconnected sessions: memory stays within the budget, and expired
	// sessions and broadcasts are freed.
	n := &nsp{delivered: map[rooms.SocketID]int{}}
	m := rooms.NewMemoryWithRecovery(n, rooms.RecoveryOptions{
		MaxDisconnectionDuration: 300 * time.Millisecond, MaxSessions: 1000, MaxLogBytes: 64 << 10,
	})
	n.adapter = m
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 20000 {
		m.PersistSession(sockets.Session{SID: rooms.SocketID(fmt.Sprint("s", i)), PID: fmt.Sprint("p", i), Rooms: []rooms.Room{"r"}})
		_ = m.Broadcast(event(fmt.Sprintf(`["msg",%d,"%0100d"]`, i, i)), rooms.Selection{Rooms: []rooms.Room{"r"}})
	}
	st := m.RecoveryStats()
	if st.Sessions > 1000 || st.LogBytes > 64<<10 {
		t.Fatalf("over budget: %+v", st)
	}
	if st.Sessions == 0 || st.LogPackets == 0 {
		t.Fatalf("nothing kept: %+v", st)
	}
	// The oldest sessions were evicted, the newest are kept.
	if _, _, ok := m.RestoreSession("p0", "1"); ok {
		t.Fatal("an evicted session was restored")
	}
	time.Sleep(400 * time.Millisecond)
	if st := m.RecoveryStats(); st.Sessions != 0 || st.LogPackets != 0 || st.LogBytes != 0 {
		t.Fatalf("expired state kept: %+v", st)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 4<<20 {
		t.Fatalf("heap grew by %d bytes after expiry", grown)
	}
}
