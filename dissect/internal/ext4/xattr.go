package ext4

import (
	"encoding/binary"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// Extended attribute layout; names are stored without their namespace,
// numbered as vfs.XattrIndex says (system., of inline data, is 7).
const (
	xattrSystem = 7
	xattrMagic  = 0xEA020000
	// xattrBlockHeader is the header of an attribute block: magic,
	// reference count, block count, hash, checksum, reserved.
	xattrBlockHeader = 32
	xattrEntryHeader = 16
)

// inodeXattrArea returns the entries of the in-inode attribute area (past
// i_extra_isize and the magic), nil if there is none, and where it is.
func inodeXattrArea(raw []byte, off int64) ([]byte, int64) {
	if len(raw) <= 128 {
		return nil, -1
	}
	extra := int(binary.LittleEndian.Uint16(raw[0x80:]))
	start := 128 + extra
	if extra < 4 || start+4 > len(raw) || binary.LittleEndian.Uint32(raw[start:]) != xattrMagic {
		return nil, -1
	}
	return raw[start+4:], off + int64(start+4)
}

// findXattr looks for the attribute index/name among the entries of area,
// whose values are at offsets into values (area itself in an inode, the
// whole block for an attribute block, at image offset valuesOff). It
// returns the value and where it is, or nil when absent.
func findXattr(area, values []byte, valuesOff int64, index byte, name string) ([]byte, int64, error) {
	for p := 0; p+xattrEntryHeader <= len(area); {
		nameLen := int(area[p])
		idx := area[p+1]
		valueOff := int(binary.LittleEndian.Uint16(area[p+2:]))
		valueInum := binary.LittleEndian.Uint32(area[p+4:])
		valueSize := binary.LittleEndian.Uint32(area[p+8:])
		if nameLen == 0 && idx == 0 && valueOff == 0 && valueInum == 0 {
			break
		}
		if p+xattrEntryHeader+nameLen > len(area) {
			return nil, -1, corrupt(valuesOff, "extended attribute name beyond its area")
		}
		if idx == index && string(area[p+xattrEntryHeader:p+xattrEntryHeader+nameLen]) == name {
			if valueInum != 0 {
				return nil, -1, unsupportedf("extended attribute values in their own inode (ea_inode)")
			}
			if uint64(valueOff)+uint64(valueSize) > uint64(len(values)) {
				return nil, -1, corrupt(valuesOff, "extended attribute value of %d bytes at %d", valueSize, valueOff)
			}
			return values[valueOff : valueOff+int(valueSize) : valueOff+int(valueSize)], valuesOff + int64(valueOff), nil
		}
		p += (xattrEntryHeader + nameLen + 3) &^ 3
	}
	return nil, -1, nil
}

// Xattr reads one extended attribute of n: from the in-inode area, else
// from the inode's attribute block.
func (f *FS) Xattr(n vfs.Node, name string) ([]byte, error) {
	ino, ok := n.(*Inode)
	index, suffix, known := vfs.XattrIndex(name)
	if !ok || !known {
		return nil, vfs.ErrNoXattr
	}
	raw, off, err := f.inodeRaw(ino.num)
	if err != nil {
		return nil, err
	}
	area, areaOff := inodeXattrArea(raw, off)
	v, _, err := findXattr(area, area, areaOff, index, suffix)
	if err != nil || v != nil {
		return clone(v), err
	}
	if ino.xattrBlock == 0 {
		return nil, vfs.ErrNoXattr
	}
	if ino.xattrBlock >= f.sb.BlocksCount {
		return nil, corrupt(ino.pos, "inode %d: attribute block %d of %d", ino.num, ino.xattrBlock, f.sb.BlocksCount)
	}
	blk, err := f.block(ino.xattrBlock, "extended attribute block")
	if err != nil {
		return nil, err
	}
	blkOff := int64(ino.xattrBlock) * int64(f.sb.BlockSize)
	if binary.LittleEndian.Uint32(blk) != xattrMagic || binary.LittleEndian.Uint32(blk[8:]) != 1 {
		return nil, corrupt(blkOff, "inode %d: extended attribute block without its magic", ino.num)
	}
	v, _, err = findXattr(blk[xattrBlockHeader:], blk, blkOff, index, suffix)
	if err != nil || v != nil {
		return clone(v), err
	}
	return nil, vfs.ErrNoXattr
}

// clone copies a value out of a cached block, keeping nil as nil.
func clone(v []byte) []byte {
	if v == nil {
		return nil
	}
	return append([]byte{}, v...)
}
