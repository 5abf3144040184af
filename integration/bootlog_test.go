//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
)

// skipLines returns the container's journal lines of this boot from the
// generator, as "PRIORITY MESSAGE".
func skipLines(t *testing.T, c *container) []string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(c.must(t, "journalctl", "-b", "-q", "-o", "json", "SYSLOG_IDENTIFIER=portable-generator"), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(l), &e) == nil {
			lines = append(lines, fmt.Sprint(e["PRIORITY"], " ", e["MESSAGE"]))
		}
	}
	return lines
}

// TestSkipReasonAfterBoot boots a container with an image that cannot be
// attached beside one that can: after the boot the reason is in
// `portable-generator list` and in the container's journal at warning
// priority (a container has no kernel log for the generator's lines).
// Without the broken image, a boot logs no line per image; a reload that
// meets it again logs the reason too.
func TestSkipReasonAfterBoot(t *testing.T) {
	var portables string
	broken := func() {
		good, err := os.ReadFile(filepath.Join(portables, "counter_1.raw"))
		if err != nil {
			t.Fatal(err)
		}
		// The image's first 4 KiB: a squashfs superblock whose tables lie
		// past the end of the file.
		if err := os.WriteFile(filepath.Join(portables, "broken_1.raw"), good[:4096], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := boot(generator, bootOptions{tree: osTree, noPortables: true, setup: func(root string) error {
		portables = filepath.Join(root, "var/lib/portables")
		buildImage(t, "counter", imagebuild.Squashfs, "1", "bootlog", filepath.Join(portables, "counter_1.raw"))
		broken()
		return nil
	}})
	if c == nil {
		t.Fatal(err)
	}
	t.Cleanup(c.destroy)
	if err != nil {
		t.Fatal(err)
	}
	attached := func() {
		t.Helper()
		if got := c.must(t, "systemctl", "show", "-P", "FragmentPath", "counter.service"); got != "/run/systemd/generator/counter.service" {
			t.Fatalf("counter.service from %q", got)
		}
	}
	attached()

	list := c.must(t, "portable-generator", "list")
	if !regexp.MustCompile(`\nbroken +skipped +/var/lib/portables/broken_1.raw`).MatchString(list) || !strings.Contains(list, "The last run (boot at ") {
		t.Errorf("portable-generator list after boot:\n%s", list)
	}
	want := "4 broken: /var/lib/portables/broken_1.raw: skipped: "
	poll(t, "the skip line in the journal", 20*time.Second, func() error {
		for _, l := range skipLines(t, c) {
			if strings.HasPrefix(l, want) {
				return nil
			}
		}
		return fmt.Errorf("journalctl -b has no %q:\n%s", want, c.sh("journalctl -b --no-pager -t portable-generator; systemctl status --no-pager portable-generator-log.service"))
	})
	if lines := skipLines(t, c); len(lines) != 1 {
		t.Errorf("the boot logged %d lines, want the one skip:\n%s", len(lines), strings.Join(lines, "\n"))
	}

	// A boot where everything attaches logs no line per image.
	if err := os.Remove(filepath.Join(portables, "broken_1.raw")); err != nil {
		t.Fatal(err)
	}
	c.reboot(t)
	attached()
	if lines := skipLines(t, c); len(lines) != 0 {
		t.Errorf("a boot where everything attached logged:\n%s", strings.Join(lines, "\n"))
	}
	if got := c.sh("systemctl show -P LoadState portable-generator-log.service"); got != "not-found" {
		t.Errorf("portable-generator-log.service is %s after a boot with nothing to log", got)
	}

	// A reload that meets the broken image logs it, through journald's socket.
	broken()
	c.must(t, "systemctl", "daemon-reload")
	poll(t, "the reload's skip line in the journal", 20*time.Second, func() error {
		for _, l := range skipLines(t, c) {
			if strings.HasPrefix(l, want) {
				return nil
			}
		}
		return fmt.Errorf("journalctl -b has no %q:\n%s", want, c.sh("journalctl -b --no-pager -t portable-generator"))
	})
	if list := c.must(t, "portable-generator", "list"); !strings.Contains(list, "The last run (reload at ") {
		t.Errorf("portable-generator list after the reload:\n%s", list)
	}
}
