//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startedLine starts (or restarts) counter.service and returns the line it
// wrote for its n-th start (the file keeps the previous start's line until
// the new process has written).
func startedLine(t *testing.T, verb string, n int) string {
	t.Helper()
	ct.must(t, "systemctl", verb, "counter.service")
	var line string
	poll(t, fmt.Sprintf("counter's start %d", n), 10*time.Second, func() error {
		out, err := ct.exec(context.Background(), "sh", "-c", "cat /var/lib/private/counter/started")
		line = strings.TrimSpace(out)
		if err != nil || !strings.Contains(line, fmt.Sprintf(" start=%d ", n)) {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	return line
}

func cleanup(t *testing.T, paths ...string) {
	t.Cleanup(func() {
		ctx := context.Background()
		ct.exec(ctx, "systemctl", "stop", "counter.service")
		for _, p := range paths {
			os.RemoveAll(p)
		}
		ct.exec(ctx, "rm", "-rf", "/var/lib/private/counter")
		ct.exec(ctx, "systemctl", "daemon-reload")
	})
}

// TestUpgrade: counter_1 runs; counter_2 is added, reload and restart run
// version 2; removing counter_2 brings back 1; the StateDirectory= count
// survives every step.
func TestUpgrade(t *testing.T) {
	v1 := makeImage(t, counterTree(t, "1", "upgrade"), "squashfs", "counter_1.raw")
	cleanup(t, v1, filepath.Join(ct.portables, "counter_2.raw"))
	ct.must(t, "systemctl", "daemon-reload")
	if l := startedLine(t, "start", 1); !strings.Contains(l, "version=1 ") {
		t.Fatalf("first start: %s", l)
	}
	v2 := makeImage(t, counterTree(t, "2", "upgrade"), "squashfs", "counter_2.raw")
	ct.must(t, "systemctl", "daemon-reload")
	if l := startedLine(t, "restart", 2); !strings.Contains(l, "version=2 ") {
		t.Errorf("after adding counter_2.raw: %s", l)
	}
	os.Remove(v2)
	ct.must(t, "systemctl", "daemon-reload")
	if l := startedLine(t, "restart", 3); !strings.Contains(l, "version=1 ") {
		t.Errorf("after removing counter_2.raw: %s", l)
	}
}

// TestShadowAndMask: an image in /etc/portables shadows one in
// /var/lib/portables; a /dev/null symlink masks the name.
func TestShadowAndMask(t *testing.T) {
	low := makeImage(t, counterTree(t, "1", "from-var"), "squashfs", "counter_1.raw")
	high := filepath.Join(t.TempDir(), "counter_9.raw")
	mk := makeImage(t, counterTree(t, "9", "from-etc"), "squashfs", "counter_9.raw")
	if err := os.Rename(mk, high); err != nil {
		t.Fatal(err)
	}
	// /etc/portables is meant for symlinks: link to the image placed in
	// the container's /srv.
	ct.must(t, "mkdir", "-p", "/etc/portables", "/srv/images")
	if out, err := run(context.Background(), "cp", high, filepath.Join(ct.merged, "srv/images/counter_9.raw")); err != nil {
		t.Fatal(out)
	}
	ct.must(t, "ln", "-sf", "/srv/images/counter_9.raw", "/etc/portables/counter_9.raw")
	cleanup(t, low)
	t.Cleanup(func() { ct.exec(context.Background(), "rm", "-rf", "/etc/portables", "/srv/images") })
	ct.must(t, "systemctl", "daemon-reload")
	if l := startedLine(t, "start", 1); !strings.Contains(l, "marker=from-etc") {
		t.Errorf("/etc/portables does not shadow /var/lib/portables: %s", l)
	}
	if list := ct.must(t, "portable-generator", "list"); !strings.Contains(list, "shadowed") {
		t.Errorf("list does not show the shadowed image:\n%s", list)
	}
	ct.must(t, "systemctl", "stop", "counter.service")
	ct.must(t, "ln", "-sf", "/dev/null", "/etc/portables/counter.raw")
	ct.must(t, "systemctl", "daemon-reload")
	if got := ct.show(t, "counter.service", "LoadState"); got != "not-found" {
		t.Errorf("masked image still loads: %s", got)
	}
}

// TestStrictProfileHasNoNetwork: under strict the service's network
// namespace has only loopback.
func TestStrictProfileHasNoNetwork(t *testing.T) {
	img := makeImage(t, counterTree(t, "1", "strict"), "squashfs", "counter_1.raw")
	ct.must(t, "mkdir", "-p", "/etc/systemd/portable")
	ct.must(t, "sh", "-c", "printf '[Portable]\\nProfile=strict\\n' > /etc/systemd/portable/counter.portable")
	cleanup(t, img)
	t.Cleanup(func() { ct.exec(context.Background(), "rm", "-f", "/etc/systemd/portable/counter.portable") })
	ct.must(t, "systemctl", "daemon-reload")
	startedLine(t, "start", 1)
	pid := ct.show(t, "counter.service", "MainPID")
	devs := ct.must(t, "cat", "/proc/"+pid+"/net/dev")
	for _, l := range strings.Split(devs, "\n")[2:] {
		if name := strings.TrimSpace(strings.SplitN(l, ":", 2)[0]); name != "" && name != "lo" {
			t.Errorf("strict service sees interface %q", name)
		}
	}
	if got := ct.show(t, "counter.service", "PrivateNetwork"); got != "yes" {
		t.Errorf("PrivateNetwork=%s", got)
	}
}
