package erofs

import (
	"errors"
	"io"
	"sync"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// readFull reads len(p) bytes at off. A short read is corruption (the
// structure runs past the image); a budget refusal stays a budget error.
func readFull(r io.ReaderAt, p []byte, off int64, what string) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if errors.Is(err, vfs.ErrBudget) {
		return err
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return corrupt(off, "%s: %v", what, err)
}

// blockCache keeps the metadata and directory blocks already read. Paths
// share their first blocks (the root directory, the inodes of /usr and
// /usr/lib), so a few dozen entries save most reads; the cap bounds memory
// on hostile images. Blocks are never reused once handed out, so a caller
// may keep a slice of one after it is evicted.
type blockCache struct {
	mu     sync.Mutex
	blocks map[uint64][]byte
}

const cacheBlocks = 64

// block returns block n of the image, read whole.
func (f *FS) block(n uint64) ([]byte, error) {
	f.cache.mu.Lock()
	b, ok := f.cache.blocks[n]
	f.cache.mu.Unlock()
	if ok {
		return b, nil
	}
	if n >= f.sb.Blocks {
		return nil, corrupt(int64(n<<f.sb.blockBits), "block %d beyond the %d blocks of the file system", n, f.sb.Blocks)
	}
	b = make([]byte, f.sb.BlockSize)
	if err := readFull(f.r, b, int64(n<<f.sb.blockBits), "block"); err != nil {
		return nil, err
	}
	f.cache.mu.Lock()
	if f.cache.blocks == nil || len(f.cache.blocks) >= cacheBlocks {
		f.cache.blocks = make(map[uint64][]byte, cacheBlocks)
	}
	f.cache.blocks[n] = b
	f.cache.mu.Unlock()
	return b, nil
}

// meta returns n bytes of metadata at byte off. Within one block it is a
// slice of the cached block, which callers must not modify; across a block
// boundary (an extended inode may straddle one) it is a copy.
func (f *FS) meta(off uint64, n int) ([]byte, error) {
	bs := uint64(f.sb.BlockSize)
	blk, in := off/bs, off%bs
	if n <= 0 || uint64(n) > bs {
		return nil, corrupt(int64(off), "metadata read of %d bytes", n)
	}
	b, err := f.block(blk)
	if err != nil {
		return nil, err
	}
	if in+uint64(n) <= bs {
		return b[in : in+uint64(n)], nil
	}
	next, err := f.block(blk + 1)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, n)
	out = append(out, b[in:]...)
	return append(out, next[:n-len(out)]...), nil
}
