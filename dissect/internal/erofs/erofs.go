package erofs

import (
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// FS is an open erofs image.
type FS struct {
	r      io.ReaderAt
	sb     Superblock
	fsSize uint64 // bytes the file system spans: its blocks, within the image
	budget *vfs.Budget
	cache  *vfs.Cache

	packedMu sync.Mutex
	packed   *packedFile

	zstdOnce sync.Once
	zstd     *zstd.Decoder
	zstdErr  error
}

// Open reads the superblock of the image in r, size bytes long. Reads are
// not charged to b by FS itself: wrap r in a vfs.CountingReaderAt for
// that. Decompression and directory and index entries are charged to b.
func Open(r io.ReaderAt, size int64, b *vfs.Budget) (*FS, error) {
	// The superblock, its checksum and the compression configurations
	// lie in the first 4 KiB, and for the common block sizes so do the
	// first inodes and the root directory: read once, kept as blocks.
	head := make([]byte, min(size, headSize))
	if err := readFull(r, head, 0, "superblock"); err != nil {
		return nil, err
	}
	sb, err := readSuperblock(headReaderAt{r: r, head: head}, size)
	if err != nil {
		return nil, err
	}
	f := &FS{r: r, sb: sb, fsSize: sb.Blocks << sb.blockBits, budget: b, cache: vfs.NewCache(cacheBytes, b)}
	bs := uint64(sb.BlockSize)
	for n := uint64(0); (n+1)*bs <= uint64(len(head)) && n < sb.Blocks; n++ {
		f.cache.Put(n, head[n*bs:(n+1)*bs])
	}
	return f, nil
}

// headSize is how much of the image Open reads at once.
const headSize = 4096

// headReaderAt serves reads within the image's first bytes, already read,
// from memory.
type headReaderAt struct {
	r    io.ReaderAt
	head []byte
}

func (h headReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= 0 && off+int64(len(p)) <= int64(len(h.head)) {
		return copy(p, h.head[off:]), nil
	}
	return h.r.ReadAt(p, off)
}

// Superblock returns the image's superblock.
func (f *FS) Superblock() Superblock { return f.sb }

// Root returns the root directory.
func (f *FS) Root() (vfs.Node, error) {
	ino, err := f.inode(f.sb.RootNid)
	if err != nil {
		return nil, err
	}
	if !ino.mode.IsDir() {
		return nil, corrupt(int64(ino.pos), "root inode %d is not a directory", ino.nid)
	}
	return ino, nil
}

// Lookup finds name in dir and reads its inode.
func (f *FS) Lookup(dir vfs.Node, name string) (vfs.Node, error) {
	d, err := vfs.AsDir[*Inode](dir)
	if err != nil {
		return nil, err
	}
	if name == "" || name == "." || name == ".." || len(name) > maxNameLen {
		return nil, fs.ErrNotExist
	}
	r, err := f.openDir(d)
	if err != nil {
		return nil, err
	}
	defer r.close()
	nid, found, err := r.lookup(name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fs.ErrNotExist
	}
	return f.inode(nid)
}

// ReadDir lists dir, without "." and "..".
func (f *FS) ReadDir(dir vfs.Node) ([]vfs.DirEntry, error) {
	d, err := vfs.AsDir[*Inode](dir)
	if err != nil {
		return nil, err
	}
	r, err := f.openDir(d)
	if err != nil {
		return nil, err
	}
	defer r.close()
	return r.list()
}

// Readlink returns a symlink's target.
func (f *FS) Readlink(link vfs.Node) (string, error) {
	ino, ok := link.(*Inode)
	if !ok || ino.mode&fs.ModeSymlink == 0 {
		return "", fmt.Errorf("not a symlink: %w", fs.ErrInvalid)
	}
	if ino.size > maxSymlink {
		return "", corrupt(int64(ino.pos), "symlink inode %d with a %d-byte target", ino.nid, ino.size)
	}
	r, err := f.content(ino)
	if err != nil {
		return "", err
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	buf := make([]byte, ino.size)
	if n, err := r.ReadAt(buf, 0); n < len(buf) {
		if err == nil || err == io.EOF {
			err = corrupt(int64(ino.pos), "symlink inode %d: target shorter than its size", ino.nid)
		}
		return "", err
	}
	return string(buf), nil
}

// Open returns the content of a regular file.
func (f *FS) Open(file vfs.Node) (io.ReaderAt, error) {
	ino, ok := file.(*Inode)
	if !ok || !ino.mode.IsRegular() {
		return nil, fmt.Errorf("not a regular file: %w", fs.ErrInvalid)
	}
	return f.content(ino)
}

// content returns a reader of the inode's data.
func (f *FS) content(ino *Inode) (io.ReaderAt, error) {
	if ino.compressed() {
		return f.newZFile(ino)
	}
	return flatFile{f: f, ino: ino}, nil
}
