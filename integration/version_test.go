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

	"github.com/portable-generator/portable-generator/examples/imagebuild"
)

const (
	logSocketBinds = "BindReadOnlyPaths=/dev/log /run/systemd/journal/socket /run/systemd/journal/stdout"
	osReleaseBind  = "BindReadOnlyPaths=-/etc/os-release:/run/host/os-release"
)

// TestOutputFollowsSystemdVersion: the generator renders for the systemd
// that runs it (read from the name of its libsystemd-shared-N.so, never
// asked), and PID 1 loads the result without a word. The other version's
// rendering would not do, which the probe subtests show.
func TestOutputFollowsSystemdVersion(t *testing.T) {
	fresh(t)
	dropImage(t, "counter", imagebuild.Squashfs, "1", "version")
	cursor := journalCursor(t)
	ct.must(t, "systemctl", "daemon-reload")
	profile := ct.must(t, "cat", "/run/systemd/generator/counter.service.d/10-profile.conf")
	portable := ct.must(t, "cat", "/run/systemd/generator/counter.service.d/20-portable.conf")
	lines := func(s string) []string { return strings.Split(s, "\n") }
	if ct.version >= 257 {
		if !contains(lines(profile), "BindLogSockets=yes") || strings.Contains(profile, logSocketBinds) {
			t.Errorf("systemd %d: the profile should say BindLogSockets=yes, not bind the sockets:\n%s", ct.version, profile)
		}
	} else if !contains(lines(profile), logSocketBinds) || strings.Contains(profile, "BindLogSockets") {
		t.Errorf("systemd %d: the profile should bind the log sockets (no BindLogSockets=):\n%s", ct.version, profile)
	}
	if got := contains(lines(portable), osReleaseBind); got != (ct.version < 254) {
		t.Errorf("systemd %d: 20-portable.conf binds the host's os-release: %v, want %v:\n%s", ct.version, got, ct.version < 254, portable)
	}
	if w := pid1Complaints(t, cursor); w != "" {
		t.Errorf("PID 1 complained about the generated files:\n%s", w)
	}
	startedLine(t, "start", 1)

	probe := filepath.Join(ct.merged, "etc/systemd/system/counter.service.d")
	t.Cleanup(func() { os.RemoveAll(probe) })
	addProbe := func(t *testing.T, body string) {
		t.Helper()
		if err := os.MkdirAll(probe, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(probe, "99-probe.conf"), []byte("[Service]\n"+body+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if ct.version < 257 {
		t.Run("probe: 257s BindLogSockets= is unknown here", func(t *testing.T) {
			// The journal check above can fail: 257's line is an unknown key here.
			addProbe(t, "BindLogSockets=yes")
			cursor := journalCursor(t)
			ct.must(t, "systemctl", "daemon-reload")
			if w := pid1Complaints(t, cursor); !strings.Contains(w, "BindLogSockets") {
				t.Errorf("PID 1 took BindLogSockets= without a word: %q", w)
			}
		})
	}
	if ct.version >= 254 {
		t.Run("probe: 252s os-release bind breaks the service", func(t *testing.T) {
			// 252's line breaks the service: PID 1 provides
			// /run/host/os-release itself from 254 on.
			ct.must(t, "systemctl", "stop", "counter.service")
			addProbe(t, osReleaseBind)
			ct.must(t, "systemctl", "daemon-reload")
			ct.exec(context.Background(), "systemctl", "start", "counter.service")
			poll(t, "counter.service fails at NAMESPACE with 252's os-release bind", 10*time.Second, func() error {
				if r := ct.show(t, "counter.service", "ExecMainStatus"); r != "226" {
					return fmt.Errorf("systemd %d: ExecMainStatus=%s, want 226\n%s", ct.version, r,
						ct.sh("systemctl status --no-pager -n 5 counter.service"))
				}
				return nil
			})
		})
	}
}

// pid1Complaints returns what PID 1 logged about files in the generator
// directory since cursor: unknown keys, bad values, unknown sections.
func pid1Complaints(t *testing.T, cursor string) string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(ct.sh("journalctl -q -o cat --after-cursor='"+cursor+"' _PID=1"), "\n") {
		if strings.Contains(l, "/run/systemd/generator/") || strings.Contains(l, "/etc/systemd/system/counter.service.d/") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
