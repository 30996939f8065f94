package l1mem

// EvictReason says why an entry left the cache; it is passed to
// [Options.OnEvict].
type EvictReason uint8

const (
	// ReasonCapacity: the shard was full and the eviction policy chose this
	// entry (or, under [EvictTinyLFU], refused to admit it).
	ReasonCapacity EvictReason = iota + 1
	// ReasonExpired: the entry's TTL passed; it was found by a read or by the
	// background sweep.
	ReasonExpired
	// ReasonDeleted: [Cache.Delete] removed it.
	ReasonDeleted
	// ReasonReplaced: a Set wrote a new value over it. The callback receives
	// the old value.
	ReasonReplaced
	// ReasonCleared: [Cache.Clear] removed it.
	ReasonCleared
)

// String returns the reason in lower case, e.g. "capacity".
func (r EvictReason) String() string {
	switch r {
	case ReasonCapacity:
		return "capacity"
	case ReasonExpired:
		return "expired"
	case ReasonDeleted:
		return "deleted"
	case ReasonReplaced:
		return "replaced"
	case ReasonCleared:
		return "cleared"
	}
	return "unknown"
}
