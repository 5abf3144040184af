package ext4

// metaCacheBytes bounds the metadata blocks one image keeps. The resolver
// walks every path from the root, so the same directory, inode-table and
// extent blocks are asked for again and again; a megabyte holds all of
// them for the paths the generator reads.
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
	f.mu.Lock()
	b, ok := f.blocks[n]
	f.mu.Unlock()
	if ok {
		return b, nil
	}
	b = make([]byte, f.sb.BlockSize)
	off := int64(n) * int64(f.sb.BlockSize)
	if _, err := f.r.ReadAt(b, off); err != nil {
		return nil, corrupt(off, "%s: %v", what, err)
	}
	f.mu.Lock()
	if (len(f.blocks)+1)*int(f.sb.BlockSize) > metaCacheBytes {
		clear(f.blocks)
	}
	f.blocks[n] = b
	f.mu.Unlock()
	return b, nil
}
