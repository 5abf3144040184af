package squashfs

import (
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// FS is an open SquashFS image.
type FS struct {
	r      io.ReaderAt
	sb     Superblock
	budget *vfs.Budget
	cache  metaCache
	frags  fragmentCache
	// released is set when the image is closed (Release, with frags.mu
	// held): its fragment buffers went back to the pools, and a file
	// still open must not read them.
	released atomic.Bool

	// The resolver walks every path from the root (usr, usr/lib, ... once
	// per unit file): the root inode and the answers of lookups are kept.
	rootOnce sync.Once
	root     *Inode
	rootErr  error
	mu       sync.Mutex
	lookups  map[lookupKey]*Inode // nil: the name does not exist
}

// lookupKey names an entry by its directory: the listing decides which
// inode the name has, and the directory's number whether that inode may
// be found there (see the parent check in Lookup). Two directories of a
// hostile image can share a listing; keyed by the listing alone, the
// second would get the first one's answer without the check.
type lookupKey struct {
	dir       uint32 // inode number
	dirBlock  uint32
	dirOffset uint16
	size      uint64
	name      string
}

// maxLookups bounds the lookups remembered per image.
const maxLookups = 512

// Open reads the superblock of the image in r, size bytes long. Reads are
// not charged to b by FS itself: wrap r in a vfs.CountingReaderAt for
// that. Decompression and directory entries are charged to b.
func Open(r io.ReaderAt, size int64, b *vfs.Budget) (*FS, error) {
	sb, err := readSuperblock(r, size)
	if err != nil {
		return nil, err
	}
	return &FS{r: r, sb: sb, budget: b}, nil
}

// Superblock returns the image's superblock.
func (f *FS) Superblock() Superblock { return f.sb }

// Root returns the root directory.
func (f *FS) Root() (vfs.Node, error) {
	f.rootOnce.Do(func() {
		ino, err := f.inode(f.sb.RootInode)
		switch {
		case err != nil:
			f.rootErr = err
		case !ino.mode.IsDir():
			f.rootErr = corrupt(int64(f.sb.InodeTableStart), "root inode is not a directory")
		default:
			f.root = ino
		}
	})
	if f.rootErr != nil {
		return nil, f.rootErr
	}
	return f.root, nil
}

// Lookup finds name in dir and reads its inode.
func (f *FS) Lookup(dir vfs.Node, name string) (vfs.Node, error) {
	d, err := vfs.AsDir[*Inode](dir)
	if err != nil {
		return nil, err
	}
	key := lookupKey{d.number, d.dirBlock, d.dirOffset, d.size, name}
	f.mu.Lock()
	seen, ok := f.lookups[key]
	f.mu.Unlock()
	if ok {
		if seen == nil {
			return nil, fs.ErrNotExist
		}
		return seen, nil
	}
	var ref uint64
	found := false
	at, err := f.indexPoint(d, name)
	if err != nil {
		return nil, err
	}
	// Listings are sorted by name: past it, the name is not there.
	err = f.walkDirFrom(d, at, func(e dirent) bool {
		if e.name == name {
			ref, found = e.ref, true
		}
		return e.name < name
	})
	if err != nil {
		return nil, err
	}
	if !found {
		f.remember(key, nil)
		return nil, fs.ErrNotExist
	}
	ino, err := f.inode(ref)
	if err != nil {
		return nil, err
	}
	// A directory names the directory that holds it (the kernel answers
	// ".." with it). One found elsewhere is a cycle or a second link to a
	// directory, which squashfs cannot have: without this check a walk
	// of a 1 KiB image could descend forever, each step resolving a
	// longer path.
	if ino.mode.IsDir() && ino.parent != d.number {
		return nil, corrupt(int64(f.sb.InodeTableStart), "directory inode %d found in directory inode %d, but its parent is inode %d", ino.number, d.number, ino.parent)
	}
	f.remember(key, ino)
	return ino, nil
}

func (f *FS) remember(key lookupKey, ino *Inode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lookups == nil {
		f.lookups = map[lookupKey]*Inode{}
	}
	if len(f.lookups) < maxLookups {
		f.lookups[key] = ino
	}
}

// ReadDir lists dir.
func (f *FS) ReadDir(dir vfs.Node) ([]vfs.DirEntry, error) {
	d, err := vfs.AsDir[*Inode](dir)
	if err != nil {
		return nil, err
	}
	var out []vfs.DirEntry
	var inner error
	err = f.walkDir(d, func(e dirent) bool {
		out = append(out, vfs.DirEntry{Name: e.name, Type: modeOf(e.typ, 0).Type()})
		inner = f.budget.Listing(len(out))
		return inner == nil
	})
	if err == nil {
		err = inner
	}
	return out, err
}

// Readlink returns a symlink's target.
func (f *FS) Readlink(link vfs.Node) (string, error) {
	ino, ok := link.(*Inode)
	if !ok || ino.mode&fs.ModeSymlink == 0 {
		return "", fmt.Errorf("not a symlink: %w", fs.ErrInvalid)
	}
	return ino.target, nil
}

// Open returns the content of a regular file.
func (f *FS) Open(file vfs.Node) (io.ReaderAt, error) {
	ino, ok := file.(*Inode)
	if !ok || !ino.mode.IsRegular() {
		return nil, fmt.Errorf("not a regular file: %w", fs.ErrInvalid)
	}
	return f.newFile(ino), nil
}
