package host

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/internal/testenv"
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

// TestLoadFileReadsTheHintsFile: a raw image loaded from the file its
// prefetch hint opened is that file throughout, even when an upgrade
// renamed another into its place in between: its os-release and its
// identity are the file read's, not the path's newer file's.
func TestLoadFileReadsTheHintsFile(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs")
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	portables := filepath.Join(dir, "var/lib/portables")
	os.MkdirAll(portables, 0o755)
	mkImage := func(name, version string) string {
		t.Helper()
		src := t.TempDir()
		writeUnder(t, src, "usr/lib/os-release", "ID=app\nVERSION_ID="+version+"\n")
		writeUnder(t, src, "usr/lib/systemd/system/app.service", "[Service]\nExecStart=/bin/true\n")
		p := filepath.Join(portables, name)
		if out, err := exec.Command("mksquashfs", src, p, "-quiet", "-noappend").CombinedOutput(); err != nil {
			t.Fatalf("mksquashfs: %v\n%s", err, out)
		}
		os.Chmod(p, 0o644)
		return p
	}
	p := mkImage("app.raw", "1")
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	e := Entry{Name: "app", Path: "/var/lib/portables/app.raw", Kind: dissect.KindRaw}
	hp, err := r.HostPath(e.Path, true)
	if err != nil {
		t.Fatal(err)
	}
	f, err := dissect.PrefetchFile(hp)
	if err != nil || f == nil {
		t.Fatalf("PrefetchFile(%s) = %v, %v", hp, f, err)
	}
	if err := os.Rename(mkImage(".app.new", "2"), p); err != nil {
		t.Fatal(err)
	}
	img := r.LoadFile(e, f, Settings{}, NewProfiles(r, 257))
	if img.Err != nil {
		t.Fatal(img.Err)
	}
	if v := img.OSRelease["VERSION_ID"]; v != "1" {
		t.Errorf("read VERSION_ID=%s, want the file the hint opened (1)", v)
	}
	if want := fmt.Sprintf("dev=%d ino=%d ", st.Dev, st.Ino); !strings.Contains(img.Identity, want) {
		t.Errorf("identity %q does not name the file read (%s)", img.Identity, want)
	}
}
