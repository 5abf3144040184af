package squashfs

import (
	"strings"
)

// dirent is one entry of a directory listing.
type dirent struct {
	name string
	typ  uint16
	ref  uint64 // inode reference
}

// The kernel and mksquashfs write at most 256 entries per header and names
// of at most 256 bytes.
const (
	maxHeaderEntries = 256
	maxName          = 256
)

// walkDir calls fn for each entry of d's listing until fn returns false.
// The listing is a run of headers, each naming the metadata block of the
// inodes of up to 256 entries that follow it.
func (f *FS) walkDir(d *Inode, fn func(dirent) bool) error {
	pos := f.sb.DirTableStart + uint64(d.dirBlock)
	if pos >= f.sb.BytesUsed {
		return corrupt(int64(f.sb.DirTableStart), "directory inode %d: listing at block %d outside the image", d.number, d.dirBlock)
	}
	m, err := f.newMetaReader(pos, int(d.dirOffset))
	if err != nil {
		return err
	}
	left := d.size - 3 // the stored size counts "." and ".."
	take := func(n uint64) bool {
		if n > left {
			return false
		}
		left -= n
		return true
	}
	var name [maxName]byte
	for left > 0 {
		if !take(12) {
			return corrupt(int64(pos), "directory inode %d: listing ends inside a header", d.number)
		}
		var e errs
		count := e.u32(m)
		start := e.u32(m)
		e.u32(m) // base inode number
		if e.err != nil {
			return e.err
		}
		if count >= maxHeaderEntries {
			return corrupt(int64(pos), "directory inode %d: header with %d entries", d.number, uint64(count)+1)
		}
		if err := f.budget.Entries(int(count) + 1); err != nil {
			return err
		}
		for i := uint32(0); i <= count; i++ {
			if !take(8) {
				return corrupt(int64(pos), "directory inode %d: listing ends inside an entry", d.number)
			}
			off := e.u16(m)
			e.u16(m) // inode number delta
			typ := e.u16(m)
			n := uint64(e.u16(m)) + 1
			if e.err != nil {
				return e.err
			}
			if n > maxName || !take(n) {
				return corrupt(int64(pos), "directory inode %d: entry name of %d bytes", d.number, n)
			}
			if err := m.read(name[:n]); err != nil {
				return err
			}
			s := string(name[:n])
			if s == "." || s == ".." || strings.ContainsAny(s, "/\x00") {
				return corrupt(int64(pos), "directory inode %d: invalid entry name %q", d.number, s)
			}
			if typ < typeDir || typ > typeSocket {
				return corrupt(int64(pos), "directory inode %d: entry %q of type %d", d.number, s, typ)
			}
			if !fn(dirent{name: s, typ: typ, ref: uint64(start)<<16 | uint64(off)}) {
				return nil
			}
		}
	}
	return nil
}
