package host

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// The host's drop-ins for a unit are found in every unit directory PID 1
// reads but the generators', under each directory systemd reads for the
// name and its type; a /dev/null link counts as empty (it still hides a
// lower file of its name), and so does anything but a regular file (a FIFO
// is never waited for); hidden and non-.conf files do not count.
func TestDropInsFor(t *testing.T) {
	root := t.TempDir()
	write := func(p, content string) { t.Helper(); writeUnder(t, root, p, content) }
	write("etc/systemd/system/foo-bar.service.d/override.conf", "[Service]\nUser=\n")
	write("etc/systemd/system/foo-bar.service.d/.hidden.conf", "x")
	write("etc/systemd/system/foo-bar.service.d/notes.txt", "x")
	write("run/systemd/system/foo-.service.d/10-prefix.conf", "[Service]\nNice=1\n")
	write("usr/lib/systemd/system/service.d/20-type.conf", "[Service]\nNice=2\n")
	write("etc/systemd/system/other.service.d/x.conf", "[Service]\nNice=3\n")
	write("run/systemd/generator/foo-bar.service.d/10-profile.conf", "[Service]\nNice=4\n")
	if err := os.Symlink("/dev/null", filepath.Join(root, "etc/systemd/system/foo-bar.service.d/masked.conf")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(root, "etc/systemd/system/foo-bar.service.d/fifo.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A drop-in directory that is a symlink is followed, inside the root.
	write("srv/dropins/linked.conf", "[Service]\nNice=5\n")
	if err := os.Symlink("/srv/dropins", filepath.Join(root, "run/systemd/system/foo-bar.service.d")); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	inv := r.ReadInventory(257, "x86-64")
	got := map[string]string{}
	for _, d := range inv.DropInsFor([]string{"foo-bar.service"}) {
		got[d.Path] = string(d.Data)
	}
	want := map[string]string{
		"/etc/systemd/system/foo-bar.service.d/override.conf": "[Service]\nUser=\n",
		"/etc/systemd/system/foo-bar.service.d/masked.conf":   "",
		"/etc/systemd/system/foo-bar.service.d/fifo.conf":     "",
		"/run/systemd/system/foo-bar.service.d/linked.conf":   "[Service]\nNice=5\n",
		"/run/systemd/system/foo-.service.d/10-prefix.conf":   "[Service]\nNice=1\n",
		"/usr/lib/systemd/system/service.d/20-type.conf":      "[Service]\nNice=2\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

// writeUnder writes data to the file p below root, making its directories:
// the tests' way of laying out a host tree.
func writeUnder(t *testing.T, root, p, data string) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
