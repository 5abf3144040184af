package ext4

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"time"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// Inode flags this reader acts on.
const (
	flagEncrypt    = 0x800
	flagExtents    = 0x80000
	flagInlineData = 0x10000000
	flagCasefold   = 0x40000000
)

const rootInode = 2

// Inode is one file, directory, symlink or special file. It implements
// vfs.Node.
type Inode struct {
	num   uint32
	pos   int64 // byte offset of the on-disk inode, for errors
	mode  fs.FileMode
	size  uint64
	mtime uint32
	flags uint32
	// fast is set for a symlink whose target is stored in i_block: one
	// that owns no blocks besides an extended attribute block.
	fast      bool
	blocks    [60]byte // i_block: extent root, block map, or inline bytes
	inline    []byte   // the system.data extended attribute of inline data
	inlinePos int64    // where inline starts in the image
	// xattrBlock is the block of extended attributes beyond the
	// in-inode area, 0 for none.
	xattrBlock uint64
}

// iBlock is where i_block starts in an on-disk inode.
const iBlock = 0x28

func (i *Inode) Mode() fs.FileMode  { return i.mode }
func (i *Inode) Size() int64        { return int64(i.size) }
func (i *Inode) ModTime() time.Time { return time.Unix(int64(i.mtime), 0) }

// groupInodeTable returns the first block of a group's inode table.
func (f *FS) groupInodeTable(group uint64) (uint64, error) {
	f.mu.Lock()
	tbl, ok := f.inodeTables[group]
	f.mu.Unlock()
	if ok {
		return tbl, nil
	}
	off := f.descOffset(group)
	desc := make([]byte, f.sb.DescSize)
	if err := vfs.ReadFull(f.r, desc, off, "ext4", fmt.Sprintf("group descriptor %d", group)); err != nil {
		return 0, err
	}
	tbl = uint64(binary.LittleEndian.Uint32(desc[0x8:]))
	if f.sb.DescSize >= 64 {
		tbl |= uint64(binary.LittleEndian.Uint32(desc[0x28:])) << 32
	}
	itBlocks := (uint64(f.sb.InodesPerGroup)*uint64(f.sb.InodeSize) + uint64(f.sb.BlockSize) - 1) / uint64(f.sb.BlockSize)
	if tbl == 0 || tbl+itBlocks > f.sb.BlocksCount {
		return 0, corrupt(off, "group %d: inode table at block %d outside the %d blocks", group, tbl, f.sb.BlocksCount)
	}
	f.mu.Lock()
	if len(f.inodeTables) > 1024 {
		clear(f.inodeTables)
	}
	f.inodeTables[group] = tbl
	f.mu.Unlock()
	return tbl, nil
}

// descOffset is where a group's descriptor is stored. Without meta_bg the
// descriptors follow the superblock's block; with it, each meta group of
// descriptors-per-block groups keeps its own block in its first group.
// The superblock is in block 1 with 1 KiB blocks, even where the first
// data block is 0 (bigalloc), and in block 0 otherwise.
func (f *FS) descOffset(group uint64) int64 {
	bs := uint64(f.sb.BlockSize)
	sbBlock := superblockOffset / bs
	perBlock := bs / uint64(f.sb.DescSize)
	metaGroup := group / perBlock
	if f.sb.FeatureIncompat&incompatMetaBG == 0 || metaGroup < uint64(f.sb.FirstMetaBG) {
		return int64((sbBlock+1)*bs + group*uint64(f.sb.DescSize))
	}
	first := metaGroup * perBlock
	block := uint64(f.sb.FirstDataBlock) + first*uint64(f.sb.BlocksPerGroup)
	if f.hasSuper(first) {
		block++
	}
	if first == 0 && sbBlock > uint64(f.sb.FirstDataBlock) {
		block++ // past the superblock in block 1, not block 0
	}
	return int64(block*bs + (group%perBlock)*uint64(f.sb.DescSize))
}

// hasSuper says whether a group holds a superblock copy: every group, or
// with sparse_super only groups 0, 1 and powers of 3, 5 and 7.
func (f *FS) hasSuper(group uint64) bool {
	if !f.sparseSuper || group <= 1 {
		return true
	}
	for _, base := range []uint64{3, 5, 7} {
		p := base
		for p < group {
			p *= base
		}
		if p == group {
			return true
		}
	}
	return false
}

// inodeRaw returns the on-disk bytes of inode num, a slice of a cached
// block, and where they are in the image.
func (f *FS) inodeRaw(num uint32) ([]byte, int64, error) {
	if num == 0 || num > f.sb.InodesCount {
		return nil, 0, corrupt(superblockOffset, "inode number %d of %d", num, f.sb.InodesCount)
	}
	group := uint64(num-1) / uint64(f.sb.InodesPerGroup)
	index := uint64(num-1) % uint64(f.sb.InodesPerGroup)
	tbl, err := f.groupInodeTable(group)
	if err != nil {
		return nil, 0, err
	}
	// An inode never straddles blocks: inode sizes are powers of two no
	// larger than a block.
	byteInTable := index * uint64(f.sb.InodeSize)
	blk, err := f.block(tbl+byteInTable/uint64(f.sb.BlockSize), "inode table")
	if err != nil {
		return nil, 0, err
	}
	within := byteInTable % uint64(f.sb.BlockSize)
	return blk[within : within+uint64(f.sb.InodeSize)], int64(tbl*uint64(f.sb.BlockSize) + byteInTable), nil
}

// inode reads inode number num.
func (f *FS) inode(num uint32) (*Inode, error) {
	raw, off, err := f.inodeRaw(num)
	if err != nil {
		return nil, err
	}
	le16 := func(o int) uint16 { return binary.LittleEndian.Uint16(raw[o:]) }
	le32 := func(o int) uint32 { return binary.LittleEndian.Uint32(raw[o:]) }
	mode, ok := vfs.PosixMode(le16(0x0))
	if !ok {
		return nil, corrupt(off, "inode %d: file type %#o", num, le16(0)&0xF000)
	}
	ino := &Inode{
		num:        num,
		pos:        off,
		mode:       mode,
		size:       uint64(le32(0x4)) | uint64(le32(0x6C))<<32,
		mtime:      le32(0x10),
		flags:      le32(0x20),
		xattrBlock: uint64(le32(0x68)) | uint64(le16(0x76))<<32,
	}
	copy(ino.blocks[:], raw[iBlock:iBlock+60])
	if mode&fs.ModeSymlink != 0 && ino.flags&flagInlineData == 0 {
		sectors := le32(0x1C)
		if ino.xattrBlock != 0 { // an extended attribute block (a cluster)
			sectors -= f.sb.ClusterSize / 512
		}
		ino.fast = sectors == 0
	}
	if ino.flags&flagEncrypt != 0 {
		return nil, unsupportedf("inode %d is encrypted (fscrypt)", num)
	}
	if ino.flags&flagInlineData != 0 {
		ino.inline, ino.inlinePos, err = inlineData(raw, off)
		if err != nil {
			return nil, err
		}
		if ino.size > uint64(len(ino.blocks)+len(ino.inline)) {
			return nil, corrupt(off, "inode %d: %d bytes of inline data in %d", num, ino.size, len(ino.blocks)+len(ino.inline))
		}
	}
	return ino, nil
}

// inlineData finds the system.data extended attribute in the inode's
// in-inode attribute area (the part of inline data beyond i_block) and
// where it is in the image.
func inlineData(raw []byte, off int64) ([]byte, int64, error) {
	area, areaOff := inodeXattrArea(raw, off)
	v, at, err := findXattr(area, area, areaOff, xattrSystem, "data")
	if err != nil || v == nil {
		return nil, -1, err
	}
	return v, at, nil
}
