package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// XattrFS is implemented by readers that read extended attributes. It is
// separate from FS because only a few paths ever need one (the
// user.extension-release.strict flag of an extension's release file).
type XattrFS interface {
	// Xattr returns the value of the extended attribute name (with its
	// namespace: "user.foo") of n. An absent attribute is ErrNoXattr.
	Xattr(n Node, name string) ([]byte, error)
}

// ErrNoXattr is an absent extended attribute, as ENODATA is for getxattr(2).
var ErrNoXattr = errors.New("no such extended attribute")

// MaxXattrValue is the largest attribute value Linux allows
// (XATTR_SIZE_MAX); a larger one claimed by an image is corrupt.
const MaxXattrValue = 64 << 10

// Xattr returns the extended attribute attr of name without following a
// final symlink, as getxattr on an O_NOFOLLOW descriptor reads it. Readers
// that keep no attributes, and the synthetic root, answer ErrNoXattr.
func (t *Tree) Xattr(name, attr string) ([]byte, error) {
	if err := checkName("getxattr", name); err != nil {
		return nil, err
	}
	stack, err := t.resolve(name, false)
	if err != nil {
		return nil, pathErr("getxattr", name, err)
	}
	l := stack[len(stack)-1]
	x, ok := l.fsys.(XattrFS)
	if l.node == nil || !ok {
		return nil, &fs.PathError{Op: "getxattr", Path: name, Err: ErrNoXattr}
	}
	v, err := x.Xattr(l.node, attr)
	if err != nil {
		return nil, pathErr("getxattr", name, err)
	}
	if len(v) > MaxXattrValue {
		return nil, pathErr("getxattr", name, fmt.Errorf("%w: attribute %s of %d bytes", ErrCorrupt, attr, len(v)))
	}
	return v, nil
}

// XattrNamespace splits an attribute name into the namespace prefixes
// the on-disk formats number ("user.", "trusted.", "security.") and the
// rest of the name they store.
func XattrNamespace(name string) (namespace, rest string, ok bool) {
	for _, ns := range []string{"user.", "trusted.", "security."} {
		if rest, ok := strings.CutPrefix(name, ns); ok {
			return ns, rest, true
		}
	}
	return "", "", false
}

// XattrIndex returns the number ext4 and erofs store for an attribute's
// namespace (the kernel's numbering: 1 user, 4 trusted, 6 security) and
// the rest of the name.
func XattrIndex(name string) (uint8, string, bool) {
	ns, rest, ok := XattrNamespace(name)
	return map[string]uint8{"user.": 1, "trusted.": 4, "security.": 6}[ns], rest, ok
}
