package squashfs

import (
	"io/fs"
	"time"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// Inode types of SquashFS 4.0; the extended forms add fields.
const (
	typeDir = 1 + iota
	typeFile
	typeSymlink
	typeBlockDev
	typeCharDev
	typeFifo
	typeSocket
	typeExtDir
	typeExtFile
	typeExtSymlink
	typeExtBlockDev
	typeExtCharDev
	typeExtFifo
	typeExtSocket
)

const (
	noFragment = 0xffffffff
	// maxSymlink is PATH_MAX: no kernel would follow a longer target.
	maxSymlink = 4096
)

// Inode is one file, directory, symlink or special file. It implements
// vfs.Node.
type Inode struct {
	mode   fs.FileMode
	mtime  uint32
	number uint32
	size   uint64 // file length, directory listing length, or target length

	// Directories: where the listing starts in the directory table, and
	// the inode number of the directory holding this one.
	dirBlock  uint32
	dirOffset uint16
	parent    uint32
	// Extended directories: how many index entries follow the inode,
	// and where they start in the inode table.
	indexCount uint16
	indexPos   uint64
	indexOff   int

	// Regular files: the data blocks, the tail in a fragment, and where
	// the list of block sizes begins in the inode table.
	blocksStart uint64
	fragment    uint32
	fragOffset  uint32
	sizesPos    uint64
	sizesOff    int

	target string // symlinks

	// xattr indexes the xattr id table; noXattr for none (every basic
	// inode, which has no field for it).
	xattr uint32
}

const noXattr = 0xffffffff

func (i *Inode) Mode() fs.FileMode  { return i.mode }
func (i *Inode) Size() int64        { return int64(i.size) }
func (i *Inode) ModTime() time.Time { return time.Unix(int64(i.mtime), 0) }

// modeOf turns the inode type and permission bits into an fs.FileMode.
func modeOf(typ, perm uint16) fs.FileMode {
	m := vfs.Perm(perm)
	switch typ {
	case typeDir, typeExtDir:
		m |= fs.ModeDir
	case typeSymlink, typeExtSymlink:
		m |= fs.ModeSymlink
	case typeBlockDev, typeExtBlockDev:
		m |= fs.ModeDevice
	case typeCharDev, typeExtCharDev:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case typeFifo, typeExtFifo:
		m |= fs.ModeNamedPipe
	case typeSocket, typeExtSocket:
		m |= fs.ModeSocket
	}
	return m
}

// inode reads the inode at a reference: the metadata block's offset from
// the start of the inode table in the upper bits, the offset within the
// decompressed block in the lower 16.
func (f *FS) inode(ref uint64) (*Inode, error) {
	block, off := ref>>16, int(ref&0xffff)
	if block > f.sb.BytesUsed-f.sb.InodeTableStart {
		return nil, corrupt(int64(f.sb.InodeTableStart), "inode reference %#x outside the inode table", ref)
	}
	m, err := f.newMetaReader(f.sb.InodeTableStart+block, off)
	if err != nil {
		return nil, err
	}
	where := int64(f.sb.InodeTableStart + block)
	var hdr [16]byte
	if err := m.read(hdr[:]); err != nil {
		return nil, err
	}
	le16 := func(o int) uint16 { return uint16(hdr[o]) | uint16(hdr[o+1])<<8 }
	le32 := func(o int) uint32 { return uint32(le16(o)) | uint32(le16(o+2))<<16 }
	typ := le16(0)
	ino := &Inode{mode: modeOf(typ, le16(2)), mtime: le32(8), number: le32(12), xattr: noXattr}
	var e errs
	switch typ {
	case typeDir:
		ino.dirBlock = e.u32(m)
		e.u32(m) // link count
		ino.size = uint64(e.u16(m))
		ino.dirOffset = e.u16(m)
		ino.parent = e.u32(m)
	case typeExtDir:
		e.u32(m) // link count
		ino.size = uint64(e.u32(m))
		ino.dirBlock = e.u32(m)
		ino.parent = e.u32(m)
		ino.indexCount = e.u16(m)
		ino.dirOffset = e.u16(m)
		ino.xattr = e.u32(m)
		ino.indexPos, ino.indexOff = m.pos, m.off
	case typeFile:
		ino.blocksStart = uint64(e.u32(m))
		ino.fragment = e.u32(m)
		ino.fragOffset = e.u32(m)
		ino.size = uint64(e.u32(m))
	case typeExtFile:
		ino.blocksStart = e.u64(m)
		ino.size = e.u64(m)
		e.u64(m) // sparse bytes
		e.u32(m) // link count
		ino.fragment = e.u32(m)
		ino.fragOffset = e.u32(m)
		ino.xattr = e.u32(m)
	case typeSymlink, typeExtSymlink:
		e.u32(m) // link count
		n := e.u32(m)
		if e.err == nil && (n == 0 || n > maxSymlink) {
			return nil, corrupt(where, "symlink inode %d with a %d-byte target", ino.number, n)
		}
		if e.err == nil {
			t := make([]byte, n)
			e.err = m.read(t)
			ino.target = string(t)
			ino.size = uint64(n)
		}
	case typeBlockDev, typeCharDev, typeFifo, typeSocket,
		typeExtBlockDev, typeExtCharDev, typeExtFifo, typeExtSocket:
		// Nothing the generator reads: the mode says what it is.
	default:
		return nil, corrupt(where, "inode type %d", typ)
	}
	if e.err != nil {
		return nil, e.err
	}
	if ino.mode.IsDir() && ino.size < 3 {
		return nil, corrupt(where, "directory inode %d with listing size %d", ino.number, ino.size)
	}
	if ino.mode.IsRegular() {
		ino.sizesPos, ino.sizesOff = m.pos, m.off
	}
	return ino, nil
}

// errs keeps the first error of a run of reads, so a parser reads like the
// structure it parses.
type errs struct{ err error }

func (e *errs) u16(m *metaReader) uint16 {
	if e.err != nil {
		return 0
	}
	v, err := m.u16()
	e.err = err
	return v
}

func (e *errs) u32(m *metaReader) uint32 {
	if e.err != nil {
		return 0
	}
	v, err := m.u32()
	e.err = err
	return v
}

func (e *errs) u64(m *metaReader) uint64 {
	if e.err != nil {
		return 0
	}
	v, err := m.u64()
	e.err = err
	return v
}
