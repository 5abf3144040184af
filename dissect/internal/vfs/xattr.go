package vfs

import (
	"errors"
	"fmt"
	"io/fs"
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
