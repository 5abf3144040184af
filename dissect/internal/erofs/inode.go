package erofs

import (
	"encoding/binary"
	"io/fs"
	"math"
	"time"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// Data layouts of an inode (bits 1-3 of i_format).
const (
	layoutFlatPlain         = 0
	layoutCompressedFull    = 1
	layoutFlatInline        = 2
	layoutCompressedCompact = 3
	layoutChunkBased        = 4
)

const (
	compactInodeSize  = 32
	extendedInodeSize = 64
	// inodeSlot is the unit of nids: inode n lives at byte 32*n of the
	// metadata area.
	inodeSlot = 32
	// formatKnown covers the version bit, the layout, and bit 4 (nlink 1
	// for compact non-directories, "." omitted for directories), which
	// needs nothing from a reader without the 48-bit layout.
	formatKnown = 0x1f
	nullAddr    = 0xffffffff
	// maxSymlink is PATH_MAX: no kernel would follow a longer target.
	maxSymlink = 4096
)

// Inode is one file, directory, symlink or special file. It implements
// vfs.Node.
type Inode struct {
	nid      uint64
	pos      uint64 // byte offset of the on-disk inode
	extended bool   // 64-byte inode, not 32
	mode     fs.FileMode
	layout   uint8
	size     uint64
	mtime    int64
	nsec     uint32
	// dataPos is where inline data, chunk indexes or compression
	// indexes begin: after the inode and its inline xattr area.
	dataPos uint64
	// xattrSize is the length of the xattr area between the inode and
	// dataPos; 0 without one.
	xattrSize uint64
	// startBlk is the first data block of flat inodes; for chunk-based
	// ones chunkBits is log2 of the chunk size and chunkIndexes says
	// whether the table holds 8-byte indexes or 4-byte block numbers.
	startBlk     uint32
	chunkBits    uint
	chunkIndexes bool
}

func (i *Inode) Mode() fs.FileMode  { return i.mode }
func (i *Inode) Size() int64        { return int64(i.size) }
func (i *Inode) ModTime() time.Time { return time.Unix(i.mtime, int64(i.nsec)) }

func (i *Inode) compressed() bool {
	return i.layout == layoutCompressedFull || i.layout == layoutCompressedCompact
}

// inode reads the inode numbered nid.
func (f *FS) inode(nid uint64) (*Inode, error) {
	base := uint64(f.sb.MetaBlkAddr) << f.sb.blockBits
	if nid > (f.fsSize-base)/inodeSlot {
		return nil, corrupt(int64(base), "inode %d beyond the image", nid)
	}
	pos := base + nid*inodeSlot
	if pos+compactInodeSize > f.fsSize {
		return nil, corrupt(int64(pos), "inode %d beyond the image", nid)
	}
	head, err := f.meta(pos, 2)
	if err != nil {
		return nil, err
	}
	format := binary.LittleEndian.Uint16(head)
	if format&^formatKnown != 0 {
		return nil, vfs.Unsupportedf("erofs inode format %#x (inode %d)", format, nid)
	}
	ino := &Inode{nid: nid, pos: pos, layout: uint8(format>>1) & 7}
	if ino.layout > layoutChunkBased {
		return nil, vfs.Unsupportedf("erofs data layout %d (inode %d)", ino.layout, nid)
	}
	isize := compactInodeSize
	if format&1 != 0 {
		isize = extendedInodeSize
		ino.extended = true
	}
	if pos+uint64(isize) > f.fsSize {
		return nil, corrupt(int64(pos), "inode %d beyond the image", nid)
	}
	b, err := f.meta(pos, isize)
	if err != nil {
		return nil, err
	}
	le16 := func(o int) uint16 { return binary.LittleEndian.Uint16(b[o:]) }
	le32 := func(o int) uint32 { return binary.LittleEndian.Uint32(b[o:]) }
	xattrs := uint64(0)
	if icount := le16(2); icount != 0 {
		// A 12-byte header, then icount-1 4-byte slots of shared xattr
		// ids and inline entries: skipped here, parsed only by Xattr.
		xattrs = 12 + 4*(uint64(icount)-1)
	}
	imode := le16(4)
	if isize == compactInodeSize {
		ino.size = uint64(le32(8))
		ino.mtime = f.sb.Epoch + int64(le32(12))
		ino.nsec = f.sb.FixedNsec
	} else {
		ino.size = binary.LittleEndian.Uint64(b[8:])
		ino.mtime = int64(binary.LittleEndian.Uint64(b[32:]))
		ino.nsec = le32(40)
	}
	if ino.size > math.MaxInt64 {
		return nil, corrupt(int64(pos), "inode %d of %d bytes", nid, ino.size)
	}
	ino.dataPos = pos + uint64(isize) + xattrs
	ino.xattrSize = xattrs
	raw := le32(16) // start block, compressed block count, device or chunk format
	var ok bool
	if ino.mode, ok = vfs.PosixMode(imode); !ok {
		return nil, corrupt(int64(pos), "inode %d: file type of mode %#o unknown", nid, imode)
	}
	switch ino.mode.Type() {
	case 0, fs.ModeDir, fs.ModeSymlink:
		if err := f.checkLayout(ino, raw); err != nil {
			return nil, err
		}
	default:
		// Devices, fifos and sockets have no data to read.
		ino.size = 0
	}
	return ino, nil
}

// checkLayout checks the data layout of a file, directory or symlink and
// keeps what reading it needs.
func (f *FS) checkLayout(ino *Inode, raw uint32) error {
	bs := uint64(f.sb.BlockSize)
	switch ino.layout {
	case layoutFlatPlain, layoutFlatInline:
		ino.startBlk = raw
		blocks := (ino.size + bs - 1) / bs
		tail := uint64(0)
		if ino.layout == layoutFlatInline && blocks > 0 {
			blocks-- // the tail lives after the inode
			tail = ino.size - blocks*bs
		}
		if blocks > 0 && raw != nullAddr && uint64(raw)+blocks > f.sb.Blocks {
			return corrupt(int64(ino.pos), "inode %d: %d data blocks from block %d beyond the %d of the image", ino.nid, blocks, raw, f.sb.Blocks)
		}
		if tail > 0 && (ino.dataPos%bs+tail > bs || ino.dataPos+tail > f.fsSize) {
			return corrupt(int64(ino.pos), "inode %d: inline tail of %d bytes crosses its block", ino.nid, tail)
		}
	case layoutChunkBased:
		format := uint16(raw)
		if format&^0x3f != 0 {
			return vfs.Unsupportedf("erofs chunk format %#x (inode %d)", format, ino.nid)
		}
		ino.chunkIndexes = format&0x20 != 0
		ino.chunkBits = f.sb.blockBits + uint(format&0x1f)
		if ino.chunkBits > 47 {
			return corrupt(int64(ino.pos), "inode %d: chunks of 2^%d bytes", ino.nid, ino.chunkBits)
		}
	case layoutCompressedFull, layoutCompressedCompact:
		if f.sb.Algorithms == 0 {
			return corrupt(int64(ino.pos), "inode %d is compressed, but the image names no compression algorithm", ino.nid)
		}
	}
	return nil
}
