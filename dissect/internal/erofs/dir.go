package erofs

import (
	"bytes"
	"encoding/binary"
	"io/fs"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// A directory is a run of blocks, each an array of 12-byte dirents (nid,
// name offset, file type) followed by their names, unterminated except for
// NUL padding after the last. Names are sorted within a block and across
// blocks ("." and ".." included), which is what makes binary search work.
const (
	direntSize = 12
	maxNameLen = 255
)

// dirBlock is one parsed directory block.
type dirBlock struct {
	b     []byte
	count int
	pos   int64 // for errors: the block's place in the image, or -1
	nid   uint64
}

func parseDirBlock(b []byte, dir *Inode, pos int64) (dirBlock, error) {
	if len(b) < direntSize {
		return dirBlock{}, corrupt(pos, "directory inode %d: block of %d bytes", dir.nid, len(b))
	}
	first := int(binary.LittleEndian.Uint16(b[8:]))
	if first < direntSize || first >= len(b) || first%direntSize != 0 {
		return dirBlock{}, corrupt(pos, "directory inode %d: first name at %d of a %d-byte block", dir.nid, first, len(b))
	}
	return dirBlock{b: b, count: first / direntSize, pos: pos, nid: dir.nid}, nil
}

// name returns the name of entry i, checking it lies inside the block after
// the dirents and before the next name.
func (d dirBlock) name(i int) ([]byte, error) {
	start := int(binary.LittleEndian.Uint16(d.b[i*direntSize+8:]))
	var end int
	if i+1 < d.count {
		end = int(binary.LittleEndian.Uint16(d.b[(i+1)*direntSize+8:]))
	} else {
		end = len(d.b)
		if start < end {
			if z := bytes.IndexByte(d.b[start:], 0); z >= 0 {
				end = start + z
			}
		}
	}
	if start < d.count*direntSize || end > len(d.b) || end <= start || end-start > maxNameLen {
		return nil, corrupt(d.pos, "directory inode %d: entry %d's name spans %d..%d of a %d-byte block", d.nid, i, start, end, len(d.b))
	}
	name := d.b[start:end]
	if bytes.IndexByte(name, '/') >= 0 || bytes.IndexByte(name, 0) >= 0 {
		return nil, corrupt(d.pos, "directory inode %d: invalid name %q", d.nid, name)
	}
	return name, nil
}

func (d dirBlock) entryNid(i int) uint64 { return binary.LittleEndian.Uint64(d.b[i*direntSize:]) }

func (d dirBlock) entryType(i int, name []byte) (fs.FileMode, error) {
	t := d.b[i*direntSize+10]
	typ, ok := vfs.DirentType(t)
	if !ok {
		return 0, corrupt(d.pos, "directory inode %d: %q of file type %d", d.nid, name, t)
	}
	return typ, nil
}

// dirReader reads the blocks of one directory.
type dirReader struct {
	f      *FS
	ino    *Inode
	blocks uint64
	z      *zFile // compressed directories
}

func (f *FS) openDir(ino *Inode) (*dirReader, error) {
	d := &dirReader{f: f, ino: ino, blocks: (ino.size + uint64(f.sb.BlockSize) - 1) >> f.sb.blockBits}
	if ino.compressed() {
		z, err := f.newZFile(ino)
		if err != nil {
			return nil, err
		}
		d.z = z
	}
	return d, nil
}

// close lets what the reader of a compressed directory keeps go.
func (d *dirReader) close() {
	if d.z != nil {
		d.z.Close()
	}
}

// block returns directory block i.
func (d *dirReader) block(i uint64) (dirBlock, error) {
	bs := uint64(d.f.sb.BlockSize)
	off := i * bs
	n := min(bs, d.ino.size-off)
	if d.z != nil {
		// The block is copied out of the extent the reader keeps.
		if err := d.f.budget.Alloc(int(n)); err != nil {
			return dirBlock{}, err
		}
		defer d.f.budget.Free(int(n))
		b := make([]byte, n)
		if _, err := d.z.ReadAt(b, int64(off)); err != nil {
			return dirBlock{}, err
		}
		return parseDirBlock(b, d.ino, -1)
	}
	seg, err := d.f.mapFlat(d.ino, off)
	if err != nil {
		return dirBlock{}, err
	}
	var b []byte
	switch seg.kind {
	case segData:
		blk, err := d.f.block(seg.pos / bs)
		if err != nil {
			return dirBlock{}, err
		}
		b = blk[:n]
	case segInline:
		if b, err = d.f.meta(seg.pos, int(n)); err != nil {
			return dirBlock{}, err
		}
	case segHole:
		return dirBlock{}, corrupt(int64(d.ino.pos), "directory inode %d: block %d is a hole", d.ino.nid, i)
	}
	return parseDirBlock(b, d.ino, int64(seg.pos))
}

// lookup finds name by binary search, first over the blocks by their first
// and last names, then within the one block that may hold it, so a
// directory of n entries costs log(n) block reads.
func (d *dirReader) lookup(name string) (nid uint64, found bool, err error) {
	lo, hi := uint64(0), d.blocks
	for lo < hi {
		mid := lo + (hi-lo)/2
		blk, err := d.block(mid)
		if err != nil {
			return 0, false, err
		}
		first, err := blk.name(0)
		if err != nil {
			return 0, false, err
		}
		// Comparisons with string(b) do not allocate; strings.Compare's
		// argument would.
		if name < string(first) {
			hi = mid
			continue
		} else if name == string(first) {
			return blk.entryNid(0), true, d.f.budget.Entries(1)
		}
		last, err := blk.name(blk.count - 1)
		if err != nil {
			return 0, false, err
		}
		if name > string(last) {
			lo = mid + 1
			continue
		}
		return blk.search(name, d.f.budget)
	}
	return 0, false, nil
}

// search looks name up within the block.
func (d dirBlock) search(name string, b *vfs.Budget) (uint64, bool, error) {
	lo, hi := 0, d.count
	for lo < hi {
		if err := b.Entries(1); err != nil {
			return 0, false, err
		}
		mid := lo + (hi-lo)/2
		n, err := d.name(mid)
		if err != nil {
			return 0, false, err
		}
		switch {
		case name == string(n):
			return d.entryNid(mid), true, nil
		case name < string(n):
			hi = mid
		default:
			lo = mid + 1
		}
	}
	return 0, false, nil
}

// list returns every entry but "." and "..".
func (d *dirReader) list() ([]vfs.DirEntry, error) {
	var out []vfs.DirEntry
	for i := uint64(0); i < d.blocks; i++ {
		blk, err := d.block(i)
		if err != nil {
			return nil, err
		}
		if err := d.f.budget.Entries(blk.count); err != nil {
			return nil, err
		}
		for j := 0; j < blk.count; j++ {
			name, err := blk.name(j)
			if err != nil {
				return nil, err
			}
			if string(name) == "." || string(name) == ".." {
				continue
			}
			typ, err := blk.entryType(j, name)
			if err != nil {
				return nil, err
			}
			out = append(out, vfs.DirEntry{Name: string(name), Type: typ})
			if err := d.f.budget.Listing(len(out)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
