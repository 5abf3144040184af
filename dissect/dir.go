package dissect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// dirFS reads a directory image through an os.Root, so that even a race
// that swaps a directory for a symlink cannot leave the image. Symlinks are
// never followed here: vfs.Tree chases them inside the image.
type dirFS struct {
	root   *os.Root
	budget *vfs.Budget
}

type dirNode struct {
	path string // relative to the root, "." for the root itself
	info fs.FileInfo
}

func (n *dirNode) Mode() fs.FileMode  { return n.info.Mode() }
func (n *dirNode) Size() int64        { return n.info.Size() }
func (n *dirNode) ModTime() time.Time { return n.info.ModTime() }

func (d *dirFS) Root() (vfs.Node, error) {
	fi, err := d.root.Lstat(".")
	if err != nil {
		return nil, err
	}
	return &dirNode{path: ".", info: fi}, nil
}

func (d *dirFS) Lookup(dir vfs.Node, name string) (vfs.Node, error) {
	dn := dir.(*dirNode)
	p := path.Join(dn.path, name)
	if err := d.budget.Entries(1); err != nil {
		return nil, err
	}
	fi, err := d.root.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fs.ErrNotExist
		}
		return nil, err
	}
	return &dirNode{path: p, info: fi}, nil
}

func (d *dirFS) ReadDir(dir vfs.Node) ([]vfs.DirEntry, error) {
	f, err := d.root.Open(dir.(*dirNode).path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []vfs.DirEntry
	for {
		ents, err := f.ReadDir(1024)
		if err := d.budget.Entries(len(ents)); err != nil {
			return nil, err
		}
		for _, e := range ents {
			out = append(out, vfs.DirEntry{Name: e.Name(), Type: e.Type()})
		}
		if err == io.EOF || len(ents) == 0 {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (d *dirFS) Readlink(link vfs.Node) (string, error) {
	return d.root.Readlink(link.(*dirNode).path)
}

func (d *dirFS) Open(file vfs.Node) (io.ReaderAt, error) {
	dn := file.(*dirNode)
	// O_NOFOLLOW: the resolver has chased every link already; a file that
	// became a symlink since is refused rather than followed.
	f, err := d.root.OpenFile(dn.path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, budget: d.budget}, nil
}

// countingFile charges reads of a directory image's files to the budget.
type countingFile struct {
	*os.File
	budget *vfs.Budget
}

func (c *countingFile) ReadAt(p []byte, off int64) (int, error) {
	if err := c.budget.Read(len(p)); err != nil {
		return 0, err
	}
	return c.File.ReadAt(p, off)
}

func openDirectory(p string, b *vfs.Budget) (*Image, error) {
	root, err := os.OpenRoot(p)
	if err != nil {
		return nil, fmt.Errorf("open directory image: %w", err)
	}
	return &Image{
		Path:   p,
		Kind:   KindDirectory,
		tree:   vfs.NewTree(&dirFS{root: root, budget: b}, nil, b),
		budget: b,
		closer: root,
	}, nil
}
