package ext4

import (
	"encoding/binary"
	"strings"
)

// dirent is one entry of a directory.
type dirent struct {
	inode    uint32
	fileType uint8
	name     string
}

// walkDir calls fn for each entry of d except "." and "..", until fn
// returns false.
func (f *FS) walkDir(d *Inode, fn func(dirent) bool) error {
	if d.flags&flagInlineData != 0 {
		// Inline directories start with the parent's inode number,
		// then entries in the rest of i_block and in system.data.
		more, err := f.parseEntries(d, d.blocks[4:], d.pos+iBlock+4, fn)
		if err != nil || !more || len(d.inline) == 0 {
			return err
		}
		_, err = f.parseEntries(d, d.inline, d.inlinePos, fn)
		return err
	}
	bs := uint64(f.sb.BlockSize)
	blocks := (d.size + bs - 1) / bs
	for lblk := uint64(0); lblk < blocks; {
		rn, err := f.mapBlock(d, lblk)
		if err != nil {
			return err
		}
		if rn.hole {
			// A hole in a directory holds no entries; skipping it
			// still costs, so a huge sparse directory cannot spin.
			if err := f.budget.Entries(1); err != nil {
				return err
			}
			lblk += max(rn.count, 1)
			continue
		}
		for i := uint64(0); i < rn.count && lblk < blocks; i, lblk = i+1, lblk+1 {
			buf, err := f.block(rn.phys+i, "directory block")
			if err != nil {
				return err
			}
			more, err := f.parseEntries(d, buf, int64(rn.phys+i)*int64(bs), fn)
			if err != nil || !more {
				return err
			}
		}
	}
	return nil
}

// readDirBlock returns logical block lblk of directory d (shared: not to
// be modified) and its byte offset in the image; nil when the block is a
// hole or beyond the directory.
func (f *FS) readDirBlock(d *Inode, lblk uint64) ([]byte, int64, error) {
	bs := uint64(f.sb.BlockSize)
	if lblk >= (d.size+bs-1)/bs {
		return nil, -1, nil
	}
	rn, err := f.mapBlock(d, lblk)
	if err != nil || rn.hole {
		return nil, -1, err
	}
	b, err := f.block(rn.phys, "directory block")
	return b, int64(rn.phys * bs), err
}

// parseEntries reads the linked entries of one directory block (or inline
// area), found at byte at of the image (-1 if unknown); it reports whether
// fn wants more.
func (f *FS) parseEntries(d *Inode, b []byte, at int64, fn func(dirent) bool) (bool, error) {
	where := func(p int) int64 {
		if at < 0 {
			return -1
		}
		return at + int64(p)
	}
	for p := 0; p+8 <= len(b); {
		inode := binary.LittleEndian.Uint32(b[p:])
		recLen := int(binary.LittleEndian.Uint16(b[p+4:]))
		nameLen := int(b[p+6])
		fileType := b[p+7]
		if f.sb.BlockSize >= 65536 && recLen == 65535 || recLen == 0 && f.sb.BlockSize == 65536 {
			recLen = 65536 // how 64 KiB blocks store a block-long entry
		}
		if recLen < 8 || recLen%4 != 0 || p+recLen > len(b) || 8+nameLen > recLen {
			return false, corrupt(where(p), "directory inode %d: entry with record length %d and name length %d", d.num, recLen, nameLen)
		}
		if err := f.budget.Entries(1); err != nil {
			return false, err
		}
		if inode != 0 && nameLen > 0 {
			name := string(b[p+8 : p+8+nameLen])
			if name != "." && name != ".." {
				if strings.ContainsAny(name, "/\x00") {
					return false, corrupt(where(p), "directory inode %d: invalid entry name %q", d.num, name)
				}
				if f.sb.FeatureIncompat&incompatFiletype == 0 {
					fileType = 0
				}
				if !fn(dirent{inode: inode, fileType: fileType, name: name}) {
					return false, nil
				}
			}
		}
		p += recLen
	}
	return true, nil
}
