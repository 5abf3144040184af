package erofs

import (
	"io"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// readFull reads len(p) bytes at off (see vfs.ReadFull).
func readFull(r io.ReaderAt, p []byte, off int64, what string) error {
	return vfs.ReadFull(r, p, off, "erofs", what)
}

// cacheBytes bounds the metadata and directory blocks kept per image (see
// vfs.Cache): a hundred 4 KiB blocks hold every block the paths the
// generator walks share.
const cacheBytes = 512 << 10

// block returns block n of the image, read whole.
func (f *FS) block(n uint64) ([]byte, error) {
	if b, ok := f.cache.Get(n); ok {
		return b, nil
	}
	if n >= f.sb.Blocks {
		return nil, corrupt(int64(n<<f.sb.blockBits), "block %d beyond the %d blocks of the file system", n, f.sb.Blocks)
	}
	b := make([]byte, f.sb.BlockSize)
	if err := readFull(f.r, b, int64(n<<f.sb.blockBits), "block"); err != nil {
		return nil, err
	}
	f.cache.Put(n, b)
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
