package rooms

import (
	"slices"
	"testing"
)

// TestSmallSet checks the set against a map through growth past the list, deletions and
// re-additions.
func TestSmallSet(t *testing.T) {
	var s smallSet[int]
	want := map[int]bool{}
	check := func(step string) {
		t.Helper()
		if s.len() != len(want) {
			t.Fatalf("%s: len %d, want %d", step, s.len(), len(want))
		}
		got := s.appendTo(nil)
		slices.Sort(got)
		var exp []int
		for k := range want {
			exp = append(exp, k)
		}
		slices.Sort(exp)
		if !slices.Equal(got, exp) {
			t.Fatalf("%s: members %v, want %v", step, got, exp)
		}
		for k := -1; k < 3*smallSetMax; k++ {
			if s.has(k) != want[k] {
				t.Fatalf("%s: has(%d) = %v", step, k, s.has(k))
			}
		}
	}
	for k := range 2 * smallSetMax {
		if !s.add(k) {
			t.Fatalf("add(%d) of a new member returned false", k)
		}
		if s.add(k) {
			t.Fatalf("add(%d) twice returned true", k)
		}
		want[k] = true
		check("add")
	}
	for k := 0; k < 2*smallSetMax; k += 3 {
		if !s.del(k) || s.del(k) {
			t.Fatalf("del(%d): wrong result", k)
		}
		delete(want, k)
		check("del")
	}
	var small smallSet[string]
	for _, k := range []string{"a", "b", "c"} {
		small.add(k)
	}
	if !small.del("a") || small.has("a") || !small.has("c") || small.len() != 2 || small.del("z") {
		t.Fatalf("list deletion: %v", small.list)
	}
}

type testReceiver struct{ id SocketID }

func (r *testReceiver) ReceiverID() SocketID { return r.id }

// TestMemberSet checks the set of a room's members against a map through growth past the
// list (when it makes its index), deletions, shrinking and re-additions, with each member's
// position in the index matching the list.
func TestMemberSet(t *testing.T) {
	var s memberSet
	want := map[SocketID]bool{}
	id := func(k int) SocketID { return SocketID(string(rune('A' + k))) }
	const most = 8 * smallSetMax
	check := func(step string) {
		t.Helper()
		if s.len() != len(want) {
			t.Fatalf("%s: len %d, want %d", step, s.len(), len(want))
		}
		seen := map[SocketID]bool{}
		for i, mb := range s.list {
			if !want[mb.ID] || seen[mb.ID] {
				t.Fatalf("%s: member %q at %d unexpected or twice", step, mb.ID, i)
			}
			seen[mb.ID] = true
			if r, ok := mb.Receiver.(*testReceiver); !ok || r.id != mb.ID {
				t.Fatalf("%s: member %q has receiver %#v", step, mb.ID, mb.Receiver)
			}
			if s.index != nil && s.index[mb.ID] != int32(i) {
				t.Fatalf("%s: index of %q is %d, want %d", step, mb.ID, s.index[mb.ID], i)
			}
		}
		if s.index != nil && len(s.index) != len(s.list) {
			t.Fatalf("%s: index has %d entries for %d members", step, len(s.index), len(s.list))
		}
		for k := -1; k < most+2; k++ {
			if s.has(id(k)) != want[id(k)] {
				t.Fatalf("%s: has(%q) = %v", step, id(k), s.has(id(k)))
			}
		}
	}
	for k := range most {
		mb := Member{ID: id(k), Receiver: &testReceiver{id(k)}}
		if !s.add(mb) || s.add(mb) {
			t.Fatalf("add(%q): wrong result", mb.ID)
		}
		want[mb.ID] = true
		check("add")
	}
	if s.index == nil {
		t.Fatal("no index with many members")
	}
	for k := 0; k < most; k += 2 {
		if !s.del(id(k)) || s.del(id(k)) {
			t.Fatalf("del(%q): wrong result", id(k))
		}
		delete(want, id(k))
		check("del")
	}
	grown := cap(s.list)
	for k := 1; k < most-2; k += 2 {
		s.del(id(k))
		delete(want, id(k))
		check("del to a few")
	}
	if s.index != nil || cap(s.list) >= grown {
		t.Fatalf("a set of %d kept its index (%v) or its capacity (%d of %d)", s.len(), s.index != nil, cap(s.list), grown)
	}
	for k := range 3 {
		s.add(Member{ID: id(k), Receiver: &testReceiver{id(k)}})
		want[id(k)] = true
		check("re-add")
	}
	fresh := &testReceiver{id(1)}
	s.setReceiver(id(1), fresh)
	if s.list[s.find(id(1))].Receiver != fresh {
		t.Fatal("setReceiver did not replace the receiver")
	}
	var none *memberSet
	none.setReceiver(id(1), fresh) // a room that does not exist: nothing to do
}
