//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
)

// TestSeparateVar: /var is a file system of its own (an ext4 image mounted
// from /etc/fstab), so at boot the generator runs before /var/lib/portables
// exists. An image enabled there still starts in that boot: the generator
// saw that /var was not mounted yet and added portable-generator-late.service,
// which reloads once local file systems are up and starts the targets.
// It boots a container of its own, since its /var is not the suite's.
func TestSeparateVar(t *testing.T) {
	varTree := filepath.Join(t.TempDir(), "var")
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{"lib/portables", 0o700}, {"tmp", 0o1777}, {"log", 0o755}, {"cache", 0o755}} {
		if err := os.MkdirAll(filepath.Join(varTree, d.path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(varTree, d.path), d.mode); err != nil {
			t.Fatal(err)
		}
	}
	buildImage(t, "counter", imagebuild.Squashfs, "1", "late-var", filepath.Join(varTree, "lib/portables/counter_1.raw"))
	var varImage string
	setup := func(root string) error {
		varImage = filepath.Join(root, "srv/var.ext4")
		if err := os.MkdirAll(filepath.Dir(varImage), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(varImage, nil, 0o600); err != nil {
			return err
		}
		if err := os.Truncate(varImage, 64<<20); err != nil {
			return err
		}
		if out, err := run(t.Context(), "mkfs.ext4", "-q", "-F", "-d", varTree, "-E", "root_owner=0:0", varImage); err != nil {
			return fmt.Errorf("mkfs.ext4: %v: %s", err, out)
		}
		if err := os.WriteFile(filepath.Join(root, "etc/fstab"), []byte("/srv/var.ext4 /var ext4 loop 0 2\n"), 0o644); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(root, "etc/systemd/portable"), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(root, "etc/systemd/portable/counter.portable"), []byte("[Portable]\nEnable=yes\n"), 0o644)
	}
	c, err := boot(generator, bootOptions{tree: osTree, setup: setup, noPortables: true})
	if c == nil {
		t.Fatal(err)
	}
	backing := ""
	t.Cleanup(func() {
		c.destroy()
		if devs := loopDevicesOf(t, backing); len(devs) > 0 {
			t.Errorf("loop devices left on the /var image: %v", devs)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	backing = backingFile(t, varImage)
	show := func(unit, prop string) string { return c.must(t, "systemctl", "show", "-P", prop, unit) }

	if got := c.must(t, "findmnt", "-n", "-o", "FSTYPE", "/var"); got != "ext4" {
		t.Fatalf("/var is %q, not the ext4 from fstab", got)
	}
	// The late unit reloads systemd, and the generator, seeing /var
	// mounted then, no longer writes it: its journal tells that it ran.
	var lateStarted uint64
	poll(t, "portable-generator-late.service ran", 20*time.Second, func() error {
		for _, e := range c.journal(t, "UNIT=portable-generator-late.service") {
			msg := e["MESSAGE"]
			if strings.Contains(msg, "Failed") || strings.Contains(msg, "vanished") {
				return fmt.Errorf("%s", msg)
			}
			if strings.HasPrefix(msg, "Starting ") {
				lateStarted, _ = strconv.ParseUint(e["__MONOTONIC_TIMESTAMP"], 10, 64)
			}
			if lateStarted > 0 && (strings.HasPrefix(msg, "Finished ") || strings.Contains(msg, "Deactivated successfully")) {
				return nil
			}
		}
		return fmt.Errorf("not finished yet:\n%s", c.sh("journalctl -b --no-pager -u portable-generator-late.service; portable-generator list"))
	})
	poll(t, "counter.service started in this boot", 20*time.Second, func() error {
		if got := show("counter.service", "ActiveState"); got != "active" {
			return fmt.Errorf("counter.service is %s\n%s", got, c.sh("portable-generator list; systemctl status --no-pager counter.service; ls -l /run/systemd/generator/multi-user.target.wants; journalctl -b -o short-monotonic --no-pager | grep -i -e late -e counter -e Reload -e var.mount -e multi-user"))
		}
		return nil
	})
	if got := show("counter.service", "RootImage"); got != "/var/lib/portables/counter_1.raw" {
		t.Errorf("RootImage=%s", got)
	}
	// It started from the late unit, not from the boot's first run.
	started, _ := strconv.ParseUint(show("counter.service", "ExecMainStartTimestampMonotonic"), 10, 64)
	if started == 0 || started < lateStarted {
		t.Errorf("counter.service started at %d µs, before the late unit at %d", started, lateStarted)
	}
	poll(t, "counter wrote its line on the /var file system", 10*time.Second, func() error {
		if l := c.sh("cat " + counterState + "/started"); !strings.Contains(l, "build=late-var ") {
			return fmt.Errorf("%q", l)
		}
		return nil
	})
}
