package host

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
	r := Root{dir: dir}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && dir != "/" {
		r.rootUID = st.Uid
	}
	return r, nil
}

// Dir is the root's path on this machine.
func (r Root) Dir() string { return r.dir }

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

// maxHops bounds the symlinks one path may cross, as the kernel does.
const maxHops = 40

// Resolve chases symlinks of the in-root path p the way the kernel would
// if the root were "/": absolute targets restart at the root, ".." stops
// there. It returns the in-root path of what p points at.
func (r Root) Resolve(p string) (string, error) {
	hops := 0
	parts := strings.Split(strings.Trim(p, "/"), "/")
	cur := "/"
	for len(parts) > 0 {
		c := parts[0]
		parts = parts[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, c)
		fi, err := os.Lstat(r.Path(next))
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > maxHops {
			return "", fmt.Errorf("%s: too many levels of symbolic links", p)
		}
		target, err := os.Readlink(r.Path(next))
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			cur = "/"
		}
		parts = append(strings.Split(target, "/"), parts...)
	}
	return cur, nil
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
