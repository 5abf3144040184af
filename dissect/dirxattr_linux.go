package dissect

import (
	"errors"
	"io/fs"
	"os"
	"path"

	"golang.org/x/sys/unix"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// Xattr reads an extended attribute of a directory image's file through a
// descriptor opened without following links, so that a file swapped for a
// symlink meanwhile is refused, not followed. Linux keeps user.*
// attributes only on regular files and directories; anything else has
// none.
func (d *dirFS) Xattr(n vfs.Node, name string) ([]byte, error) {
	dn := n.(*dirNode)
	var f *os.File
	switch {
	case dn.Mode().IsRegular():
		parent, release, err := d.dir(path.Dir(dn.path))
		if err != nil {
			return nil, err
		}
		f, err = parent.OpenFile(path.Base(dn.path), os.O_RDONLY|noFollow|noBlock, 0)
		release()
		if err != nil {
			return nil, err
		}
	case dn.Mode().IsDir():
		r, release, err := d.dir(dn.path)
		if err != nil {
			return nil, err
		}
		f, err = r.Open(".")
		release()
		if err != nil {
			return nil, err
		}
	default:
		return nil, vfs.ErrNoXattr
	}
	defer f.Close()
	buf := make([]byte, 256)
	for {
		sz, err := unix.Fgetxattr(int(f.Fd()), name, buf)
		switch {
		case err == nil:
			if err := d.budget.Read(sz); err != nil {
				return nil, err
			}
			return buf[:sz], nil
		case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP):
			return nil, vfs.ErrNoXattr
		case errors.Is(err, unix.ERANGE) && len(buf) < vfs.MaxXattrValue:
			buf = make([]byte, vfs.MaxXattrValue)
		default:
			return nil, &fs.PathError{Op: "getxattr", Path: dn.path, Err: err}
		}
	}
}
