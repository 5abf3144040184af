package vfs

import (
	"fmt"
	"io"
	"io/fs"
	"time"
)

// Node is one inode of a read-only file system. Readers return their own
// concrete types; the resolver only needs these facts.
type Node interface {
	// Mode returns the type and permission bits in io/fs form.
	Mode() fs.FileMode
	// Size is the content length of a regular file or the target length of
	// a symlink. It comes from the image and must not be trusted for
	// allocation.
	Size() int64
	ModTime() time.Time
}

// DirEntry is one name in a directory, as stored on disk.
type DirEntry struct {
	Name string
	Type fs.FileMode // type bits only (fs.ModeDir, fs.ModeSymlink, 0 for regular, ...)
}

// FS is the inode-level view of a file system that each reader implements.
// None of its methods follows symlinks: the resolver (Tree) does that, the
// same way for every reader.
type FS interface {
	// Root returns the root directory.
	Root() (Node, error)
	// Lookup finds one name (never "." or "..", never containing "/") in a
	// directory. A missing name is fs.ErrNotExist; a dir that is not a
	// directory is an error wrapping fs.ErrInvalid.
	Lookup(dir Node, name string) (Node, error)
	// ReadDir returns the entries of a directory without "." and "..", in
	// any order (Tree sorts them).
	ReadDir(dir Node) ([]DirEntry, error)
	// Readlink returns a symlink's target.
	Readlink(link Node) (string, error)
	// Open returns the content of a regular file, Size() bytes long. If the
	// result is also an io.Closer, the tree closes it when done.
	Open(file Node) (io.ReaderAt, error)
}

// AsDir returns n as the reader's own node type T when it is a directory,
// the check every Lookup and ReadDir starts with. Anything else (a node of
// another reader, a file) is an error wrapping fs.ErrInvalid.
func AsDir[T Node](n Node) (T, error) {
	d, ok := n.(T)
	if !ok || !d.Mode().IsDir() {
		var none T
		return none, fmt.Errorf("not a directory: %w", fs.ErrInvalid)
	}
	return d, nil
}

// Releaser is an FS that keeps buffers shared with other images (pools),
// to give back when its image is closed: reading it afterwards is an
// error.
type Releaser interface {
	Release()
}
