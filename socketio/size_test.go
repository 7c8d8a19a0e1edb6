package socketio

import (
	"reflect"
	"testing"
)

// TestSocketSize keeps the Socket within the 128-byte allocation class: a server keeps one per
// connected client and namespace, most of them idle, and the rarer features' state belongs in
// socketRare.
func TestSocketSize(t *testing.T) {
	if n := reflect.TypeFor[Socket]().Size(); n > 128 {
		t.Fatalf("a Socket takes %d bytes, more than 128", n)
	}
}

// TestClientSize keeps the client, one per connection, within the 144-byte allocation class.
func TestClientSize(t *testing.T) {
	if n := reflect.TypeFor[client]().Size(); n > 144 {
		t.Fatalf("a client takes %d bytes, more than 144", n)
	}
}
