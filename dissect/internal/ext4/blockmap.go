package ext4

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

const (
	extentMagic    = 0xF30A
	maxExtentDepth = 5
	// Extents longer than this are unwritten: allocated, read as zeros.
	maxInitExtent = 32768
)

// run is a stretch of a file's logical blocks: on disk from phys, or a
// hole (read as zeros) when hole is set.
type run struct {
	phys  uint64
	count uint64
	hole  bool
}

// mapBlock finds where logical block lblk of ino is stored, and how many
// following blocks are stored right after it.
func (f *FS) mapBlock(ino *Inode, lblk uint64) (run, error) {
	if ino.flags&flagExtents != 0 {
		return f.mapExtent(ino, lblk)
	}
	return f.mapIndirect(ino, lblk)
}

// mapExtent walks the extent tree from the root in i_block.
func (f *FS) mapExtent(ino *Inode, lblk uint64) (run, error) {
	// Extents address 32-bit logical blocks: past them a file is a hole.
	// Below, end is where the subtree being walked stops covering the
	// file: the next index entry's start, at every level on the way down.
	// A hole at the end of a node lasts only that far, since the next
	// subtree may start with data.
	end := uint64(1) << 32
	if lblk >= end {
		return run{hole: true, count: end}, nil
	}
	node := ino.blocks[:]
	where := ino.pos + iBlock
	wantDepth := -1
	for level := 0; ; level++ {
		if len(node) < 12 || binary.LittleEndian.Uint16(node) != extentMagic {
			return run{}, corrupt(where, "inode %d: bad extent header", ino.num)
		}
		entries := int(binary.LittleEndian.Uint16(node[2:]))
		depth := int(binary.LittleEndian.Uint16(node[6:]))
		if 12+12*entries > len(node) || depth > maxExtentDepth || (wantDepth >= 0 && depth != wantDepth) || level > maxExtentDepth {
			return run{}, corrupt(where, "inode %d: extent node of %d entries at depth %d", ino.num, entries, depth)
		}
		// Entries are sorted by logical block: a node costs one visit,
		// however many entries it holds.
		if err := f.budget.Entries(1); err != nil {
			return run{}, err
		}
		entry := func(i int) []byte { return node[12+12*i:] }
		// The entry covering lblk is the last one starting at or before it.
		i := sort.Search(entries, func(i int) bool { return uint64(binary.LittleEndian.Uint32(entry(i))) > lblk }) - 1
		start := func(i int) uint64 { return uint64(binary.LittleEndian.Uint32(entry(i))) }
		if i+1 < entries {
			// The search put entry i+1 past lblk.
			end = min(end, start(i+1))
		}
		if depth == 0 {
			return f.leafRun(ino, node[12:12+12*entries], i, lblk, end, where)
		}
		if i < 0 {
			if entries > 0 {
				end = min(end, start(0))
			}
			return run{hole: true, count: end - lblk}, nil
		}
		e := entry(i)
		child := uint64(binary.LittleEndian.Uint32(e[4:])) | uint64(binary.LittleEndian.Uint16(e[8:]))<<32
		if child >= f.sb.BlocksCount {
			return run{}, corrupt(where+int64(12+12*i), "inode %d: extent node at block %d of %d", ino.num, child, f.sb.BlocksCount)
		}
		buf, err := f.block(child, fmt.Sprintf("inode %d: extent node", ino.num))
		if err != nil {
			return run{}, err
		}
		where = int64(child) * int64(f.sb.BlockSize)
		node, wantDepth = buf, depth-1
	}
}

// leafRun maps lblk through extent i of a leaf (the last starting at or
// before lblk, -1 if none); outside it, lblk is in a hole that lasts until
// the next extent, or until end, where the leaf's part of the file ends.
func (f *FS) leafRun(ino *Inode, leaf []byte, i int, lblk, end uint64, where int64) (run, error) {
	n := len(leaf) / 12
	holeUntilNext := func(next int) (run, error) {
		if next >= n {
			return run{hole: true, count: end - lblk}, nil
		}
		start := uint64(binary.LittleEndian.Uint32(leaf[12*next:]))
		if start <= lblk {
			return run{}, corrupt(where, "inode %d: extents out of order", ino.num)
		}
		return run{hole: true, count: min(start, end) - lblk}, nil
	}
	if i < 0 {
		return holeUntilNext(0)
	}
	e := leaf[12*i:]
	start := uint64(binary.LittleEndian.Uint32(e))
	length := uint64(binary.LittleEndian.Uint16(e[4:]))
	phys := uint64(binary.LittleEndian.Uint16(e[6:]))<<32 | uint64(binary.LittleEndian.Uint32(e[8:]))
	unwritten := length > maxInitExtent
	if unwritten {
		length -= maxInitExtent
	}
	if lblk >= start+length {
		return holeUntilNext(i + 1)
	}
	if unwritten {
		return run{hole: true, count: start + length - lblk}, nil
	}
	if phys+length > f.sb.BlocksCount || phys+length < phys {
		return run{}, corrupt(where, "inode %d: extent at block %d of %d blocks beyond the file system", ino.num, phys, length)
	}
	return run{phys: phys + lblk - start, count: start + length - lblk}, nil
}

// mapIndirect follows ext2/ext3 block maps: twelve direct pointers, then
// single, double and triple indirect blocks. A zero pointer is a hole.
func (f *FS) mapIndirect(ino *Inode, lblk uint64) (run, error) {
	// at is where the pointer being followed is stored, for errors.
	ptr := func(i int) (uint64, int64) {
		return uint64(binary.LittleEndian.Uint32(ino.blocks[4*i:])), ino.pos + iBlock + int64(4*i)
	}
	per := uint64(f.sb.BlockSize / 4)
	var root int
	var path []uint64 // index within each indirect level
	switch {
	case lblk < 12:
		block, at := ptr(int(lblk))
		return f.physRun(ino, block, at)
	case lblk-12 < per:
		root, path = 12, []uint64{lblk - 12}
	case lblk-12-per < per*per:
		l := lblk - 12 - per
		root, path = 13, []uint64{l / per, l % per}
	case lblk-12-per-per*per < per*per*per:
		l := lblk - 12 - per - per*per
		root, path = 14, []uint64{l / (per * per), (l / per) % per, l % per}
	default:
		return run{hole: true, count: 1}, nil
	}
	block, at := ptr(root)
	for _, idx := range path {
		if block == 0 {
			return run{hole: true, count: 1}, nil
		}
		if block >= f.sb.BlocksCount {
			return run{}, corrupt(at, "inode %d: indirect block %d of %d", ino.num, block, f.sb.BlocksCount)
		}
		if err := f.budget.Entries(1); err != nil {
			return run{}, err
		}
		at = int64(block*uint64(f.sb.BlockSize) + 4*idx)
		var b [4]byte
		if err := vfs.ReadFull(f.r, b[:], at, "ext4", fmt.Sprintf("inode %d: indirect block", ino.num)); err != nil {
			return run{}, err
		}
		block = uint64(binary.LittleEndian.Uint32(b[:]))
	}
	return f.physRun(ino, block, at)
}

// physRun is the one block a block-map pointer, stored at byte at, names.
func (f *FS) physRun(ino *Inode, block uint64, at int64) (run, error) {
	if block == 0 {
		return run{hole: true, count: 1}, nil
	}
	if block >= f.sb.BlocksCount {
		return run{}, corrupt(at, "inode %d: data block %d of %d", ino.num, block, f.sb.BlocksCount)
	}
	return run{phys: block, count: 1}, nil
}
