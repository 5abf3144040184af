package profiles

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

func TestVersionAdaptation(t *testing.T) {
	for _, tc := range []struct {
		version     int
		has, hasNot []string
	}{
		{252, []string{"BindReadOnlyPaths=/dev/log /run/systemd/journal/socket", "PrivateTmp=yes"}, []string{"BindLogSockets=", "DelegateNamespaces="}},
		{257, []string{"BindLogSockets=yes"}, []string{"/dev/log", "PrivateTmp=", "DelegateNamespaces="}},
		{258, []string{"BindLogSockets=yes", "DelegateNamespaces=no"}, []string{"/dev/log"}},
		{0, []string{"BindLogSockets=yes", "DelegateNamespaces=no"}, nil},
	} {
		for _, name := range []string{"default", "nonetwork", "strict"} {
			b, ok := Builtin(name, tc.version)
			if !ok {
				t.Fatalf("%s missing", name)
			}
			s := string(b)
			if strings.Contains(s, "[>=") || strings.Contains(s, "[<") {
				t.Errorf("%s@%d: a version tag survived rendering", name, tc.version)
			}
			for _, want := range tc.has {
				if !strings.Contains(s, want) {
					t.Errorf("%s@%d: lacks %q", name, tc.version, want)
				}
			}
			for _, bad := range tc.hasNot {
				if strings.Contains(s, bad) {
					t.Errorf("%s@%d: has %q", name, tc.version, bad)
				}
			}
		}
	}
}

func TestUnknownProfile(t *testing.T) {
	for _, name := range []string{"defualt", "", "../default", "default/service.conf"} {
		if _, ok := Builtin(name, 0); ok {
			t.Errorf("Builtin(%q) found a profile", name)
		}
	}
}

// The profiles narrow what systemd's do: no-network profiles have no IP,
// strict has no capabilities, and default/nonetwork/strict forbid new
// privileges while trusted confines nothing.
func TestProfilesConfine(t *testing.T) {
	get := func(n string) string { b, _ := Builtin(n, 0); return string(b) }
	for _, n := range []string{"default", "nonetwork", "strict"} {
		for _, want := range []string{"DynamicUser=yes", "PrivateUsers=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "SystemCallFilter=@system-service"} {
			if !strings.Contains(get(n), want+"\n") {
				t.Errorf("%s lacks %s", n, want)
			}
		}
	}
	for _, n := range []string{"nonetwork", "strict"} {
		if !strings.Contains(get(n), "PrivateNetwork=yes\n") || strings.Contains(get(n), "AF_INET") {
			t.Errorf("%s has network", n)
		}
	}
	if !strings.Contains(get("strict"), "CapabilityBoundingSet=\n") {
		t.Error("strict keeps capabilities")
	}
	if strings.Contains(get("trusted"), "DynamicUser") || strings.Contains(get("trusted"), "SystemCallFilter") {
		t.Error("trusted confines")
	}
}

// Each rendering for the systemd on this machine loads without a warning:
// systemd-analyze verify on a unit with the profile as its drop-in reports
// nothing but the host-side ExecStart check.
func TestProfilesLoadOnThisSystemd(t *testing.T) {
	testenv.NeedTool(t, "systemd-analyze", "systemctl")
	out, err := exec.Command("systemctl", "--version").Output()
	if err != nil {
		t.Fatalf("systemctl --version: %v", err)
	}
	var version int
	if f := strings.Fields(string(out)); len(f) > 1 {
		version = atoi(f[1])
	}
	for _, name := range Names {
		dir := t.TempDir()
		unit := filepath.Join(dir, "probe-"+name+".service")
		if err := os.WriteFile(unit, []byte("[Service]\nExecStart=/usr/bin/probe-binary\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Mkdir(unit+".d", 0o755)
		b, _ := Builtin(name, version)
		if err := os.WriteFile(filepath.Join(unit+".d", "10-profile.conf"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("systemd-analyze", "verify", "--man=no", unit)
		got, _ := cmd.CombinedOutput()
		for _, line := range strings.Split(strings.TrimSpace(string(got)), "\n") {
			if line == "" || strings.Contains(line, "is not executable") {
				continue
			}
			t.Errorf("%s (systemd %d): %s", name, version, line)
		}
	}
}

// The renderings for systemd 257 load without a warning on 257 itself: the
// trixie tree's systemd-analyze verify (integration/trixie-tree.sh), run in
// the tree with chroot, the probe bound at /mnt in a private mount
// namespace.
func TestProfilesLoadOnSystemd257(t *testing.T) {
	testenv.NeedTool(t, "unshare")
	tree := testenv.NeedTree(t, "systemd-analyze")
	for _, name := range Names {
		dir, err := os.MkdirTemp("", "pg-profile-257-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		unit := filepath.Join(dir, "probe-"+name+".service")
		if err := os.WriteFile(unit, []byte("[Service]\nExecStart=/usr/bin/probe-binary\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Mkdir(unit+".d", 0o755)
		b, _ := Builtin(name, 257)
		if err := os.WriteFile(filepath.Join(unit+".d", "10-profile.conf"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("unshare", "-m", "sh", "-c",
			`mount --make-rprivate / && mount --bind "$1" "$2/mnt" && exec chroot "$2" systemd-analyze verify --man=no "/mnt/$3"`,
			"sh", dir, tree, filepath.Base(unit))
		got, _ := cmd.CombinedOutput()
		if !strings.Contains(string(got), "is not executable") {
			// The one line every probe yields: if it is missing, verify
			// did not judge the unit at all.
			t.Fatalf("%s: systemd-analyze verify in %s did not run: %s", name, tree, got)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(got)), "\n") {
			if line == "" || strings.Contains(line, "is not executable") {
				continue
			}
			t.Errorf("%s (systemd 257): %s", name, line)
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func TestRenderKeepsUntaggedBytes(t *testing.T) {
	in := []byte("# c\n[Service]\n[>=300] New=1\n[<10] Old=1\nA=b\n")
	if got := Render(in, 257); !bytes.Equal(got, []byte("# c\n[Service]\nA=b\n")) {
		t.Errorf("got %q", got)
	}
}
