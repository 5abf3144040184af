package ext4

import (
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// FS is an open ext2/3/4 file system.
type FS struct {
	r           io.ReaderAt
	sb          Superblock
	budget      *vfs.Budget
	sparseSuper bool

	mu          sync.Mutex
	inodeTables map[uint64]uint64 // group → first block of its inode table
	// names caches the listings of the few large unindexed directories
	// looked up last (mke2fs -d writes no htree indexes): the generator
	// looks up several names in one unit directory, and a listing read
	// once costs its entries once.
	names       map[uint32]map[string]uint32
	cachedNames int // names held in all of names
	cachedBytes int // what they hold, counted in the budget
	maxNames    int // cachedDirNames, lowered by tests
	// blocks caches metadata blocks by number (see block).
	blocks *vfs.Cache
}

// Bounds of the listing cache: a handful of directories holding at most
// this many names together (a few MiB even with 255-byte names), so an
// image cannot make the cache large; a directory with more is scanned.
const (
	cachedDirs     = 8
	cachedDirNames = 1 << 15
)

// Open reads the superblock of the file system in r, size bytes long.
// Reads are charged to b only through r (wrap it in a
// vfs.CountingReaderAt); directory entries and extent nodes are charged to
// b directly.
func Open(r io.ReaderAt, size int64, b *vfs.Budget) (*FS, error) {
	sb, err := readSuperblock(r, size)
	if err != nil {
		return nil, err
	}
	return &FS{r: r, sb: sb, budget: b, sparseSuper: sb.FeatureROCompat&roCompatSparseSuper != 0,
		inodeTables: map[uint64]uint64{}, names: map[uint32]map[string]uint32{}, maxNames: cachedDirNames, blocks: vfs.NewCache(metaCacheBytes, b)}, nil
}

// Superblock returns the file system's superblock.
func (f *FS) Superblock() Superblock { return f.sb }

func unsupportedf(format string, args ...any) error {
	return vfs.Unsupportedf("ext4: "+format, args...)
}

// Root returns the root directory, inode 2.
func (f *FS) Root() (vfs.Node, error) {
	ino, err := f.inode(rootInode)
	if err != nil {
		return nil, err
	}
	if !ino.mode.IsDir() {
		return nil, corrupt(superblockOffset, "root inode is not a directory")
	}
	return ino, nil
}

// Lookup finds name in dir through its htree index, or by scanning it when
// it has none.
func (f *FS) Lookup(dir vfs.Node, name string) (vfs.Node, error) {
	d, err := vfs.AsDir[*Inode](dir)
	if err != nil {
		return nil, err
	}
	if d.flags&flagCasefold != 0 && f.sb.FeatureIncompat&incompatCasefold != 0 {
		return f.lookupFolded(d, name)
	}
	num, indexed, err := f.lookupIndexed(d, name)
	if err != nil {
		return nil, err
	}
	if indexed {
		if num == 0 {
			return nil, fs.ErrNotExist
		}
		return f.inode(num)
	}
	if d.size > uint64(f.sb.BlockSize) {
		if names, err := f.listing(d); err != nil {
			return nil, err
		} else if names != nil {
			if num = names[name]; num == 0 {
				return nil, fs.ErrNotExist
			}
			return f.inode(num)
		}
	}
	err = f.walkDir(d, func(e dirent) bool {
		if e.name == name {
			num = e.inode
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if num == 0 {
		return nil, fs.ErrNotExist
	}
	return f.inode(num)
}

// lookupFolded finds name in a casefolded directory, where the kernel
// compares names without regard to case, by scanning it: its index is
// sorted by the hashes of Unicode-folded names, which this reader does not
// compute. The name as stored wins over one that differs only in case
// (the kernel lets no two of those into one directory). Go's simple case
// folding stands in for the kernel's full folding and normalisation;
// they differ only for a few non-ASCII names.
func (f *FS) lookupFolded(d *Inode, name string) (vfs.Node, error) {
	var num, folded uint32
	err := f.walkDir(d, func(e dirent) bool {
		switch {
		case e.name == name:
			num = e.inode
			return false
		case folded == 0 && strings.EqualFold(e.name, name):
			folded = e.inode
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if num == 0 {
		num = folded
	}
	if num == 0 {
		return nil, fs.ErrNotExist
	}
	return f.inode(num)
}

// listing returns d's names from the cache, reading d whole the first
// time; nil when d has too many names to cache.
func (f *FS) listing(d *Inode) (map[string]uint32, error) {
	f.mu.Lock()
	names, ok := f.names[d.num]
	f.mu.Unlock()
	if ok {
		return names, nil
	}
	names = map[string]uint32{}
	err := f.walkDir(d, func(e dirent) bool {
		names[e.name] = e.inode
		return len(names) <= f.maxNames
	})
	if err != nil {
		return nil, err
	}
	if len(names) > f.maxNames {
		names = nil
	}
	// What the names hold is counted in the budget: the name and about
	// as much again for the map's own entry.
	size := 0
	for name := range names {
		size += len(name) + nameOverhead
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.names) >= cachedDirs || f.cachedNames+len(names) > f.maxNames {
		clear(f.names)
		f.cachedNames = 0
		f.budget.Free(f.cachedBytes)
		f.cachedBytes = 0
	}
	if f.budget.Alloc(size) == nil {
		f.names[d.num] = names
		f.cachedNames += len(names)
		f.cachedBytes += size
	}
	return names, nil
}

// nameOverhead is what a map entry of the listing cache costs besides
// its name's bytes.
const nameOverhead = 48

// ReadDir lists dir.
func (f *FS) ReadDir(dir vfs.Node) ([]vfs.DirEntry, error) {
	d, err := vfs.AsDir[*Inode](dir)
	if err != nil {
		return nil, err
	}
	var out []vfs.DirEntry
	var inner error
	err = f.walkDir(d, func(e dirent) bool {
		typ, ok := vfs.DirentType(e.fileType)
		if !ok {
			// No file type in the entry (ext2 without filetype):
			// the inode says.
			ino, err := f.inode(e.inode)
			if err != nil {
				inner = err
				return false
			}
			typ = ino.mode.Type()
		}
		out = append(out, vfs.DirEntry{Name: e.name, Type: typ})
		inner = f.budget.Listing(len(out))
		return inner == nil
	})
	if err == nil {
		err = inner
	}
	return out, err
}

// maxSymlink is PATH_MAX: no kernel would follow a longer target.
const maxSymlink = 4096

// Readlink returns a symlink's target: in i_block for fast symlinks, in
// inline data, or in the symlink's data blocks.
func (f *FS) Readlink(link vfs.Node) (string, error) {
	ino, ok := link.(*Inode)
	if !ok || ino.mode&fs.ModeSymlink == 0 {
		return "", fmt.Errorf("not a symlink: %w", fs.ErrInvalid)
	}
	if ino.size == 0 || ino.size > maxSymlink {
		return "", corrupt(ino.pos, "symlink inode %d with a %d-byte target", ino.num, ino.size)
	}
	if ino.fast {
		if ino.size >= uint64(len(ino.blocks)) {
			return "", corrupt(ino.pos, "symlink inode %d: a %d-byte target cannot be stored in the inode", ino.num, ino.size)
		}
		return string(ino.blocks[:ino.size]), nil
	}
	buf := make([]byte, ino.size)
	if _, err := f.newFile(ino).ReadAt(buf, 0); err != nil && err != io.EOF {
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
	return f.newFile(ino), nil
}

// file serves ReadAt over an inode's blocks or inline data.
type file struct {
	f   *FS
	ino *Inode
}

func (f *FS) newFile(ino *Inode) *file { return &file{f: f, ino: ino} }

func (r *file) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	size := r.ino.size
	if uint64(off) >= size {
		return 0, io.EOF
	}
	short := false
	if uint64(off)+uint64(len(p)) > size {
		p, short = p[:size-uint64(off)], true
	}
	var n int
	var err error
	if r.ino.flags&flagInlineData != 0 {
		data := append(r.ino.blocks[:len(r.ino.blocks):len(r.ino.blocks)], r.ino.inline...)
		n = copy(p, data[off:])
	} else {
		n, err = r.readBlocks(p, uint64(off))
	}
	if err == nil && short {
		err = io.EOF
	}
	return n, err
}

// readBlocks fills p from the file's blocks starting at byte off.
func (r *file) readBlocks(p []byte, off uint64) (int, error) {
	bs := uint64(r.f.sb.BlockSize)
	n := 0
	for len(p) > 0 {
		lblk, within := off/bs, off%bs
		rn, err := r.f.mapBlock(r.ino, lblk)
		if err != nil {
			return n, err
		}
		avail := rn.count*bs - within
		if rn.count > (1<<63)/bs {
			avail = uint64(len(p))
		}
		chunk := p[:min(uint64(len(p)), avail)]
		if rn.hole {
			// Zeros made from nothing read: as decompressed bytes,
			// they are bounded by the bytes read.
			if err := r.f.budget.Decompress(len(chunk)); err != nil {
				return n, err
			}
			clear(chunk)
		} else if err := vfs.ReadFull(r.f.r, chunk, int64(rn.phys*bs+within), "ext4", fmt.Sprintf("inode %d: data", r.ino.num)); err != nil {
			return n, err
		}
		n += len(chunk)
		p = p[len(chunk):]
		off += uint64(len(chunk))
	}
	return n, nil
}
