package squashfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/vfs"
)

// A listing stops at the Listing limit of names, whatever the bytes read
// or decompressed for it (see vfs.Budget.Listing).
func TestListingLimit(t *testing.T) {
	src := t.TempDir()
	for i := 0; i < 50; i++ {
		os.WriteFile(filepath.Join(src, fmt.Sprintf("unit-%02d.service", i)), nil, 0o644)
	}
	img := build(t, src)
	for _, c := range []struct {
		limit int64
		err   error
	}{{50, nil}, {49, vfs.ErrBudget}} {
		f, err := os.Open(img)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fi, _ := f.Stat()
		l := vfs.DefaultLimits
		l.Listing = c.limit
		b := vfs.NewBudget(l)
		sq, err := Open(f, fi.Size(), b)
		if err != nil {
			t.Fatal(err)
		}
		ents, err := fs.ReadDir(vfs.NewTree(sq, nil, b), ".")
		if !errors.Is(err, c.err) || (c.err == nil && len(ents) != 50) {
			t.Errorf("limit %d: %d names, %v; want %v", c.limit, len(ents), err, c.err)
		}
	}
}
