package ext4

import "github.com/portable-generator/portable-generator/dissect/internal/vfs"

// metaCacheBytes bounds the metadata blocks one image keeps (see
// vfs.Cache): a megabyte holds the directory, inode-table and extent
// blocks of every path the generator reads.
const metaCacheBytes = 1 << 20

// block returns file-system block n, which holds metadata (a directory
// block, an inode-table block, an extent node). The slice is shared: it
// must not be modified.
func (f *FS) block(n uint64, what string) ([]byte, error) {
	if n >= f.sb.BlocksCount {
		// Callers check the pointers they follow; where this one was
		// stored is not known here.
		return nil, corrupt(-1, "%s at block %d of %d", what, n, f.sb.BlocksCount)
	}
	if b, ok := f.blocks.Get(n); ok {
		return b, nil
	}
	b := make([]byte, f.sb.BlockSize)
	off := int64(n) * int64(f.sb.BlockSize)
	if err := vfs.ReadFull(f.r, b, off, "ext4", what); err != nil {
		return nil, err
	}
	f.blocks.Put(n, b)
	return b, nil
}
