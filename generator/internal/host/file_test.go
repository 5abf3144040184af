package host

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/internal/regfile"
	"golang.org/x/sys/unix"
)

// A FIFO where the host should have a regular file (a settings file,
// /etc/passwd, /etc/fstab, a drop-in, the last run's state file) is never opened for a blocking read:
// with no writer, the generator would wait for ever, at boot. Each reader
// treats it as unreadable instead. Should one of them block, the test
// binary's timeout names it.
func TestHostFIFOsDoNotBlock(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	fifo := func(p string) {
		t.Helper()
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mkfifo(full, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fifo("etc/systemd/portable/foo.portable")
	fifo("etc/passwd")
	fifo("etc/fstab")
	fifo("etc/systemd/system/foo.service.d/override.conf")
	fifo("etc/systemd/portable/profile/mine/service.conf")
	fifo("run/portable-generator/state.json")
	fifo("var/lib/portable-generator/state.json")
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	if _, err := r.readRegular("/etc/passwd", 1); !errors.Is(err, regfile.ErrNotRegular) {
		t.Errorf("reading a FIFO: %v, want %v", err, regfile.ErrNotRegular)
	}
	if s := r.ImageSettings(Settings{}, "foo"); s.Err == nil {
		t.Errorf("a FIFO settings file: no error")
	}
	if _, err := NewProfiles(r, 257).Get("mine"); err == nil {
		t.Errorf("a FIFO profile: no error")
	}
	inv := r.ReadInventory(257, "x86-64")
	if drops := inv.DropInsFor([]string{"foo.service"}); len(drops) != 1 || len(drops[0].Data) != 0 {
		t.Errorf("a FIFO drop-in: %+v, want one empty drop-in", drops)
	}
	r.fstabMountPoints()
}
