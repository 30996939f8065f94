package l1mem

// The shard's hash index: open addressing with linear probing over 8-byte
// slots. A slot holds the upper 32 bits of the key's hash (which also pick
// its home position) and the entry's slab index plus one; 0 is empty.
// Compared with a Go map it hashes each key once (the cache's own hash
// chooses the shard, the slot and the epoch slot), stores no copy of the
// key, and uses a third of the memory. Deletion shifts later slots back,
// so there are no tombstones. All writes happen under the exclusive lock;
// reads happen in read sections.

const (
	indexMinSize = 8
	// The index grows when it would be more than 3/4 full: linear probing
	// slows down sharply for misses beyond that.
	indexLoadNum, indexLoadDen = 3, 4
)

func slotOf(h uint64, i int32) uint64 { return h&^(1<<32-1) | uint64(uint32(i)+1) }

// find returns the slab index of key, or -1.
func (s *shard[K, V]) find(key K, h uint64) int32 {
	if len(s.index) == 0 {
		return -1
	}
	mask := uint64(len(s.index) - 1)
	tag := h >> 32
	for p := tag & mask; ; p = (p + 1) & mask {
		v := s.index[p]
		if v == 0 {
			return -1
		}
		if v>>32 == tag {
			i := int32(uint32(v)) - 1
			if s.entries[i].key == key {
				return i
			}
		}
	}
}

// addIndex records that key (hash h, known absent) lives in slot i.
func (s *shard[K, V]) addIndex(h uint64, i int32) {
	if (s.count+1)*indexLoadDen > len(s.index)*indexLoadNum {
		s.growIndex()
	}
	s.place(slotOf(h, i))
}

func (s *shard[K, V]) place(v uint64) {
	mask := uint64(len(s.index) - 1)
	p := (v >> 32) & mask
	for s.index[p] != 0 {
		p = (p + 1) & mask
	}
	s.index[p] = v
}

func (s *shard[K, V]) growIndex() {
	old := s.index
	s.index = make([]uint64, max(indexMinSize, 2*len(old)))
	for _, v := range old {
		if v != 0 {
			s.place(v)
		}
	}
}

// removeIndex forgets slab slot i, whose key's hash has upper half tag.
func (s *shard[K, V]) removeIndex(tag uint32, i int32) {
	mask := uint64(len(s.index) - 1)
	want := slotOf(uint64(tag)<<32, i)
	p := uint64(tag) & mask
	for s.index[p] != want {
		if s.index[p] == 0 {
			return // not indexed; cannot happen
		}
		p = (p + 1) & mask
	}
	// Backward-shift deletion: pull later members of the probe run into
	// the hole when their home position allows it.
	for {
		s.index[p] = 0
		j := p
		for {
			j = (j + 1) & mask
			v := s.index[j]
			if v == 0 {
				return
			}
			home := (v >> 32) & mask
			// v may move to p if p lies cyclically in [home, j).
			if (j > p && (home <= p || home > j)) || (j < p && home <= p && home > j) {
				s.index[p] = v
				p = j
				break
			}
		}
	}
}
