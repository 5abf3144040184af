package dissect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/diskfs/go-diskfs/backend"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/filesystem/squashfs"
	"github.com/erofs/go-erofs"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// The readers in this file adapt existing Go libraries to vfs.FS until our
// own lean readers replace them (see the project's measurements:
// go-diskfs' squashfs cannot read lz4 and costs ~16 MiB per image;
// go-erofs reads plain erofs well but not compressed erofs). vfs.Tree does
// all symlink resolution, so neither library ever follows a link.

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

// squashFS adapts go-diskfs' squashfs reader. It has no Lstat, so a name
// is looked up by listing its directory, and files are opened through the
// entry found (go-diskfs' path open re-reads the whole directory).
type squashFS struct {
	fsys   *squashfs.FileSystem
	budget *vfs.Budget
}

func openSquashfs(r io.ReaderAt, size int64, b *vfs.Budget) (vfs.FS, error) {
	fsys, err := squashfs.Read(&readerStorage{SectionReader: io.NewSectionReader(r, 0, size)}, size, 0, 0)
	if err != nil {
		return nil, vfs.Corruptf("squashfs superblock", 0, "%v", err)
	}
	return &squashFS{fsys: fsys, budget: b}, nil
}

func (s *squashFS) Root() (vfs.Node, error) {
	return &pathNode{path: ".", mode: fs.ModeDir | 0o755}, nil
}

func (s *squashFS) list(dir string) ([]fs.DirEntry, error) {
	ents, err := s.fsys.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	if err := s.budget.Entries(len(ents)); err != nil {
		return nil, err
	}
	return ents, nil
}

func (s *squashFS) Lookup(dir vfs.Node, name string) (vfs.Node, error) {
	dp := dir.(*pathNode).path
	ents, err := s.list(dp)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if e.Name() != name {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		n := nodeFromInfo(path.Join(dp, name), fi)
		n.entry = e
		return n, nil
	}
	return nil, fs.ErrNotExist
}

func (s *squashFS) ReadDir(dir vfs.Node) ([]vfs.DirEntry, error) {
	ents, err := s.list(dir.(*pathNode).path)
	if err != nil {
		return nil, err
	}
	return vfsEntries(ents), nil
}

func (s *squashFS) Readlink(link vfs.Node) (string, error) {
	if rl, ok := link.(*pathNode).entry.(interface{ Readlink() (string, error) }); ok {
		return rl.Readlink()
	}
	return "", fmt.Errorf("%s: %w", link.(*pathNode).path, fs.ErrInvalid)
}

func (s *squashFS) Open(file vfs.Node) (io.ReaderAt, error) {
	n := file.(*pathNode)
	if o, ok := n.entry.(interface {
		Open() (filesystem.File, error)
	}); ok {
		f, err := o.Open()
		if err != nil {
			return nil, err
		}
		return &seqReaderAt{f: f}, nil
	}
	f, err := s.fsys.Open(n.path)
	if err != nil {
		return nil, err
	}
	return readerAt(f, n.size), nil
}

// readerStorage is the go-diskfs backend.Storage it needs, over a section
// of our (budget-counting) reader: read-only, no file descriptor.
type readerStorage struct{ *io.SectionReader }

func (r *readerStorage) Stat() (fs.FileInfo, error) { return nil, fs.ErrInvalid }
func (r *readerStorage) Close() error               { return nil }
func (r *readerStorage) Sys() (*os.File, error)     { return nil, backend.ErrNotSuitable }
func (r *readerStorage) Writable() (backend.WritableFile, error) {
	return nil, backend.ErrIncorrectOpenMode
}
func (r *readerStorage) Path() string { return "" }
