package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/portable-generator/portable-generator/dissect"
)

// ErrUntrusted marks a file or directory that may not steer the generator:
// not owned by root, or writable by group or others.
var ErrUntrusted = errors.New("untrusted")

// untrustedError says why one path is untrusted; it is ErrUntrusted.
type untrustedError struct{ why string }

func (e *untrustedError) Error() string        { return e.why }
func (e *untrustedError) Is(target error) bool { return target == ErrUntrusted }

// Root is the tree everything is read from, as if it were "/" (the
// generator's --root), and the trust rule for files in it (DESIGN.md,
// Trust): owned by root — or, under --root=DIR, by DIR's owner — and not
// writable by group or others.
type Root struct {
	dir     string // host path of the root directory
	rootUID uint32 // uid that counts as root besides 0
	tree    *rootTree
}

// OpenRoot checks that dir exists and returns it as a Root.
func OpenRoot(dir string) (Root, error) {
	if dir == "" {
		dir = "/"
	}
	dir = filepath.Clean(dir) // "//" and "/." are "/": no resolving
	fi, err := os.Stat(dir)
	if err != nil {
		return Root{}, err
	}
	r := Root{dir: dir, tree: &rootTree{}}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && dir != "/" {
		r.rootUID = st.Uid
	}
	return r, nil
}

// join puts the root's directory before an in-root path, as text: the
// kernel then follows the symlinks on the way as this machine's, which
// may lead out of the root. Reads and writes go through HostPath.
func (r Root) join(p string) string {
	if r.dir == "/" || r.dir == "" {
		return p
	}
	return filepath.Join(r.dir, p)
}

// HostPath maps the in-root path p to a path on this machine that reaches
// what p reaches inside the root: every directory on the way resolved
// inside it, as the kernel would resolve them were the root "/" (under
// --root, an absolute symlink in the tree points into the tree, not out of
// it), and the last component too when follow is set. Components past the
// first that does not exist are kept as they are: they name nothing yet,
// and a file made there is made inside the root. A component that exists
// but leads nowhere inside the root (a symlink out of it or into a loop)
// is an error. p is cleaned as text first, as filepath.Join cleaned it
// before: a ".." goes before the symlinks are resolved, so callers pass
// clean paths. Under "/" the kernel's own resolution is this one: p is
// returned as it is, at no cost on the boot path.
func (r Root) HostPath(p string, follow bool) (string, error) {
	if r.dir == "/" || r.dir == "" {
		return p, nil
	}
	parts := strings.Split(strings.TrimPrefix(path.Clean("/"+p), "/"), "/")
	real := "/" // resolved: no symlink in it
	for i, name := range parts {
		if name == "" {
			continue // p is the root
		}
		next := path.Join(real, name)
		if i == len(parts)-1 && !follow {
			return r.join(next), nil
		}
		fi, err := os.Lstat(r.join(next)) // next is resolved: no symlink on the way
		if errors.Is(err, fs.ErrNotExist) {
			return r.join(path.Join(append([]string{next}, parts[i+1:]...)...)), nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if next, err = r.Resolve(next); err != nil {
				return "", err
			}
		}
		real = next
	}
	return r.join(real), nil
}

// lstat, stat, readDir, readFile and readlink are the os functions on
// in-root paths, reached as HostPath reaches them.
func (r Root) lstat(p string) (fs.FileInfo, error) {
	hp, err := r.HostPath(p, false)
	if err != nil {
		return nil, err
	}
	return os.Lstat(hp)
}

func (r Root) stat(p string) (fs.FileInfo, error) {
	hp, err := r.HostPath(p, true)
	if err != nil {
		return nil, err
	}
	return os.Stat(hp)
}

func (r Root) readDir(p string) ([]fs.DirEntry, error) {
	hp, err := r.HostPath(p, true)
	if err != nil {
		return nil, err
	}
	return os.ReadDir(hp)
}

func (r Root) readFile(p string) ([]byte, error) {
	hp, err := r.HostPath(p, true)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(hp)
}

func (r Root) readlink(p string) (string, error) {
	hp, err := r.HostPath(p, false)
	if err != nil {
		return "", err
	}
	return os.Readlink(hp)
}

// openImage opens the image at in-root path p, and reads its sidecar
// files, beside it, inside the root too (see HostPath). It owns o.File.
func (r Root) openImage(p string, o dissect.Options) (*dissect.Image, error) {
	hp, err := r.HostPath(p, true)
	if err != nil {
		if o.File != nil {
			o.File.Close()
		}
		return nil, err
	}
	if hp != p {
		o.Sidecar = func(side string) (string, error) {
			return r.HostPath(path.Join(path.Dir(p), path.Base(side)), true)
		}
	}
	return dissect.OpenOptions(hp, o)
}

// Check returns why the file or directory at the in-root path p is not
// trusted (wrapping ErrUntrusted), or nil. It does not follow a final
// symlink.
func (r Root) Check(p string) error {
	fi, err := r.lstat(p)
	if err != nil {
		return err
	}
	return r.checkInfo(p, fi)
}

// checkInfo is Check of the file at p that lstat described as fi.
func (r Root) checkInfo(p string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if st.Uid != 0 && st.Uid != r.rootUID {
		return &untrustedError{fmt.Sprintf("%s is owned by uid %d, not root", p, st.Uid)}
	}
	if fi.Mode()&os.ModeSymlink == 0 && fi.Mode().Perm()&0o022 != 0 {
		return &untrustedError{fmt.Sprintf("%s is writable by group or others (mode %04o)", p, fi.Mode().Perm())}
	}
	return nil
}

// CheckChain checks p and every directory above it up to the root and,
// when p or a directory above it is a symlink, the chain of what p
// resolves to inside the root as well (DESIGN.md, Trust: symlink target
// chains): a search directory /var/lib/portables -> /srv/portables is as
// trusted as /srv/portables, not only as the link.
func (r Root) CheckChain(p string) error {
	if err := r.checkChain(p); err != nil {
		return err
	}
	if real, err := r.Resolve(p); err == nil && real != path.Clean(p) {
		return r.checkChain(real)
	}
	return nil
}

func (r Root) checkChain(p string) error {
	for q := p; ; q = filepath.Dir(q) {
		if err := r.Check(q); err != nil {
			return err
		}
		if q == "/" || q == "." {
			return nil
		}
	}
}

// Resolve chases symlinks of the in-root path p the way the kernel would
// if the root were "/": absolute targets restart at the root, ".." stops
// there, loops end. It returns the in-root path of what p points at. The
// root is read with the resolver that reads directory images (package
// dissect): one resolver for paths inside a root, bounded by the same work
// budget.
func (r Root) Resolve(p string) (string, error) {
	tree, err := r.tree.open(r.dir)
	if err != nil {
		return "", err
	}
	return tree.Resolve(p)
}

// readTrusted reads the file at in-root path p, symlinks followed inside
// the root, if it is trusted: the file itself or, when p leads through a
// symlink, the target and every directory above it (DESIGN.md, Trust: the
// symlink target chains). A missing file is an error wrapping
// fs.ErrNotExist, an untrusted one ErrUntrusted.
func (r Root) readTrusted(p string) ([]byte, error) {
	real, err := r.Resolve(p)
	if err != nil {
		return nil, err
	}
	check := r.Check
	if real != p {
		check = r.CheckChain
	}
	if err := check(real); err != nil {
		return nil, err
	}
	return r.readRegular(real, maxTrustedFile)
}

// maxTrustedFile bounds what is read of a settings file or profile; a
// longer one is cut short, and its cut line fails to parse.
const maxTrustedFile = 1 << 20

// rootTree is the root opened as a directory image, once, on first use;
// and the names in each settings directory, listed once, on first use.
type rootTree struct {
	once sync.Once
	img  *dissect.Image
	err  error

	listOnce sync.Once
	settings map[string]map[string]bool // by directory; nil: not listed, look
}

func (t *rootTree) open(dir string) (*dissect.Image, error) {
	t.once.Do(func() { t.img, t.err = dissect.Open(dir) })
	return t.img, t.err
}

// Close releases what the root holds open.
func (r Root) Close() {
	if r.tree != nil && r.tree.img != nil {
		r.tree.img.Close()
	}
}

// unwrapPath drops the host-side path (which includes --root) from an os
// error, keeping its reason.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
