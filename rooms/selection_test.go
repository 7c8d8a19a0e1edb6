package rooms_test

import (
	"testing"

	"github.com/echo-socketio/echo-socketio/rooms"
)

func TestSelectionSelects(t *testing.T) {
	for _, c := range []struct {
		rooms, except, socket []rooms.Room
		want                  bool
	}{
		{nil, nil, nil, true},
		{nil, nil, []rooms.Room{"a"}, true},
		{[]rooms.Room{"a"}, nil, []rooms.Room{"b"}, false},
		{[]rooms.Room{"a", "b"}, nil, []rooms.Room{"c", "b"}, true},
		{nil, []rooms.Room{"x"}, []rooms.Room{"a", "x"}, false},
		{[]rooms.Room{"a"}, []rooms.Room{"x"}, []rooms.Room{"a", "x"}, false},
		{[]rooms.Room{"a"}, []rooms.Room{"x"}, []rooms.Room{"x", "a"}, false},
		{[]rooms.Room{"a"}, []rooms.Room{"x"}, []rooms.Room{"a"}, true},
	} {
		sel := rooms.Selection{Rooms: c.rooms, Except: c.except}
		if got := sel.Selects(c.socket); got != c.want {
			t.Errorf("Selection{Rooms: %v, Except: %v}.Selects(%v) = %v, want %v", c.rooms, c.except, c.socket, got, c.want)
		}
	}
}
