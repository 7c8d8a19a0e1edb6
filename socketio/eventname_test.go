package socketio

import (
	"encoding/json"
	"testing"
)

func TestEventName(t *testing.T) {
	for _, raw := range []string{
		`"echo"`, `""`, `"é 😀"`, `"a\"b"`, `"tab\tname"`, `"\u00e9"`, "\"bad \xff\"", `12`, `-1.5`,
	} {
		got, err := eventName(json.RawMessage(raw))
		want := raw
		if raw[0] == '"' {
			if err := json.Unmarshal([]byte(raw), &want); err != nil {
				t.Fatal(err)
			}
		}
		if err != nil || got != want {
			t.Errorf("eventName(%s) = %q, %v; want %q", raw, got, err, want)
		}
	}
}
