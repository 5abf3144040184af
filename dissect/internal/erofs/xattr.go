package erofs

import (
	"encoding/binary"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// An entry's name index (vfs.XattrIndex) with longPrefix set names an
// entry of the long-prefix table instead.
const (
	longPrefix = 0x80
	// xattrHeader is the inline area's header: a name filter, the count
	// of shared ids, and reserved bytes.
	xattrHeader = 12
)

// Xattr reads one extended attribute of n: first the shared entries the
// inode names by id, then its inline entries.
func (f *FS) Xattr(n vfs.Node, name string) ([]byte, error) {
	ino, ok := n.(*Inode)
	want, suffix, known := vfs.XattrIndex(name)
	if !ok || !known || ino.xattrSize == 0 {
		return nil, vfs.ErrNoXattr
	}
	area := ino.dataPos - ino.xattrSize
	end := ino.dataPos
	hdr, err := f.meta(area, xattrHeader)
	if err != nil {
		return nil, err
	}
	shared := uint64(hdr[4])
	if xattrHeader+4*shared > ino.xattrSize {
		return nil, corrupt(int64(area), "inode %d: %d shared xattrs in a %d-byte area", ino.nid, shared, ino.xattrSize)
	}
	sharedBase := uint64(f.sb.XattrBlkAddr) << f.sb.blockBits
	for i := range shared {
		id, err := f.meta(area+xattrHeader+4*i, 4)
		if err != nil {
			return nil, err
		}
		at := sharedBase + 4*uint64(binary.LittleEndian.Uint32(id))
		v, _, found, err := f.xattrEntry(at, f.fsSize, want, suffix)
		if err != nil || found {
			return v, err
		}
	}
	for at := area + xattrHeader + 4*shared; at < end; {
		v, size, found, err := f.xattrEntry(at, end, want, suffix)
		if err != nil || found {
			return v, err
		}
		at += size
	}
	return nil, vfs.ErrNoXattr
}

// xattrEntry reads the entry at at, which must end by end: a name length,
// a prefix index and a value size, then the name and the value, padded to
// four bytes. It returns the value when the entry is the one wanted, and
// the entry's padded size.
func (f *FS) xattrEntry(at, end uint64, want uint8, suffix string) ([]byte, uint64, bool, error) {
	// Each entry costs one: an area of thousands of tiny entries ends in
	// the budget.
	if err := f.budget.Entries(1); err != nil {
		return nil, 0, false, err
	}
	if at+4 > end || at+4 < at {
		return nil, 0, false, corrupt(int64(at), "xattr entry beyond its area")
	}
	h, err := f.meta(at, 4)
	if err != nil {
		return nil, 0, false, err
	}
	nameLen, index, valueLen := uint64(h[0]), h[1], uint64(binary.LittleEndian.Uint16(h[2:]))
	size := (4 + nameLen + valueLen + 3) &^ 3
	if at+size > end {
		return nil, 0, false, corrupt(int64(at), "xattr entry of %d bytes beyond its area", size)
	}
	if index&longPrefix != 0 {
		return nil, 0, false, vfs.Unsupportedf("erofs long xattr name prefixes")
	}
	if index != want || nameLen != uint64(len(suffix)) {
		return nil, size, false, nil
	}
	got, err := f.metaBytes(at+4, nameLen)
	if err != nil || string(got) != suffix {
		return nil, size, false, err
	}
	v, err := f.metaBytes(at+4+nameLen, valueLen)
	return v, size, err == nil, err
}

// metaBytes reads n bytes of metadata at off, across as many blocks as
// they span.
func (f *FS) metaBytes(off, n uint64) ([]byte, error) {
	out := make([]byte, 0, n)
	for uint64(len(out)) < n {
		chunk := min(n-uint64(len(out)), uint64(f.sb.BlockSize)-off%uint64(f.sb.BlockSize))
		b, err := f.meta(off, int(chunk))
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
		off += chunk
	}
	return out, nil
}
