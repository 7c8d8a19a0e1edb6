package socketio

import (
	"encoding/json"
	"testing"
)

// TestConnectPayload compares the CONNECT answer's payload with what encoding/json makes of
// the same IDs, for the IDs this package makes and for text that JSON must escape.
func TestConnectPayload(t *testing.T) {
	ids := []string{"", newID(), newID(), "a-b_C9", `q"x`, `back\slash`, "<tag>&", "é", "\x01", "sp ace"}
	for _, sid := range ids[1:] {
		for _, pid := range ids {
			want, err := json.Marshal(struct {
				SID string `json:"sid"`
				PID string `json:"pid,omitempty"`
			}{sid, pid})
			if err != nil {
				t.Fatal(err)
			}
			if got := connectPayload(sid, pid); string(got) != string(want) {
				t.Errorf("connectPayload(%q, %q) = %s, want %s", sid, pid, got, want)
			}
		}
	}
}
