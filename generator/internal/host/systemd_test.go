package host

import (
	"os"
	"path/filepath"
	"testing"
)

// TestKernelDisabled: the switch is read from the command line systemd
// reads: $SYSTEMD_PROC_CMDLINE, PID 1's arguments in a container, else the
// kernel's.
func TestKernelDisabled(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "proc/1"), 0o755)
	os.WriteFile(filepath.Join(dir, "proc/cmdline"), []byte("quiet portable_generator.enable=0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "proc/1/cmdline"), []byte("/sbin/init\x00portable_generator.enable=no\x00"), 0o644)
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, c := range []struct {
		name string
		env  func(string) string
		want bool
	}{
		{"kernel", env(), true},
		{"container: PID 1's arguments", env("SYSTEMD_VIRTUALIZATION", "container:systemd-nspawn"), true},
		{"the variable wins", env("SYSTEMD_PROC_CMDLINE", "portable_generator.enable=0 portable_generator.enable=1"), false},
		{"the variable turns off", env("SYSTEMD_PROC_CMDLINE", "portable_generator.enable=off"), true},
		{"not a boolean", env("SYSTEMD_PROC_CMDLINE", "portable_generator.enable=maybe"), false},
	} {
		if got := r.KernelDisabled(c.env); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	os.WriteFile(filepath.Join(dir, "proc/1/cmdline"), []byte("/sbin/init\x00"), 0o644)
	if r.KernelDisabled(env("SYSTEMD_VIRTUALIZATION", "container:docker")) {
		t.Error("a container whose PID 1 has no such argument is on")
	}
}

// TestSystemdVersion: the version is read from libsystemd-shared-N.so
// wherever distributions put it, the highest one found winning, and a
// directory of /usr/lib that is not a multiarch tuple is not looked into.
func TestSystemdVersion(t *testing.T) {
	for _, c := range []struct {
		name  string
		files []string
		want  int
	}{
		{"Debian 12", []string{"usr/lib/systemd/libsystemd-shared-252.so"}, 252},
		{"Debian 13, multiarch", []string{"usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-257.so"}, 257},
		{"Fedora", []string{"usr/lib64/systemd/libsystemd-shared-255.2-1.fc40.so"}, 255},
		{"the highest", []string{"usr/lib/systemd/libsystemd-shared-252.so", "usr/lib/aarch64-linux-gnu/systemd/libsystemd-shared-254.so"}, 254},
		{"not a tuple", []string{"usr/lib/python3/systemd/libsystemd-shared-999.so"}, 0},
		{"none", nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range c.files {
				writeUnder(t, dir, f, "")
			}
			r, err := OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.SystemdVersion(); got != c.want {
				t.Errorf("SystemdVersion() = %d, want %d", got, c.want)
			}
		})
	}
}

// TestSystemdVersionMergedUsr: with a merged /usr, /lib is a symlink to
// /usr/lib; an absolute one is followed inside the root, never to the
// machine's own /usr/lib (whose systemd may be another version).
func TestSystemdVersionMergedUsr(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "usr/lib/x86_64-linux-gnu/systemd")
	if err := os.MkdirAll(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lib, "libsystemd-shared-250.so"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/lib", filepath.Join(dir, "lib")); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := r.SystemdVersion(); got != 250 {
		t.Errorf("SystemdVersion() = %d, want 250", got)
	}
}
