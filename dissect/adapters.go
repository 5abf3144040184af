package dissect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"time"

	"github.com/erofs/go-erofs"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// The reader in this file adapts go-erofs to vfs.FS until our own erofs
// reader replaces it (go-erofs reads plain erofs well but not compressed
// erofs). vfs.Tree does all symlink resolution, so the library never
// follows a link.

// pathNode is a node of a path-addressed file system.
type pathNode struct {
	path  string
	mode  fs.FileMode
	size  int64
	mtime time.Time
	entry fs.DirEntry // the library's entry, when it was found through ReadDir
}

func (n *pathNode) Mode() fs.FileMode  { return n.mode }
func (n *pathNode) Size() int64        { return n.size }
func (n *pathNode) ModTime() time.Time { return n.mtime }

// erofsFS adapts go-erofs, which offers Lstat and ReadLink.
type erofsFS struct {
	fsys   fs.FS
	budget *vfs.Budget
}

func openErofs(r io.ReaderAt, b *vfs.Budget) (vfs.FS, error) {
	fsys, err := erofs.Open(r)
	if err != nil {
		if errors.Is(err, erofs.ErrNotImplemented) {
			return nil, vfs.Unsupportedf("compressed erofs (%v)", err)
		}
		return nil, vfs.Corruptf("erofs superblock", 1024, "%v", err)
	}
	return &erofsFS{fsys: fsys, budget: b}, nil
}

func nodeFromInfo(p string, fi fs.FileInfo) *pathNode {
	return &pathNode{path: p, mode: fi.Mode(), size: fi.Size(), mtime: fi.ModTime()}
}

func (e *erofsFS) Root() (vfs.Node, error) {
	fi, err := fs.Stat(e.fsys, ".")
	if err != nil {
		return nil, err
	}
	return nodeFromInfo(".", fi), nil
}

func (e *erofsFS) Lookup(dir vfs.Node, name string) (vfs.Node, error) {
	if err := e.budget.Entries(1); err != nil {
		return nil, err
	}
	p := path.Join(dir.(*pathNode).path, name)
	fi, err := fs.Lstat(e.fsys, p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fs.ErrNotExist
		}
		return nil, err
	}
	return nodeFromInfo(p, fi), nil
}

func (e *erofsFS) ReadDir(dir vfs.Node) ([]vfs.DirEntry, error) {
	ents, err := fs.ReadDir(e.fsys, dir.(*pathNode).path)
	if err != nil {
		return nil, err
	}
	if err := e.budget.Entries(len(ents)); err != nil {
		return nil, err
	}
	return vfsEntries(ents), nil
}

func vfsEntries(ents []fs.DirEntry) []vfs.DirEntry {
	out := make([]vfs.DirEntry, len(ents))
	for i, d := range ents {
		out[i] = vfs.DirEntry{Name: d.Name(), Type: d.Type()}
	}
	return out
}

func (e *erofsFS) Readlink(link vfs.Node) (string, error) {
	return fs.ReadLink(e.fsys, link.(*pathNode).path)
}

func (e *erofsFS) Open(file vfs.Node) (io.ReaderAt, error) {
	f, err := e.fsys.Open(file.(*pathNode).path)
	if err != nil {
		return nil, err
	}
	return readerAt(f, file.Size()), nil
}

// readerAt gives random access to a library's file: directly when it has
// ReadAt, by seeking when it can, else by reading from the start.
func readerAt(f fs.File, size int64) io.ReaderAt {
	if ra, ok := f.(io.ReaderAt); ok {
		return closingReaderAt{ra, f}
	}
	return &seqReaderAt{f: f}
}

type closingReaderAt struct {
	io.ReaderAt
	c io.Closer
}

func (c closingReaderAt) Close() error { return c.c.Close() }

// seqReaderAt serves ReadAt over a sequential file; reads at earlier
// offsets reopen nothing and fail, which the tree's readers never need.
type seqReaderAt struct {
	f   fs.File
	pos int64
}

func (s *seqReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if sk, ok := s.f.(io.Seeker); ok {
		if _, err := sk.Seek(off, io.SeekStart); err != nil {
			return 0, err
		}
		s.pos = off
	}
	if off < s.pos {
		return 0, fmt.Errorf("backwards read at %d after %d", off, s.pos)
	}
	if off > s.pos {
		if _, err := io.CopyN(io.Discard, s.f, off-s.pos); err != nil {
			return 0, err
		}
		s.pos = off
	}
	n, err := io.ReadFull(s.f, p)
	s.pos += int64(n)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

func (s *seqReaderAt) Close() error { return s.f.Close() }
