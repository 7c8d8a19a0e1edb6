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

// memberSet is the set of the members of a room: their IDs with their Receivers, side by side
// in one slice, so that a broadcast reads a room's members in one sequential pass. A large set
// keeps the position of each member in a map, for the lookups of joins and leaves.
type memberSet struct {
	list  []Member
	index map[SocketID]int32 // the position of each member in list, once it had more than smallSetMax
}

// find returns the position of socket id in the list, or -1.
func (s *memberSet) find(id SocketID) int {
	if s.index != nil {
		if i, ok := s.index[id]; ok {
			return int(i)
		}
		return -1
	}
	for i := range s.list {
		if s.list[i].ID == id {
			return i
		}
	}
	return -1
}

// has reports whether socket id is a member.
func (s *memberSet) has(id SocketID) bool { return s.find(id) >= 0 }

// add puts mb in the set and reports whether it was missing.
func (s *memberSet) add(mb Member) bool {
	if s.has(mb.ID) {
		return false
	}
	s.list = append(s.list, mb)
	switch {
	case s.index != nil:
		s.index[mb.ID] = int32(len(s.list) - 1)
	case len(s.list) > smallSetMax:
		s.index = make(map[SocketID]int32, 2*len(s.list))
		for i := range s.list {
			s.index[s.list[i].ID] = int32(i)
		}
	}
	return true
}

// del takes socket id out of the set and reports whether it was a member. The last member
// takes its place.
func (s *memberSet) del(id SocketID) bool {
	i := s.find(id)
	if i < 0 {
		return false
	}
	last := len(s.list) - 1
	if i != last {
		s.list[i] = s.list[last]
		if s.index != nil {
			s.index[s.list[i].ID] = int32(i)
		}
	}
	s.list[last] = Member{}
	s.list = s.list[:last]
	if s.index != nil {
		delete(s.index, id)
		if len(s.list) <= smallSetMax/2 {
			s.index = nil // small again: a scan of the list is as quick
		}
	}
	if cap(s.list) > 4*smallSetMax && len(s.list) < cap(s.list)/4 {
		s.list = append([]Member(nil), s.list...) // give back what the room no longer needs
	}
	return true
}

// len returns the number of members.
func (s *memberSet) len() int { return len(s.list) }

// setReceiver sets the Receiver of member id, if id is a member.
func (s *memberSet) setReceiver(id SocketID, rcv Receiver) {
	if s == nil {
		return
	}
	if i := s.find(id); i >= 0 {
		s.list[i].Receiver = rcv
	}
}
