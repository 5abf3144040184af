package generator

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// These tests judge our output with the real systemd of this machine,
// offline: systemd-analyze verify for warnings, and `systemd --test` (PID
// 1's own unit loader, run as nobody) for the settings it really loads.

// offlineRoot generates for a root holding a directory image "web" and an
// image behind a symlink whose path holds a '%', into a world-readable
// output directory.
func offlineRoot(t *testing.T) (out string) {
	t.Helper()
	base, err := os.MkdirTemp("", "pg-offline-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	root := filepath.Join(base, "root")
	out = filepath.Join(base, "out")
	write := func(p, content string) {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// pct's unit asks for more capabilities than the profile allows: the
	// narrowed drop-in must leave only the intersection.
	for _, img := range []struct{ dir, name, extra string }{
		{"var/lib/portables/web", "web", ""},
		{"srv/50%off/pct", "pct", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SYS_ADMIN\n"},
	} {
		write(img.dir+"/usr/lib/os-release", "ID=test\nVERSION_ID=1\n")
		write(img.dir+"/usr/lib/systemd/system/"+img.name+".service",
			"[Unit]\nDescription=test\n\n[Service]\nExecStart=/usr/bin/"+img.name+"-daemon\nStateDirectory="+img.name+"\n"+img.extra+"\n[Install]\nWantedBy=multi-user.target\n")
		write(img.dir+"/usr/lib/systemd/system/"+img.name+".socket", "[Socket]\nListenStream=127.0.0.1:8080\n")
	}
	// keeper runs trusted with a state directory: its drop-in wants the
	// unit that keeps grants across reboots, which must load cleanly too.
	write("etc/systemd/portable/keeper.portable", "[Portable]\nProfile=trusted\n")
	write("var/lib/portables/keeper/usr/lib/os-release", "ID=test\n")
	write("var/lib/portables/keeper/usr/lib/systemd/system/keeper.service", "[Service]\nExecStart=/usr/bin/keeper\nStateDirectory=keeper\n")
	// layered runs over the base minimal with a data-only extension, as
	// portablectl attach --extension layered --extension data minimal does.
	write("etc/systemd/portable/layered.portable", "[Portable]\nBase=minimal\nExtensions=data\n")
	write("var/lib/portables/minimal/usr/lib/os-release", "ID=test\nVERSION_ID=1\n")
	write("var/lib/portables/layered/usr/lib/extension-release.d/extension-release.layered", "ID=test\nVERSION_ID=1\nSYSEXT_IMAGE_ID=app\n")
	write("var/lib/portables/layered/usr/lib/systemd/system/layered.service", "[Service]\nExecStart=/usr/bin/layered\n")
	write("var/lib/portables/data/usr/lib/extension-release.d/extension-release.data", "ID=_any\n")
	if err := os.Symlink("/srv/50%off/pct", filepath.Join(root, "var/lib/portables/pct")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := filepath.Walk(base, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			err = os.Chmod(p, 0o755)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Render for the systemd that will judge the output: this machine's.
	res, _, err := Generate(Config{Root: root, SystemdVersion: SystemdVersion("/")})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Reports {
		if r.State != StateAttached && r.Name != "minimal" && r.Name != "data" {
			t.Fatalf("%s not attached: %s", r.Name, r.Reason)
		}
	}
	if err := Write(out, res.Files); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSystemdAnalyzeVerify(t *testing.T) {
	testenv.NeedTool(t, "systemd-analyze")
	out := offlineRoot(t)
	cmd := exec.Command("systemd-analyze", "verify", "--man=no", "web.service", "web.socket", "pct.service", "pct.socket", "keeper.service", "portable-generator-state.service", "layered.service")
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+out+":")
	got, _ := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(got)), "\n") {
		// The one known line: verify checks ExecStart= on the host, not in
		// the image.
		if line == "" || strings.Contains(line, "is not executable") {
			continue
		}
		t.Errorf("systemd-analyze verify: %s", line)
	}
}

func TestSystemdLoadsTheSandbox(t *testing.T) {
	systemd := "/lib/systemd/systemd"
	if _, err := os.Stat(systemd); err != nil {
		testenv.Unavailable(t, "no systemd binary: %v", err)
	}
	testenv.NeedTool(t, "setpriv")
	testenv.NeedRoot(t) // to switch to nobody: systemd --test refuses to run as root
	out := offlineRoot(t)
	dump := func(unit string) string {
		cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			"env", "SYSTEMD_UNIT_PATH="+out+":", systemd, "--test", "--system", "--no-pager", "--unit="+unit)
		cmd.Dir = "/"
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("systemd --test: %v", err)
		}
		s := string(b)
		i := strings.Index(s, "-> Unit "+unit+":")
		if i < 0 {
			t.Fatalf("%s not in the dump", unit)
		}
		s = s[i:]
		if j := strings.Index(s[1:], "-> Unit "); j >= 0 {
			s = s[:j+1]
		}
		return s
	}
	for _, tc := range []struct {
		unit string
		want []string
	}{
		{"web.service", []string{
			"Fragment Path: " + out + "/web.service",
			"RootDirectory: /var/lib/portables/web",
			"Source Path: /var/lib/portables/web",
			"Environment: PORTABLE=web",
			"DynamicUser: yes",
			"PrivateUsers: yes",
			"ProtectSystem: strict",
			"CapabilityBoundingSet: cap_chown cap_dac_override cap_fowner cap_fsetid cap_kill cap_setgid cap_setuid cap_net_bind_service\n",
			"SystemCallErrorNumber: EPERM",
		}},
		// A '%' in the image path reaches PID 1 unexpanded.
		{"pct.service", []string{"RootDirectory: /srv/50%off/pct", "Source Path: /srv/50%off/pct",
			"CapabilityBoundingSet: cap_net_bind_service\n"}},
		// Extensions reach PID 1 as directories layered over the base.
		{"layered.service", []string{"RootDirectory: /var/lib/portables/minimal", "Source Path: /var/lib/portables/layered",
			"Environment: PORTABLE=layered", "ExtensionDirectories: /var/lib/portables/layered /var/lib/portables/data"}},
	} {
		d := dump(tc.unit)
		for _, w := range tc.want {
			if !strings.Contains(d, w) {
				t.Errorf("%s: the loaded unit lacks %q", tc.unit, w)
			}
		}
		// The profile's deny list really removes privileged calls from the
		// allow list PID 1 computes.
		for _, line := range strings.Split(d, "\n") {
			if f, ok := strings.CutPrefix(strings.TrimSpace(line), "SystemCallFilter: "); ok {
				for _, bad := range []string{"chroot", "mount", "setrlimit", "reboot"} {
					if strings.Contains(" "+f+" ", " "+bad+" ") {
						t.Errorf("%s: SystemCallFilter allows %s", tc.unit, bad)
					}
				}
			}
		}
	}
}
