package dissect

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// bombTree is an honest-looking image tree whose forty matching units are
// each a file at the size cap of one repeated byte: together they inflate
// a thousandfold from the few KiB the image holds.
func bombTree(t *testing.T) string {
	t.Helper()
	src := imageTree(t)
	unit := bytes.Repeat([]byte{'A'}, MaxFileSize)
	for i := 0; i < 40; i++ {
		p := filepath.Join(src, fmt.Sprintf("usr/lib/systemd/system/raw-bomb-%02d.service", i))
		if err := os.WriteFile(p, unit, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// readUnits reads what the generator reads: os-release, then every unit
// in the unit directories, and returns the first error.
func readUnits(fsys fs.FS) error {
	if _, err := readFirst(fsys, OSReleasePaths); err != nil {
		return err
	}
	for _, dir := range UnitDirectories {
		ents, err := fs.ReadDir(fsys, dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range ents {
			if _, err := fs.ReadFile(fsys, path.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// Decompression bombs in every squashfs compressor are refused after a few
// MiB inflated, not hundreds: what the image may make us inflate grows
// with what it makes us read.
func TestSquashfsBombs(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs")
	src := bombTree(t)
	for _, comp := range []string{"gzip", "xz", "lzma", "zstd", "lz4", "lzo"} {
		t.Run(comp, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bomb.raw")
			run(t, "mksquashfs", src, p, "-quiet", "-noappend", "-comp", comp)
			img, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			err = readUnits(img.FS())
			st := img.Stats()
			t.Logf("%v; %+v", err, st)
			if !errors.Is(err, ErrBudget) {
				t.Errorf("err = %v, want ErrBudget", err)
			}
			if st.Decompressed > 4<<20 {
				t.Errorf("%d bytes inflated before the image was refused", st.Decompressed)
			}
		})
	}
}
