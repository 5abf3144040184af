package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// MaxReadFile is the largest file a tree without a budget (or a FileSize
// limit) serves: a size field that claims more is not allocated for. The
// budget's FileSize, MaxFileSize by default, is lower.
const MaxReadFile = 16 << 20

// Tree is an io/fs.FS over an image's file systems with chroot semantics:
// every absolute or relative path and symlink target resolves inside the
// tree, ".." stops at its root, and symlink chains are bounded.
//
// A tree is one root file system with optional file systems mounted on
// top-level directories (a split image's usr partition at /usr). A tree with
// no root file system is an empty root directory holding only its mounts (a
// /usr-only image).
//
// Tree implements fs.FS, fs.ReadDirFS, fs.ReadFileFS, fs.StatFS and
// fs.ReadLinkFS.
type Tree struct {
	root   FS // nil: a synthetic root holding only mounts
	mounts map[string]FS
	budget *Budget
}

// NewTree returns a tree rooted at root (which may be nil) with mounts at
// the given top-level names. The budget (may be nil) counts symlink hops.
func NewTree(root FS, mounts map[string]FS, b *Budget) *Tree {
	return &Tree{root: root, mounts: mounts, budget: b}
}

// Release lets the tree's file systems give back what they keep for their
// image (see Releaser); the tree is not read afterwards.
func (t *Tree) Release() {
	for _, f := range t.mounts {
		if r, ok := f.(Releaser); ok {
			r.Release()
		}
	}
	if r, ok := t.root.(Releaser); ok {
		r.Release()
	}
}

// loc is one step of a resolved path: a node in one of the tree's file
// systems. A nil fsys with a nil node is the synthetic root.
type loc struct {
	fsys FS
	node Node
	name string // the name this step was reached by, "" for the root
}

func (t *Tree) rootLoc() (loc, error) {
	if t.root == nil {
		return loc{}, nil
	}
	n, err := t.root.Root()
	if err != nil {
		return loc{}, err
	}
	return loc{fsys: t.root, node: n}, nil
}

// child looks up name below the last element of stack.
func (t *Tree) child(stack []loc, name string) (loc, error) {
	cur := stack[len(stack)-1]
	if len(stack) == 1 {
		if m, ok := t.mounts[name]; ok {
			n, err := m.Root()
			if err != nil {
				return loc{}, err
			}
			return loc{fsys: m, node: n, name: name}, nil
		}
		if cur.fsys == nil {
			return loc{}, fs.ErrNotExist
		}
	}
	if !cur.node.Mode().IsDir() {
		return loc{}, fmt.Errorf("%s: %w", name, errNotDir)
	}
	n, err := cur.fsys.Lookup(cur.node, name)
	if err != nil {
		return loc{}, err
	}
	return loc{fsys: cur.fsys, node: n, name: name}, nil
}

var errNotDir = errors.New("not a directory")

// resolve walks name (an fs.ValidPath or an absolute in-image path) and
// returns the stack of locations from the root. Symlinks in intermediate
// components are always followed; the final one only if followLast.
func (t *Tree) resolve(name string, followLast bool) ([]loc, error) {
	r, err := t.rootLoc()
	if err != nil {
		return nil, err
	}
	stack := make([]loc, 1, 8) // deep enough for the paths the generator walks
	stack[0] = r
	hops := 0
	// pending holds the components still to walk, in order.
	pending := splitPath(name)
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case ".":
			continue
		case "..":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		// Each step costs, whatever the reader caches: a walk down a
		// directory cycle grows its paths with every level, and must run
		// out of budget rather than time.
		if err := t.budget.Entries(1); err != nil {
			return nil, err
		}
		next, err := t.child(stack, c)
		if err != nil {
			return nil, err
		}
		if next.node != nil && next.node.Mode()&fs.ModeSymlink != 0 && (len(pending) > 0 || followLast) {
			hops++
			if err := t.budget.hop(hops); err != nil {
				return nil, err
			}
			target, err := next.fsys.Readlink(next.node)
			if err != nil {
				return nil, err
			}
			if target == "" {
				return nil, fmt.Errorf("empty symlink target: %w", fs.ErrNotExist)
			}
			if strings.HasPrefix(target, "/") {
				stack = stack[:1]
			}
			pending = append(splitPath(target), pending...)
			continue
		}
		stack = append(stack, next)
	}
	return stack, nil
}

// splitPath returns p's non-empty components, in one allocation: every
// path the generator reads goes through it.
func splitPath(p string) []string {
	out := make([]string, 0, strings.Count(p, "/")+1)
	for p != "" {
		c := p
		if i := strings.IndexByte(p, '/'); i >= 0 {
			c, p = p[:i], p[i+1:]
		} else {
			p = ""
		}
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

func pathErr(op, name string, err error) error {
	if errors.Is(err, errNotDir) {
		err = fmt.Errorf("%w: not a directory", fs.ErrNotExist)
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

func checkName(op, name string) error {
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return nil
}

// Resolve follows name inside the tree, as Open would, and returns the
// canonical in-image path it ends at (always starting with "/"). name may be
// absolute ("/etc/os-release") or fs-style ("etc/os-release").
func (t *Tree) Resolve(name string) (string, error) {
	stack, err := t.resolve(name, true)
	if err != nil {
		return "", pathErr("resolve", name, err)
	}
	var b strings.Builder
	for _, l := range stack[1:] {
		b.WriteString("/")
		b.WriteString(l.name)
	}
	if b.Len() == 0 {
		return "/", nil
	}
	return b.String(), nil
}

// Open implements fs.FS.
func (t *Tree) Open(name string) (fs.File, error) {
	if err := checkName("open", name); err != nil {
		return nil, err
	}
	stack, err := t.resolve(name, true)
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	l := stack[len(stack)-1]
	info := t.info(l, path.Base(name), len(stack) == 1)
	if info.IsDir() {
		return &dir{t: t, l: l, info: info, root: len(stack) == 1}, nil
	}
	f := &file{info: info}
	if info.Mode().IsRegular() {
		if err := t.budget.CheckFileSize(l.node.Size()); err != nil {
			return nil, pathErr("open", name, err)
		}
		r, err := l.fsys.Open(l.node)
		if err != nil {
			return nil, pathErr("open", name, err)
		}
		f.r = io.NewSectionReader(r, 0, l.node.Size())
		f.closer, _ = r.(io.Closer)
	}
	return f, nil
}

// Stat implements fs.StatFS.
func (t *Tree) Stat(name string) (fs.FileInfo, error) {
	if err := checkName("stat", name); err != nil {
		return nil, err
	}
	stack, err := t.resolve(name, true)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	return t.info(stack[len(stack)-1], path.Base(name), len(stack) == 1), nil
}

// Lstat implements fs.ReadLinkFS: it does not follow a final symlink.
func (t *Tree) Lstat(name string) (fs.FileInfo, error) {
	if err := checkName("lstat", name); err != nil {
		return nil, err
	}
	stack, err := t.resolve(name, false)
	if err != nil {
		return nil, pathErr("lstat", name, err)
	}
	return t.info(stack[len(stack)-1], path.Base(name), len(stack) == 1), nil
}

// ReadLink implements fs.ReadLinkFS.
func (t *Tree) ReadLink(name string) (string, error) {
	if err := checkName("readlink", name); err != nil {
		return "", err
	}
	stack, err := t.resolve(name, false)
	if err != nil {
		return "", pathErr("readlink", name, err)
	}
	l := stack[len(stack)-1]
	if l.node == nil || l.node.Mode()&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	target, err := l.fsys.Readlink(l.node)
	if err != nil {
		return "", pathErr("readlink", name, err)
	}
	return target, nil
}

// ReadFile implements fs.ReadFileFS. It refuses files larger than the
// budget's FileSize (as Open does), whatever their inode claims, before
// reading or allocating anything for them.
func (t *Tree) ReadFile(name string) ([]byte, error) {
	if err := checkName("readfile", name); err != nil {
		return nil, err
	}
	stack, err := t.resolve(name, true)
	if err != nil {
		return nil, pathErr("readfile", name, err)
	}
	l := stack[len(stack)-1]
	if l.node == nil || !l.node.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: fmt.Errorf("%w: not a regular file", fs.ErrInvalid)}
	}
	size := l.node.Size()
	if err := t.budget.CheckFileSize(size); err != nil {
		return nil, pathErr("readfile", name, err)
	}
	r, err := l.fsys.Open(l.node)
	if err != nil {
		return nil, pathErr("readfile", name, err)
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	// The content is held while it is read, then handed over.
	if err := t.budget.Alloc(int(size)); err != nil {
		return nil, pathErr("readfile", name, err)
	}
	defer t.budget.Free(int(size))
	buf := make([]byte, size)
	n, err := r.ReadAt(buf, 0)
	if n == len(buf) {
		return buf, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, pathErr("readfile", name, err)
}

// ReadDir implements fs.ReadDirFS: entries sorted by name.
func (t *Tree) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := checkName("readdir", name); err != nil {
		return nil, err
	}
	stack, err := t.resolve(name, true)
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	l := stack[len(stack)-1]
	ents, err := t.readDir(l, len(stack) == 1)
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	return ents, nil
}

func (t *Tree) readDir(l loc, isRoot bool) ([]fs.DirEntry, error) {
	var raw []DirEntry
	if l.fsys != nil {
		if !l.node.Mode().IsDir() {
			return nil, fmt.Errorf("%w: not a directory", fs.ErrInvalid)
		}
		var err error
		raw, err = l.fsys.ReadDir(l.node)
		if err != nil {
			return nil, err
		}
	}
	out := make([]fs.DirEntry, 0, len(raw)+len(t.mounts))
	seen := map[string]bool{}
	if isRoot {
		for name := range t.mounts {
			seen[name] = true
			out = append(out, &dirEntry{t: t, parent: l, isRoot: true, name: name, typ: fs.ModeDir})
		}
	}
	for _, e := range raw {
		if seen[e.Name] || e.Name == "" || e.Name == "." || e.Name == ".." || strings.Contains(e.Name, "/") {
			continue
		}
		out = append(out, &dirEntry{t: t, parent: l, isRoot: isRoot, name: e.Name, typ: e.Type.Type()})
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

func (t *Tree) info(l loc, name string, isRoot bool) fs.FileInfo {
	if isRoot {
		name = "."
	}
	if l.node == nil {
		return fileInfo{name: name, mode: fs.ModeDir | 0o755}
	}
	return fileInfo{name: name, mode: l.node.Mode(), size: l.node.Size(), mtime: l.node.ModTime(), sys: l.node}
}

type fileInfo struct {
	name  string
	mode  fs.FileMode
	size  int64
	mtime time.Time
	sys   any
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return i.mtime }
func (i fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fileInfo) Sys() any           { return i.sys }

type dirEntry struct {
	t      *Tree
	parent loc
	isRoot bool
	name   string
	typ    fs.FileMode
}

func (e *dirEntry) Name() string      { return e.name }
func (e *dirEntry) IsDir() bool       { return e.typ.IsDir() }
func (e *dirEntry) Type() fs.FileMode { return e.typ }
func (e *dirEntry) Info() (fs.FileInfo, error) {
	// child consults the mounts only for a one-element stack (the root).
	stack := []loc{e.parent}
	if !e.isRoot {
		stack = []loc{{}, e.parent}
	}
	l, err := e.t.child(stack, e.name)
	if err != nil {
		return nil, err
	}
	return e.t.info(l, e.name, false), nil
}
func (e *dirEntry) String() string { return fs.FormatDirEntry(e) }

type file struct {
	info   fs.FileInfo
	r      *io.SectionReader
	closer io.Closer // set when the reader's Open handed out something to close
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}
func (f *file) Read(p []byte) (int, error) {
	if f.r == nil {
		return 0, &fs.PathError{Op: "read", Path: f.info.Name(), Err: fs.ErrInvalid}
	}
	return f.r.Read(p)
}
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if f.r == nil {
		return 0, &fs.PathError{Op: "read", Path: f.info.Name(), Err: fs.ErrInvalid}
	}
	return f.r.ReadAt(p, off)
}
func (f *file) Seek(off int64, whence int) (int64, error) {
	if f.r == nil {
		return 0, &fs.PathError{Op: "seek", Path: f.info.Name(), Err: fs.ErrInvalid}
	}
	return f.r.Seek(off, whence)
}

type dir struct {
	t       *Tree
	l       loc
	info    fs.FileInfo
	root    bool
	entries []fs.DirEntry
	read    bool
}

func (d *dir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dir) Close() error               { return nil }
func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.Name(), Err: fmt.Errorf("%w: is a directory", fs.ErrInvalid)}
}

// ReadDir implements fs.ReadDirFile.
func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		ents, err := d.t.readDir(d.l, d.root)
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: d.info.Name(), Err: err}
		}
		d.entries, d.read = ents, true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}
