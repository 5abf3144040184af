package dissect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"time"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// dirFS reads a directory image through os.Root, so that even a race
// that swaps a directory for a symlink cannot leave the image. Symlinks are
// never followed here: vfs.Tree chases them inside the image.
//
// The resolver walks from the top for every path (usr, usr/lib, ... once
// per unit file), so each step is made cheap: the directories walked
// through are opened once and kept, a lookup is one fstatat below an open
// directory, and its answer is remembered for the next path that passes.
type dirFS struct {
	root    *os.Root
	budget  *vfs.Budget
	mu      sync.Mutex
	top     *dirNode
	dirs    map[string]*os.Root   // opened directories below root, by path
	lookups map[string]lookupSeen // by path
}

type lookupSeen struct {
	node *dirNode // nil: it does not exist
}

// maxOpenDirs bounds the directories kept open per image; past it a
// directory is opened for one step and closed again. maxLookups bounds the
// answers remembered.
const (
	maxOpenDirs = 64
	maxLookups  = 512
)

type dirNode struct {
	path string // relative to the root, "." for the root itself
	info fs.FileInfo
}

func (n *dirNode) Mode() fs.FileMode  { return n.info.Mode() }
func (n *dirNode) Size() int64        { return n.info.Size() }
func (n *dirNode) ModTime() time.Time { return n.info.ModTime() }

func (d *dirFS) Root() (vfs.Node, error) {
	d.mu.Lock()
	top := d.top
	d.mu.Unlock()
	if top != nil {
		return top, nil
	}
	fi, err := d.root.Lstat(".")
	if err != nil {
		return nil, err
	}
	top = &dirNode{path: ".", info: fi}
	d.mu.Lock()
	d.top = top
	d.mu.Unlock()
	return top, nil
}

// dir returns the open directory at p, and a release function to call
// when done with it.
func (d *dirFS) dir(p string) (*os.Root, func(), error) {
	keep := func() {}
	if p == "." {
		return d.root, keep, nil
	}
	d.mu.Lock()
	r, ok := d.dirs[p]
	d.mu.Unlock()
	if ok {
		return r, keep, nil
	}
	parent, release, err := d.dir(path.Dir(p))
	if err != nil {
		return nil, nil, err
	}
	r, err = parent.OpenRoot(path.Base(p))
	release()
	if err != nil {
		return nil, nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.dirs[p]; ok { // another goroutine opened it meanwhile
		r.Close()
		return old, keep, nil
	}
	if len(d.dirs) >= maxOpenDirs {
		return r, func() { r.Close() }, nil
	}
	if d.dirs == nil {
		d.dirs = map[string]*os.Root{}
	}
	d.dirs[p] = r
	return r, keep, nil
}

// Close closes the directories kept open and the image's root.
func (d *dirFS) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.dirs {
		r.Close()
	}
	d.dirs = nil
	return d.root.Close()
}

func (d *dirFS) Lookup(dir vfs.Node, name string) (vfs.Node, error) {
	dn := dir.(*dirNode)
	if err := d.budget.Entries(1); err != nil {
		return nil, err
	}
	p := path.Join(dn.path, name)
	d.mu.Lock()
	seen, ok := d.lookups[p]
	d.mu.Unlock()
	if ok {
		if seen.node == nil {
			return nil, fs.ErrNotExist
		}
		return seen.node, nil
	}
	parent, release, err := d.dir(dn.path)
	if err != nil {
		return nil, err
	}
	defer release()
	fi, err := parent.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.remember(p, nil)
		return nil, fs.ErrNotExist
	case err != nil:
		return nil, err
	}
	n := &dirNode{path: p, info: fi}
	d.remember(p, n)
	return n, nil
}

func (d *dirFS) remember(p string, n *dirNode) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lookups == nil {
		d.lookups = map[string]lookupSeen{}
	}
	if len(d.lookups) < maxLookups {
		d.lookups[p] = lookupSeen{node: n}
	}
}

func (d *dirFS) ReadDir(dir vfs.Node) ([]vfs.DirEntry, error) {
	r, release, err := d.dir(dir.(*dirNode).path)
	if err != nil {
		return nil, err
	}
	defer release()
	f, err := r.Open(".")
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
	p := link.(*dirNode).path
	parent, release, err := d.dir(path.Dir(p))
	if err != nil {
		return "", err
	}
	defer release()
	return parent.Readlink(path.Base(p))
}

func (d *dirFS) Open(file vfs.Node) (io.ReaderAt, error) {
	p := file.(*dirNode).path
	parent, release, err := d.dir(path.Dir(p))
	if err != nil {
		return nil, err
	}
	defer release()
	// O_NOFOLLOW: the resolver has chased every link already; a file that
	// became a symlink since is refused rather than followed.
	f, err := parent.OpenFile(path.Base(p), os.O_RDONLY|noFollow|noBlock, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s: %w", p, vfs.Unsupportedf("%s where a regular file was (it changed while read)", fileKind(fi.Mode())))
		}
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
	d := &dirFS{root: root, budget: b}
	return &Image{
		Path:   p,
		Kind:   KindDirectory,
		tree:   vfs.NewTree(d, nil, b),
		budget: b,
		closer: d,
	}, nil
}
