package squashfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/dissect/internal/fstest"
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
		l := vfs.DefaultLimits
		l.Listing = c.limit
		tree, _, _ := fstest.OpenImage(t, img, l, Open)
		ents, err := fs.ReadDir(tree, ".")
		if !errors.Is(err, c.err) || (c.err == nil && len(ents) != 50) {
			t.Errorf("limit %d: %d names, %v; want %v", c.limit, len(ents), err, c.err)
		}
	}
}
