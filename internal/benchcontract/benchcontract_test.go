package benchcontract

import (
	"encoding/json"
	"testing"
)

func TestRoomName(t *testing.T) {
	for _, c := range []struct {
		args []json.RawMessage
		want string
	}{
		{nil, "undefined"},
		{[]json.RawMessage{json.RawMessage(`"r1"`)}, "r1"},
		{[]json.RawMessage{json.RawMessage(`12`), json.RawMessage(`"x"`)}, "12"},
		{[]json.RawMessage{json.RawMessage(`"a\"b"`)}, `a"b`},
	} {
		if got := RoomName(c.args); got != c.want {
			t.Errorf("RoomName(%s) = %q, want %q", c.args, got, c.want)
		}
	}
}
