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
