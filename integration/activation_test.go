//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
)

var greeterUnits = []string{"greeter.socket", "greeter.service", "greeter-check.timer", "greeter-check.service"}

// TestSocketActivation: the image's .socket listens in PID 1, and the first
// connection starts the image's service, which answers from the image.
func TestSocketActivation(t *testing.T) {
	fresh(t)
	img := dropImage(t, "greeter", imagebuild.Squashfs, "1", "socket")
	ct.must(t, "systemctl", "daemon-reload")
	for _, u := range greeterUnits {
		if got := ct.show(t, u, "FragmentPath"); got != "/run/systemd/generator/"+u {
			t.Fatalf("%s: FragmentPath %q; list:\n%s", u, got, ct.sh("portable-generator list"))
		}
	}
	if got := ct.show(t, "greeter.socket", "ActiveState"); got != "inactive" {
		t.Errorf("greeter.socket is %s before anyone started it (Enable= defaults to no)", got)
	}
	ct.must(t, "systemctl", "start", "greeter.socket")
	if got := ct.show(t, "greeter.service", "ActiveState"); got != "inactive" {
		t.Fatalf("greeter.service is %s before any connection", got)
	}
	out, err := httpGet(t, "http://127.0.0.1:8080/")
	if err != nil || !strings.Contains(out, "build=socket ") {
		t.Fatalf("GET /: %v: %s\n%s", err, out, ct.sh("systemctl status --no-pager greeter.socket greeter.service"))
	}
	if strings.Contains(out, " uid=0 ") {
		t.Errorf("greeter runs as root: %s", out)
	}
	pid := mainPID(t, "greeter.service", "greeter")
	runsFromImage(t, pid, "greeter")
	checkSandbox(t, pid)
	if got := ct.show(t, "greeter.service", "TriggeredBy"); got != "greeter.socket" {
		t.Errorf("greeter.service TriggeredBy=%q", got)
	}
	// The answer names the process: the one PID 1 started for the socket.
	if !strings.Contains(out, " pid=") {
		t.Errorf("answer without pid: %s", out)
	}
	poll(t, "journal has greeter's start line", 10*time.Second, func() error {
		if j := ct.sh("journalctl -q -o cat PORTABLE=greeter_1.raw _PID=" + pid); !strings.Contains(j, "serving on") {
			return fmt.Errorf("journal: %q", j)
		}
		return nil
	})
	backing := backingFile(t, img.Path)
	ct.must(t, "systemctl", "stop", "greeter.socket", "greeter.service")
	removeAndCheckGone(t, img, backing, greeterUnits...)
}

// TestTimerFiresService: the image's .timer fires its service, a health
// check that connects to the greeter's socket (starting the greeter).
func TestTimerFiresService(t *testing.T) {
	fresh(t)
	dropImage(t, "greeter", imagebuild.Squashfs, "1", "timer")
	ct.must(t, "systemctl", "daemon-reload")
	ct.must(t, "systemctl", "start", "greeter-check.timer")
	poll(t, "greeter-check.service ran and succeeded", 15*time.Second, func() error {
		if ts := ct.show(t, "greeter-check.service", "ExecMainExitTimestampMonotonic"); ts == "0" || ts == "" {
			return fmt.Errorf("not run yet (timer: %s)", ct.sh("systemctl list-timers --all --no-pager greeter-check.timer"))
		}
		if r := ct.show(t, "greeter-check.service", "Result"); r != "success" {
			return fmt.Errorf("Result=%s\n%s", r, ct.sh("journalctl -q --no-pager -u greeter-check.service"))
		}
		return nil
	})
	// The check's line carries the image's journal fields. journald takes
	// a line's unit fields from the logging process, and a check that
	// exits at once can be gone before journald looks (seen once on 257,
	// under load: the check ran and succeeded, its line had no
	// PORTABLE=): the check runs again, at most twice more, until a line
	// of it carries them.
	lineWithFields := func() error {
		for _, e := range ct.journal(t, "_SYSTEMD_UNIT=greeter-check.service") {
			if e["PORTABLE"] == "greeter_1.raw" && e["MESSAGE"] == "greeter-check: http://127.0.0.1:8080/healthz: 200 OK: ok" {
				return nil
			}
		}
		return fmt.Errorf("no line of the check with PORTABLE=greeter_1.raw")
	}
	for rerun := 0; ; rerun++ {
		err := pollErr(10*time.Second, lineWithFields)
		if err == nil {
			break
		}
		if rerun == 2 {
			t.Fatalf("the check's line in the journal: %v\n%s", err, ct.sh("journalctl -q --no-pager -o verbose _SYSTEMD_UNIT=greeter-check.service | tail -n 60"))
		}
		t.Logf("the check's line in the journal: %v; running the check again", err)
		ct.must(t, "systemctl", "start", "greeter-check.service")
	}
	if got := ct.show(t, "greeter.service", "ActiveState"); got != "active" {
		t.Errorf("the check's connection did not start greeter.service: %s", got)
	}
	// The timer stays armed for its next run.
	if got := ct.show(t, "greeter-check.timer", "ActiveState"); got != "active" {
		t.Errorf("greeter-check.timer is %s after firing", got)
	}
}

// TestEnableAcrossReboot: with Enable=yes in NAME.portable the image's
// [Install] section takes effect, so after a reboot its units run without
// anyone starting them; with the default they do not. Each example is seen
// both ways, over two boots.
func TestEnableAcrossReboot(t *testing.T) {
	fresh(t)
	dropImage(t, "counter", imagebuild.Squashfs, "1", "enable")
	dropImage(t, "greeter", imagebuild.Squashfs, "1", "enable")

	// Boot 1: counter enabled, greeter left at the default.
	settings(t, "counter", "Enable=yes\n")
	ct.reboot(t)
	if got := ct.sh("readlink /run/systemd/generator/multi-user.target.wants/counter.service"); got != "../counter.service" {
		t.Errorf("no enablement symlink for counter.service: %q", got)
	}
	counterLine(t, 1)
	pid := mainPID(t, "counter.service", "counter")
	runsFromImage(t, pid, "counter")
	for _, u := range []string{"greeter.socket", "greeter-check.timer", "greeter.service"} {
		if got := ct.show(t, u, "ActiveState"); got != "inactive" {
			t.Errorf("boot 1: %s is %s without Enable=yes", u, got)
		}
	}

	// Boot 2: the other way round.
	if err := os.Remove(filepath.Join(ct.merged, "etc/systemd/portable/counter.portable")); err != nil {
		t.Fatal(err)
	}
	settings(t, "greeter", "Enable=yes\n")
	ct.reboot(t)
	if got := ct.show(t, "counter.service", "ActiveState"); got != "inactive" {
		t.Errorf("boot 2: counter.service is %s without Enable=yes", got)
	}
	for _, u := range []string{"greeter.socket", "greeter-check.timer"} {
		if got := ct.show(t, u, "ActiveState"); got != "active" {
			t.Errorf("boot 2: %s is %s with Enable=yes", u, got)
		}
	}
	// The timer fires 1 s after boot; its check connects to the socket,
	// which starts the greeter.
	poll(t, "the enabled timer's check ran", 15*time.Second, func() error {
		if r := ct.show(t, "greeter-check.service", "Result"); r != "success" || ct.show(t, "greeter-check.service", "ExecMainExitTimestampMonotonic") == "0" {
			return fmt.Errorf("greeter-check.service: Result=%s", r)
		}
		return nil
	})
	if got := ct.show(t, "greeter.service", "ActiveState"); got != "active" {
		t.Errorf("boot 2: greeter.service is %s after the check connected", got)
	}
}
