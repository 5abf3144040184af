package imagebuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/testenv"
)

// TestTree checks the layout an example's image gets: the binary, every
// unit file, the os-release, and the mount points its units need.
func TestTree(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "greeter")
	if err := os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		example string
		want    []string
	}{
		{"counter", []string{"usr/bin/counter", "usr/lib/systemd/system/counter.service", "var/lib/counter"}},
		{"greeter", []string{"usr/bin/greeter", "usr/lib/systemd/system/greeter.socket", "usr/lib/systemd/system/greeter.service",
			"usr/lib/systemd/system/greeter-check.timer", "usr/lib/systemd/system/greeter-check.service"}},
	} {
		t.Run(c.example, func(t *testing.T) {
			tree := filepath.Join(t.TempDir(), "tree")
			if err := Tree("..", c.example, bin, tree, TreeOptions{Version: "2", BuildID: "b7"}); err != nil {
				t.Fatal(err)
			}
			for _, p := range append(c.want, "etc/resolv.conf", "etc/machine-id", "proc", "sys", "dev", "run", "tmp", "var/tmp") {
				if _, err := os.Stat(filepath.Join(tree, p)); err != nil {
					t.Errorf("missing %s: %v", p, err)
				}
			}
			osr, err := os.ReadFile(filepath.Join(tree, "etc/os-release")) // through the symlink
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range []string{"ID=" + c.example, "VERSION_ID=2", "BUILD_ID=b7", "PORTABLE_PREFIXES=" + c.example} {
				if !slices.Contains(strings.Split(string(osr), "\n"), line) {
					t.Errorf("os-release lacks %s:\n%s", line, osr)
				}
			}
		})
	}
}

func TestMountPoints(t *testing.T) {
	unit := "[Service]\nStateDirectory=a b/c\nCacheDirectory = d\nLogsDirectory=e:f\nConfigurationDirectory=../x\nRuntimeDirectory=r\n"
	got := mountPoints([]byte(unit))
	want := []string{"var/lib/a", "var/lib/b/c", "var/cache/d", "var/log/e"}
	if !slices.Equal(got, want) {
		t.Errorf("mountPoints = %v, want %v", got, want)
	}
}

// TestPackSquashfs packs a tree with the real mksquashfs and lists it back
// with unsquashfs, owned by root whoever built it.
func TestPackSquashfs(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs", "unsquashfs")
	bin := filepath.Join(t.TempDir(), "counter")
	os.WriteFile(bin, []byte("binary"), 0o755)
	tree := filepath.Join(t.TempDir(), "tree")
	if err := Tree("..", "counter", bin, tree, TreeOptions{}); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "counter_1.raw")
	img, err := Pack(tree, Squashfs, dst)
	if err != nil {
		t.Fatal(err)
	}
	if img.Path != dst || img.RootHash != "" {
		t.Errorf("image %+v", img)
	}
	out, err := exec.Command("unsquashfs", "-lln", dst).CombinedOutput()
	if err != nil {
		t.Fatalf("unsquashfs: %v\n%s", err, out)
	}
	for _, want := range []string{"0/0 ", "squashfs-root/usr/bin/counter", "squashfs-root/usr/lib/systemd/system/counter.service", "squashfs-root/var/lib/counter"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("unsquashfs -lln lacks %q:\n%s", want, out)
		}
	}
	if _, err := Pack(tree, Squashfs, dst); err == nil {
		t.Error("Pack overwrote an existing image")
	}
}
