package fstest

import (
	"io"
	"io/fs"
)

// WalkAll visits every name of fsys, reading every symlink, up to 1 MiB
// of every file and, where fsys keeps them, an extended attribute of every
// file and directory, ignoring errors: it is what a fuzz target does with
// whatever a mutated image still offers. It returns how many names it saw.
func WalkAll(fsys fs.FS) int {
	x, _ := fsys.(interface {
		Xattr(name, attr string) ([]byte, error)
	})
	n := 0
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		n++
		if err != nil || d == nil {
			return nil
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			fs.ReadLink(fsys, p)
			fs.Stat(fsys, p)
		case d.Type().IsRegular(), d.IsDir():
			if x != nil {
				x.Xattr(p, "user.extension-release.strict")
			}
		}
		if d.Type().IsRegular() {
			if f, err := fsys.Open(p); err == nil {
				io.Copy(io.Discard, io.LimitReader(f, 1<<20))
				f.Close()
			}
		}
		return nil
	})
	return n
}
