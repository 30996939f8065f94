// Package slot computes Redis Cluster hash slots and groups keys by slot.
//
// Redis Cluster hashes a key to one of 16384 slots with CRC16 (XMODEM) of the
// key, or of its hash tag: the bytes between the first '{' and the first '}'
// after it, when that span is not empty.
package slot

// Count is the number of hash slots in a Redis Cluster.
const Count = 16384

var crcTable = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()

func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^s[i]]
	}
	return crc
}

// Tag returns the part of key that Redis Cluster hashes: its hash tag when it
// has a non-empty one, the whole key otherwise.
func Tag(key string) string {
	for i := 0; i < len(key); i++ {
		if key[i] != '{' {
			continue
		}
		for j := i + 1; j < len(key); j++ {
			if key[j] == '}' {
				if j == i+1 {
					return key
				}
				return key[i+1 : j]
			}
		}
		return key
	}
	return key
}

// Of returns the hash slot of key.
func Of(key string) int {
	return int(crc16(Tag(key)) % Count)
}

// Group is the positions, in the caller's slice, of keys that share a slot.
type Group struct {
	Slot    int
	Indexes []int
}

// GroupKeys partitions keys by slot, keeping the order in which slots first
// appear and, within a slot, the order of the keys.
func GroupKeys(keys []string) []Group {
	pos := make(map[int]int, 8)
	var groups []Group
	for i, k := range keys {
		s := Of(k)
		g, ok := pos[s]
		if !ok {
			g = len(groups)
			pos[s] = g
			groups = append(groups, Group{Slot: s})
		}
		groups[g].Indexes = append(groups[g].Indexes, i)
	}
	return groups
}
