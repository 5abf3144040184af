package host

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// TestResolve: symlinks in the root are chased as if the root were "/".
func TestResolve(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "srv/images"), 0o755)
	os.WriteFile(filepath.Join(dir, "srv/images/foo.raw"), nil, 0o644)
	for link, target := range map[string]string{
		"abs":    "/srv/images/foo.raw", // absolute: restarts at the root, not the host's /
		"rel":    "srv/images/../images/foo.raw",
		"up":     "../../../srv/images/foo.raw", // ".." stops at the root
		"loop1":  "loop2",
		"loop2":  "loop1",
		"escape": "/../../etc/passwd",
	} {
		os.Symlink(target, filepath.Join(dir, link))
	}
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, p := range []string{"/abs", "/rel", "/up"} {
		if got, err := r.Resolve(p); err != nil || got != "/srv/images/foo.raw" {
			t.Errorf("Resolve(%s) = %q, %v", p, got, err)
		}
	}
	for _, p := range []string{"/loop1", "/escape"} {
		if got, err := r.Resolve(p); err == nil {
			t.Errorf("Resolve(%s) = %q, want an error", p, got)
		}
	}
}

// TestHostPath: under --root, a path reaches what it reaches inside the
// root, whatever the directories on the way point at; a path that would
// leave the root reaches nothing.
func TestHostPath(t *testing.T) {
	dir := t.TempDir()
	writeUnder(t, dir, "srv/images/foo.raw", "")
	for _, d := range []string{"etc/systemd", "real"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	for link, target := range map[string]string{
		"var":                  "/real",         // absolute: the tree's /real, not the host's
		"real/portables":       "/srv/images",   // a search directory elsewhere
		"srv/images/bar.raw":   "foo.raw",       // a last component that is a symlink
		"etc/systemd/system":   "../../nowhere", // dangling
		"etc/systemd/loop":     "loop",
		"etc/systemd/outwards": "/../../../etc", // ".." stops at the root
	} {
		os.Symlink(target, filepath.Join(dir, link))
	}
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, c := range []struct {
		p      string
		follow bool
		want   string // below dir
	}{
		{"/var/portables/foo.raw", true, "srv/images/foo.raw"},
		{"/var/portables/foo.raw", false, "srv/images/foo.raw"},
		{"/var/portables", true, "srv/images"},
		{"/var/portables", false, "real/portables"}, // the link itself
		{"/var/portables/bar.raw", false, "srv/images/bar.raw"},
		{"/var/portables/bar.raw", true, "srv/images/foo.raw"},
		{"/var/portables/new/state.json", false, "srv/images/new/state.json"}, // made inside
		{"/etc/systemd/outwards/systemd", true, "etc/systemd"},
		{"/", true, ""},
	} {
		got, err := r.HostPath(c.p, c.follow)
		if want := filepath.Join(dir, c.want); err != nil || got != want {
			t.Errorf("HostPath(%s, %v) = %q, %v; want %q", c.p, c.follow, got, err, want)
		}
	}
	for _, p := range []string{"/etc/systemd/system/x.service", "/etc/systemd/loop/x"} {
		if got, err := r.HostPath(p, true); err == nil {
			t.Errorf("HostPath(%s) = %q, want an error", p, got)
		}
	}
	// Under "/", the path as it is: the kernel resolves it the same way.
	slash, _ := OpenRoot("/")
	if got, err := slash.HostPath("/var/lib/../portables", true); err != nil || got != "/var/lib/../portables" {
		t.Errorf(`HostPath under "/" = %q, %v`, got, err)
	}
}

// TestPrefixHolderIsStable: the host unit named for a held prefix does not
// depend on map order.
func TestPrefixHolderIsStable(t *testing.T) {
	inv := &Inventory{heldPrefixes: map[string]string{}}
	for _, u := range []string{"dbus.service", "dbus-org.freedesktop.hostname1.service", "dbus-broker.service", "dbus.socket"} {
		inv.holdPrefixes(u)
	}
	if got := inv.PrefixHolder("dbus"); got != "dbus-broker.service" {
		t.Errorf("PrefixHolder(dbus) = %q, want the first by name", got)
	}
	if got := inv.PrefixHolder("dbus-org"); got != "dbus-org.freedesktop.hostname1.service" {
		t.Errorf("PrefixHolder(dbus-org) = %q", got)
	}
}

// TestVeritySidecarsBesideTheImage: the sidecar files dissect found beside
// the image reached through the root are named beside the image's
// in-root path, as PID 1 finds them at boot.
func TestVeritySidecarsBesideTheImage(t *testing.T) {
	d := &dissect.Image{Verity: &dissect.Verity{Designator: "root", RootHash: "ab",
		HashTree: "/tmp/tree/srv/portables/app_1.verity", SignaturePath: "/tmp/tree/srv/portables/app_1.roothash.p7s"}}
	v := verity(d, "/var/lib/portables/app_1.raw")
	if v.HashTree != "/var/lib/portables/app_1.verity" || v.SignaturePath != "/var/lib/portables/app_1.roothash.p7s" || v.RootHash != "ab" {
		t.Errorf("verity = %+v", v)
	}
	if d.Verity.HashTree != "/tmp/tree/srv/portables/app_1.verity" {
		t.Error("the image's own record was changed")
	}
	d.Verity.SignaturePath = ""
	if v := verity(d, "/var/lib/portables/app_1.raw"); v.SignaturePath != "" {
		t.Errorf("no signature file named %q", v.SignaturePath)
	}
	if verity(&dissect.Image{}, "/var/lib/portables/app_1.raw") != nil {
		t.Error("verity of an image without")
	}
}

// TestCheckChainFollowsSymlinks: a search directory (or the state
// directory) that is a symlink is only as trusted as what it leads to.
func TestCheckChainFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "var/lib"), 0o755)
	writeUnder(t, dir, "srv/portables/good/usr/lib/os-release", "ID=good\n")
	os.Symlink("/srv/portables", filepath.Join(dir, "var/lib/portables"))
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.CheckChain("/var/lib/portables"); err != nil {
		t.Errorf("trusted target: %v", err)
	}
	os.Chmod(filepath.Join(dir, "srv/portables"), 0o777) // anyone may plant an image there
	r2, _ := OpenRoot(dir)
	defer r2.Close()
	if err := r2.CheckChain("/var/lib/portables"); !errors.Is(err, ErrUntrusted) {
		t.Errorf("CheckChain through a link to a world-writable directory = %v", err)
	}
	out, _, _ := r2.Scan("x86-64")
	if len(out) != 1 || !errors.Is(out[0].Err, ErrUntrusted) {
		t.Errorf("Scan = %+v, want good untrusted", out)
	}
}

// TestSidecarsReadInsideTheRoot: an image's .roothash and .verity files
// that are absolute symlinks are read inside the root, not at this
// machine's paths they would name.
func TestSidecarsReadInsideTheRoot(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs")
	dir := t.TempDir()
	src := filepath.Join(t.TempDir(), "src")
	writeUnder(t, src, "usr/lib/os-release", "ID=app\n")
	portables := filepath.Join(dir, "var/lib/portables")
	hashes := filepath.Join(dir, "srv/hashes")
	os.MkdirAll(portables, 0o755)
	os.MkdirAll(hashes, 0o755)
	if out, err := exec.Command("mksquashfs", src, filepath.Join(portables, "app_1.raw"), "-quiet", "-noappend").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v\n%s", err, out)
	}
	const hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	writeUnder(t, hashes, "app_1.roothash", hash+"\n")
	writeUnder(t, hashes, "app_1.verity", "tree")
	for _, side := range []string{"app_1.roothash", "app_1.verity"} {
		os.Symlink("/srv/hashes/"+side, filepath.Join(portables, side))
	}
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img := &Image{Entry: Entry{Name: "app", Path: "/var/lib/portables/app_1.raw", Kind: dissect.KindRaw}}
	d, err := r.read(img, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	v := img.Verity
	if v == nil || v.RootHash != hash || v.HashTree != "/var/lib/portables/app_1.verity" {
		t.Errorf("verity = %+v, want the tree's root hash and hash tree", v)
	}
}
