package squashfs

import (
	"encoding/binary"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// Xattr name prefixes as squashfs numbers them; the prefix is not stored
// with the name. valueOutOfLine marks a value kept elsewhere in the xattr
// table, referenced by a 64-bit pointer.
const (
	xattrUser      = 0
	xattrTrusted   = 1
	xattrSecurity  = 2
	valueOutOfLine = 0x100
	maxXattrName   = 255 // XATTR_NAME_MAX
)

// xattrIndex is the number the format stores for a namespace prefix.
var xattrIndex = map[string]uint16{"user.": xattrUser, "trusted.": xattrTrusted, "security.": xattrSecurity}

// xattrPrefix returns the stored number of an attribute name's namespace
// and the rest of the name.
func xattrPrefix(name string) (uint16, string, bool) {
	ns, rest, ok := vfs.XattrNamespace(name)
	return xattrIndex[ns], rest, ok
}

// Xattr reads one extended attribute of n. Only extended inodes carry an
// index into the xattr id table; each id entry points at the run of
// key/value pairs of one inode in the xattr table.
func (f *FS) Xattr(n vfs.Node, name string) ([]byte, error) {
	ino, ok := n.(*Inode)
	want, suffix, known := xattrPrefix(name)
	if !ok || !known || ino.xattr == noXattr || f.sb.XattrIDTableStart == noTable {
		return nil, vfs.ErrNoXattr
	}
	idTable := f.sb.XattrIDTableStart
	if idTable+16 > f.sb.BytesUsed || idTable+16 < idTable {
		return nil, corrupt(56, "xattr id table at %d beyond the %d bytes used", idTable, f.sb.BytesUsed)
	}
	var hdr [16]byte
	if _, err := f.r.ReadAt(hdr[:], int64(idTable)); err != nil {
		return nil, corrupt(int64(idTable), "xattr id table: %v", err)
	}
	table := binary.LittleEndian.Uint64(hdr[0:])
	ids := binary.LittleEndian.Uint32(hdr[8:])
	if ino.xattr >= ids {
		return nil, corrupt(int64(idTable), "inode %d: xattr id %d of %d", ino.number, ino.xattr, ids)
	}
	if table >= idTable {
		return nil, corrupt(int64(idTable), "xattr table at %d is not before its id table", table)
	}
	// The id table is an array of pointers to metadata blocks of 512
	// 16-byte entries each.
	ptrAt := idTable + 16 + 8*uint64(ino.xattr/512)
	if ptrAt+8 > f.sb.BytesUsed {
		return nil, corrupt(int64(idTable), "xattr id table beyond the image")
	}
	var ptr [8]byte
	if _, err := f.r.ReadAt(ptr[:], int64(ptrAt)); err != nil {
		return nil, corrupt(int64(ptrAt), "xattr id table: %v", err)
	}
	m, err := f.newMetaReader(binary.LittleEndian.Uint64(ptr[:]), int(ino.xattr%512)*16)
	if err != nil {
		return nil, err
	}
	var e errs
	ref := e.u64(m)
	count := e.u32(m)
	if e.err != nil {
		return nil, e.err
	}
	kv, err := f.xattrReader(table, ref)
	if err != nil {
		return nil, err
	}
	var nameBuf [maxXattrName]byte
	for range count {
		// Each pair costs an entry: a count of billions ends in the
		// budget, not in time.
		if err := f.budget.Entries(1); err != nil {
			return nil, err
		}
		typ, size := e.u16(kv), e.u16(kv)
		if e.err != nil {
			return nil, e.err
		}
		if size == 0 || size > maxXattrName {
			return nil, corrupt(int64(table), "inode %d: xattr name of %d bytes", ino.number, size)
		}
		if e.err = kv.read(nameBuf[:size]); e.err != nil {
			return nil, e.err
		}
		match := typ&0xff == want && string(nameBuf[:size]) == suffix
		if typ&valueOutOfLine != 0 {
			if vsize := e.u32(kv); e.err == nil && vsize != 8 {
				return nil, corrupt(int64(table), "inode %d: out-of-line xattr reference of %d bytes", ino.number, vsize)
			}
			at := e.u64(kv)
			if e.err != nil {
				return nil, e.err
			}
			if match {
				v, err := f.xattrReader(table, at)
				if err != nil {
					return nil, err
				}
				return f.xattrValue(v, ino)
			}
			continue
		}
		v, err := f.xattrValue(kv, ino)
		if err != nil || match {
			return v, err
		}
	}
	return nil, vfs.ErrNoXattr
}

// xattrReader starts reading the xattr table at a reference: the metadata
// block's offset from the table's start in the upper bits, the offset in
// the block in the lower 16.
func (f *FS) xattrReader(table, ref uint64) (*metaReader, error) {
	block, off := ref>>16, int(ref&0xffff)
	if block >= f.sb.BytesUsed-table {
		return nil, corrupt(int64(table), "xattr reference %#x outside the xattr table", ref)
	}
	return f.newMetaReader(table+block, off)
}

// xattrValue reads a value: its 32-bit length, then the bytes.
func (f *FS) xattrValue(m *metaReader, ino *Inode) ([]byte, error) {
	size, err := m.u32()
	if err != nil {
		return nil, err
	}
	if size > vfs.MaxXattrValue {
		return nil, corrupt(int64(f.sb.XattrIDTableStart), "inode %d: xattr value of %d bytes", ino.number, size)
	}
	v := make([]byte, size)
	if err := m.read(v); err != nil {
		return nil, err
	}
	return v, nil
}
