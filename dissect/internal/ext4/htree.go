package ext4

import (
	"encoding/binary"
	"sort"
)

// flagIndex marks a directory with an htree index.
const flagIndex = 0x1000

// An htree directory keeps its names in ordinary directory blocks and adds
// an index, sorted by name hash, in block 0 (the root, behind fake "." and
// ".." entries) and in interior blocks (behind one empty entry). A lookup
// follows the index to the one leaf block that can hold the name, so a
// directory of 100,000 names costs a few block reads instead of all of
// them.

// indexFrame is one index block on the path to a leaf.
type indexFrame struct {
	entries []byte // count entries of 8 bytes; entry 0's hash is implicitly 0
	count   int
	at      int
}

func (fr *indexFrame) hash(i int) uint32 {
	if i == 0 {
		return 0
	}
	return binary.LittleEndian.Uint32(fr.entries[8*i:])
}

func (fr *indexFrame) block(i int) uint64 {
	return uint64(binary.LittleEndian.Uint32(fr.entries[8*i+4:]))
}

// lookupIndexed finds name through d's htree index. indexed is false when
// d has no index this reader can use (no index, an unknown hash, an index
// that does not hold together): the caller then scans d linearly, which is
// always correct because index blocks read as empty entries. err is set
// only for failures a linear scan would meet too (reads, the budget).
func (f *FS) lookupIndexed(d *Inode, name string) (num uint32, indexed bool, err error) {
	if d.flags&flagIndex == 0 || d.flags&flagInlineData != 0 || f.sb.FeatureCompat&compatDirIndex == 0 {
		return 0, false, nil
	}
	bs := int(f.sb.BlockSize)
	nblocks := (d.size + uint64(bs) - 1) / uint64(bs)
	root, _, err := f.readDirBlock(d, 0)
	if root == nil || err != nil {
		return 0, false, err
	}
	le16 := func(b []byte, o int) int { return int(binary.LittleEndian.Uint16(b[o:])) }
	// "." (12 bytes), then ".." whose record spans the rest of the block,
	// then the root info: reserved word, hash version, info length, levels.
	if le16(root, 4) != 12 || root[6] != 1 || root[12+6] != 2 || binary.LittleEndian.Uint32(root[24:]) != 0 || root[24+5] != 8 {
		return 0, false, nil
	}
	version, levels := int(root[24+4]), int(root[24+6])
	maxLevels := 2
	if f.sb.FeatureIncompat&incompatLargeDir != 0 {
		maxLevels = 3
	}
	if levels >= maxLevels {
		return 0, false, nil
	}
	if version <= hashTEA && f.sb.Flags&flagUnsignedHash != 0 {
		version += hashLegacyUnsigned
	}
	hash, ok := dirHash([]byte(name), version, f.sb.HashSeed)
	if !ok {
		return 0, false, nil
	}
	// frame parses the count/limit header at off and the entries after it.
	frame := func(b []byte, off int) (indexFrame, bool) {
		limit, count := le16(b, off), le16(b, off+2)
		if count == 0 || count > limit || off+8*limit > len(b) {
			return indexFrame{}, false
		}
		fr := indexFrame{entries: b[off : off+8*count], count: count}
		for i := 0; i < count; i++ {
			if fr.block(i) >= nblocks || i > 1 && fr.hash(i) < fr.hash(i-1) {
				return indexFrame{}, false
			}
		}
		// The last entry whose hash is at most ours leads to the name.
		fr.at = sort.Search(count-1, func(i int) bool { return fr.hash(i+1) > hash })
		return fr, true
	}
	frames := make([]indexFrame, 0, levels+1)
	fr, ok := frame(root, 32)
	if !ok {
		return 0, false, nil
	}
	frames = append(frames, fr)
	for len(frames) <= levels {
		if err := f.budget.Entries(1); err != nil {
			return 0, true, err
		}
		top := &frames[len(frames)-1]
		node, _, err := f.readDirBlock(d, top.block(top.at))
		if node == nil || err != nil {
			return 0, false, err
		}
		// An interior node starts with one empty entry spanning the block.
		if binary.LittleEndian.Uint32(node) != 0 || node[6] != 0 {
			return 0, false, nil
		}
		fr, ok := frame(node, 8)
		if !ok {
			return 0, false, nil
		}
		frames = append(frames, fr)
	}
	for {
		bottom := &frames[len(frames)-1]
		leaf, at, err := f.readDirBlock(d, bottom.block(bottom.at))
		if leaf == nil || err != nil {
			return 0, false, err
		}
		var found uint32
		if _, err := f.parseEntries(d, leaf, at, func(e dirent) bool {
			if e.name == name {
				found = e.inode
				return false
			}
			return true
		}); err != nil {
			return 0, true, err
		}
		if found != 0 {
			return found, true, nil
		}
		// Names whose hashes collide may continue in the next leaf: its
		// index entry then carries our hash with the low bit set.
		if bottom.at+1 >= bottom.count {
			// The next leaf hangs under the next interior node: its
			// entry in the first ancestor with one more says whether
			// the run could go on. If it could, that rare case is
			// left to the linear scan.
			for i := len(frames) - 2; i >= 0; i-- {
				if up := &frames[i]; up.at+1 < up.count {
					return 0, up.hash(up.at+1)&^1 != hash, nil
				}
			}
			return 0, true, nil
		}
		if bottom.hash(bottom.at+1)&^1 != hash {
			return 0, true, nil
		}
		bottom.at++
		if err := f.budget.Entries(1); err != nil {
			return 0, true, err
		}
	}
}
