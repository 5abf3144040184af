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
	return f.walkDirFrom(d, listingPoint{block: d.dirBlock, offset: int(d.dirOffset)}, fn)
}

// listingPoint is a place in a directory listing where a header starts:
// the metadata block (relative to the directory table), the offset in it,
// and how many bytes of the listing lie before it.
type listingPoint struct {
	block  uint32
	offset int
	skip   uint64
}

func (f *FS) walkDirFrom(d *Inode, at listingPoint, fn func(dirent) bool) error {
	pos := f.sb.DirTableStart + uint64(at.block)
	if pos >= f.sb.BytesUsed {
		return corrupt(int64(f.sb.DirTableStart), "directory inode %d: listing at block %d outside the image", d.number, at.block)
	}
	m, err := f.newMetaReader(pos, at.offset)
	if err != nil {
		return err
	}
	if at.skip > d.size-3 {
		return corrupt(int64(pos), "directory inode %d: index entry %d bytes into a %d-byte listing", d.number, at.skip, d.size-3)
	}
	left := d.size - 3 - at.skip // the stored size counts "." and ".."
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

// indexPoint uses an extended directory's index to find where to start
// looking for name. The index has one entry per metadata block the listing
// crosses, naming the first entry of the header starting there; listings
// are sorted, so the last entry not after name is the place.
func (f *FS) indexPoint(d *Inode, name string) (listingPoint, error) {
	at := listingPoint{block: d.dirBlock, offset: int(d.dirOffset)}
	if d.indexCount == 0 {
		return at, nil
	}
	if err := f.budget.Entries(int(d.indexCount)); err != nil {
		return at, err
	}
	m, err := f.newMetaReader(d.indexPos, d.indexOff)
	if err != nil {
		return at, err
	}
	var buf [maxName]byte
	for i := 0; i < int(d.indexCount); i++ {
		var e errs
		skip := e.u32(m)
		block := e.u32(m)
		n := uint64(e.u32(m)) + 1
		if e.err != nil {
			return at, e.err
		}
		if n > maxName {
			return at, corrupt(int64(d.indexPos), "directory inode %d: index name of %d bytes", d.number, n)
		}
		if err := m.read(buf[:n]); err != nil {
			return at, err
		}
		if string(buf[:n]) > name {
			break
		}
		at = listingPoint{block: block, offset: int((uint64(skip) + uint64(d.dirOffset)) % metadataBlockSize), skip: uint64(skip)}
	}
	return at, nil
}
