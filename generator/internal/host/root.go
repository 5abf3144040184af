package generator

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// trust decides whether files may steer the generator (DESIGN.md, Trust):
// owned by root — or, under --root=DIR, by DIR's owner — and not writable by
// group or others.
type trust struct {
	root    string // host path of the root directory
	rootUID uint32 // uid that counts as root besides 0
}

func newTrust(root string) (trust, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return trust{}, err
	}
	t := trust{root: root}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && root != "/" {
		t.rootUID = st.Uid
	}
	return t, nil
}

// check returns why the file or directory at the in-root path p is not
// trusted, or nil. It does not follow a final symlink.
func (t trust) check(p string) error {
	fi, err := os.Lstat(t.host(p))
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if st.Uid != 0 && st.Uid != t.rootUID {
		return fmt.Errorf("%s is owned by uid %d, not root", p, st.Uid)
	}
	if fi.Mode()&os.ModeSymlink == 0 && fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %04o)", p, fi.Mode().Perm())
	}
	return nil
}

// checkChain checks p and every directory above it up to the root.
func (t trust) checkChain(p string) error {
	for q := p; ; q = filepath.Dir(q) {
		if err := t.check(q); err != nil {
			return err
		}
		if q == "/" || q == "." {
			return nil
		}
	}
}

// host maps an in-root path to this machine's path.
func (t trust) host(p string) string {
	if t.root == "/" || t.root == "" {
		return p
	}
	return filepath.Join(t.root, p)
}

// resolveInRoot chases symlinks of the in-root path p the way the kernel
// would if the root were "/": absolute targets restart at the root, ".."
// stops there. It returns the in-root path of what p points at.
func (t trust) resolveInRoot(p string) (string, error) {
	const maxHops = 40
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
		fi, err := os.Lstat(t.host(next))
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
		target, err := os.Readlink(t.host(next))
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
