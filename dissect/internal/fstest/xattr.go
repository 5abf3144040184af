package fstest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// XattrCase is one attribute a tree from XattrSource holds, or does not
// hold (Value nil).
type XattrCase struct {
	Path, Name string
	Value      []byte
}

// XattrSource writes a tree whose files carry user attributes as an
// extension image does (user.extension-release.strict=false on its release
// file), plus files with many attributes, a long value (twice) and none at all,
// and returns it with the attributes a reader must find and miss. It skips
// the test where the temporary directory keeps no user attributes.
func XattrSource(t testing.TB) (string, []XattrCase) {
	t.Helper()
	dir := t.TempDir()
	write := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var cases []XattrCase
	set := func(name, attr string, value []byte) {
		p := filepath.Join(dir, name)
		if err := unix.Setxattr(p, attr, value, 0); err != nil {
			if errors.Is(err, unix.ENOTSUP) {
				testenv.Unavailable(t, "%s keeps no user attributes", dir)
			}
			t.Fatal(err)
		}
		cases = append(cases, XattrCase{name, attr, value})
	}
	rel := "usr/lib/extension-release.d/extension-release.app2"
	write(rel)
	set(rel, "user.extension-release.strict", []byte("false"))
	write("usr/lib/extension-release.d/extension-release.app0")
	write("usr/share/many")
	for i := range 40 {
		set("usr/share/many", fmt.Sprintf("user.attribute-%02d", i), []byte(strings.Repeat("v", i)))
	}
	// The same long value twice: squashfs keeps it once, out of line.
	for _, name := range []string{"usr/share/long", "usr/share/long-again"} {
		write(name)
		set(name, "user.long", bytes.Repeat([]byte("0123456789abcdef"), 128))
	}
	cases = append(cases,
		XattrCase{"usr/lib/extension-release.d/extension-release.app0", "user.extension-release.strict", nil},
		XattrCase{"usr/share/many", "user.attribute-40", nil},
		XattrCase{"usr/share/many", "trusted.attribute-01", nil},
		XattrCase{"usr/share/long", "user.lon", nil},
	)
	return dir, cases
}

// CompareXattrs checks that tree serves the attributes of cases.
func CompareXattrs(t testing.TB, tree *vfs.Tree, cases []XattrCase) {
	t.Helper()
	for _, c := range cases {
		got, err := tree.Xattr(c.Path, c.Name)
		switch {
		case c.Value == nil && !errors.Is(err, vfs.ErrNoXattr):
			t.Errorf("%s %s: %q, %v; want no attribute", c.Path, c.Name, got, err)
		case c.Value != nil && (err != nil || !bytes.Equal(got, c.Value)):
			t.Errorf("%s %s: %q, %v; want %q", c.Path, c.Name, got, err, c.Value)
		}
	}
}
