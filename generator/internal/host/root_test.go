package host

import (
	"os"
	"path/filepath"
	"testing"
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
