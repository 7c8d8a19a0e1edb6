package rooms

// smallSetMax is the most members a smallSet keeps in its list; beyond, they move to a map.
const smallSetMax = 8

// smallSet is a set that keeps a few members in a slice and many in a map. Most sets of the
// in-memory adapter are small (a socket's own room has one member, a socket is in a few
// rooms), and a slice of one or two costs a fraction of a map's smallest allocation.
type smallSet[K comparable] struct {
	list []K            // the members while there are at most smallSetMax, else nil
	m    map[K]struct{} // the members once there were more, else nil
}

// has reports whether k is a member.
func (s *smallSet[K]) has(k K) bool {
	if s.m != nil {
		_, ok := s.m[k]
		return ok
	}
	for _, x := range s.list {
		if x == k {
			return true
		}
	}
	return false
}

// add puts k in the set and reports whether it was missing.
func (s *smallSet[K]) add(k K) bool {
	if s.has(k) {
		return false
	}
	if s.m != nil {
		s.m[k] = struct{}{}
		return true
	}
	if len(s.list) < smallSetMax {
		s.list = append(s.list, k)
		return true
	}
	s.m = make(map[K]struct{}, 2*smallSetMax)
	for _, x := range s.list {
		s.m[x] = struct{}{}
	}
	s.m[k] = struct{}{}
	s.list = nil
	return true
}

// del takes k out of the set and reports whether it was a member.
func (s *smallSet[K]) del(k K) bool {
	if s.m != nil {
		if _, ok := s.m[k]; !ok {
			return false
		}
		delete(s.m, k)
		return true
	}
	for i, x := range s.list {
		if x == k {
			last := len(s.list) - 1
			s.list[i] = s.list[last]
			var zero K
			s.list[last] = zero
			s.list = s.list[:last]
			return true
		}
	}
	return false
}

// len returns the number of members.
func (s *smallSet[K]) len() int {
	if s.m != nil {
		return len(s.m)
	}
	return len(s.list)
}

// appendTo appends the members to out.
func (s *smallSet[K]) appendTo(out []K) []K {
	if s.m != nil {
		for k := range s.m {
			out = append(out, k)
		}
		return out
	}
	return append(out, s.list...)
}
