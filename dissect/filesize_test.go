package dissect

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// A unit file of one 16 MiB line, a line systemd itself refuses, packs
// into a few KiB of squashfs: it is refused by its size before a byte of
// it is inflated, naming the file and saying why.
func TestOversizedUnitIsRefusedBeforeInflating(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs")
	src := imageTree(t)
	unit := filepath.Join(src, "usr/lib/systemd/system/raw-big.service")
	if err := os.WriteFile(unit, bytes.Repeat([]byte{'A'}, 16<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "big.raw")
	run(t, "mksquashfs", src, p, "-quiet", "-noappend", "-comp", "xz")
	img, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	_, err = fs.ReadFile(img.FS(), "usr/lib/systemd/system/raw-big.service")
	if !errors.Is(err, ErrFileTooLarge) || !errors.Is(err, ErrBudget) {
		t.Fatalf("err = %v, want ErrFileTooLarge (an ErrBudget)", err)
	}
	if st := img.Stats(); st.Decompressed > 64<<10 {
		t.Errorf("%d bytes inflated before the file was refused", st.Decompressed)
	}
	// A file at the cap is still served.
	if err := os.WriteFile(unit, bytes.Repeat([]byte{'A'}, MaxFileSize), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "mksquashfs", src, p, "-quiet", "-noappend", "-comp", "xz")
	img2, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer img2.Close()
	if b, err := fs.ReadFile(img2.FS(), "usr/lib/systemd/system/raw-big.service"); err != nil || len(b) != MaxFileSize {
		t.Errorf("a file at the cap: %d bytes, %v", len(b), err)
	}
}
