package host

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/dissect"
)

// TestIdentityIsTheImageRead: an image's identity names the file or
// directory that was read, by device and inode, so that one put in its
// place (an upgrade by copy and rename) tells apart from the one before,
// even with the same size, time and contents.
func TestIdentityIsTheImageRead(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	// The same modification time for both: only the inode tells them apart.
	time0 := time.Unix(1700000000, 0)
	mkImage := func(at string) {
		writeUnder(t, dir, at+"/usr/lib/os-release", "ID=app\n")
		writeUnder(t, dir, at+"/usr/lib/systemd/system/app.service", "[Service]\nExecStart=/bin/true\n")
		os.Chtimes(filepath.Join(dir, at), time0, time0)
	}
	mkImage("var/lib/portables/app")
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	e := Entry{Name: "app", Path: "/var/lib/portables/app", Kind: dissect.KindDirectory}
	load := func() string {
		t.Helper()
		img := r.Load(e, Settings{}, NewProfiles(r, 257))
		if img.Err != nil {
			t.Fatal(img.Err)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(dir, e.Path), &st); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("dev=%d ino=%d ", st.Dev, st.Ino); !strings.Contains(img.Identity, want) {
			t.Errorf("identity %q does not name the directory read (%s)", img.Identity, want)
		}
		return img.Identity
	}
	before := load()
	mkImage("var/lib/portables/.app.new")
	if err := os.Rename(filepath.Join(dir, "var/lib/portables/app"), filepath.Join(dir, "var/lib/portables/.app.old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "var/lib/portables/.app.new"), filepath.Join(dir, "var/lib/portables/app")); err != nil {
		t.Fatal(err)
	}
	if after := load(); after == before {
		t.Errorf("the same identity %q after the image was replaced", after)
	}
}
