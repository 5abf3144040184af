package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
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

// Path maps an in-root path to this machine's path.
func (r Root) Path(p string) string {
	if r.dir == "/" || r.dir == "" {
		return p
	}
	return filepath.Join(r.dir, p)
}

// InRoot maps a path on this machine back to the path seen inside the root.
func (r Root) InRoot(p string) string {
	if p == "" || r.dir == "/" || r.dir == "" {
		return p
	}
	if rel, err := filepath.Rel(r.dir, p); err == nil && !strings.HasPrefix(rel, "..") {
		return "/" + rel
	}
	return p
}

// Check returns why the file or directory at the in-root path p is not
// trusted (wrapping ErrUntrusted), or nil. It does not follow a final
// symlink.
func (r Root) Check(p string) error {
	fi, err := os.Lstat(r.Path(p))
	if err != nil {
		return err
	}
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

// CheckChain checks p and every directory above it up to the root.
func (r Root) CheckChain(p string) error {
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
