//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
)

// The lifecycle tests: what `portable-generator reconcile` does to running
// services after a reload, each scenario run twice in the same container,
// once with the generator and reconcile and once with portablectl's
// attach/reattach/detach --now (the image outside our search directories),
// and the end states compared.

// lcUnits are the units of the lifecycle image: counter.service in both
// versions, counter-old.service only in version 1, counter-new.service
// only in version 2. All are wanted by multi-user.target.
var lcUnits = []string{"counter.service", "counter-old.service", "counter-new.service"}

// lcImage builds the counter example at version v with its extra unit, at
// dst (a host path).
func lcImage(t *testing.T, v, dst string) *imagebuild.Image {
	t.Helper()
	tree := filepath.Join(t.TempDir(), "tree")
	if err := imagebuild.Tree(examplesDir, "counter", bins["counter"], tree, imagebuild.TreeOptions{Version: v, BuildID: "lc"}); err != nil {
		t.Fatal(err)
	}
	extra := map[string]string{"1": "counter-old", "2": "counter-new"}[v]
	if extra != "" {
		unit := "[Unit]\nDescription=Counter, only in version " + v + "\n\n[Service]\nExecStart=/usr/bin/counter\nStateDirectory=" + extra +
			"\n\n[Install]\nWantedBy=multi-user.target\n"
		if err := os.WriteFile(filepath.Join(tree, "usr/lib/systemd/system", extra+".service"), []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(tree, "var/lib", extra), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	img, err := imagebuild.Pack(tree, imagebuild.Squashfs, dst)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// unitState is what a scenario's end state says about one unit.
type unitState struct {
	Load, Active string
	Version      string // VERSION_ID of the image the main process runs from; "" when not running
}

func (u unitState) String() string { return u.Load + "/" + u.Active + "/v" + u.Version }

// endState records the lifecycle units' state.
func endState(t *testing.T) map[string]unitState {
	t.Helper()
	out := map[string]unitState{}
	for _, u := range lcUnits {
		s := unitState{Load: ct.show(t, u, "LoadState"), Active: ct.show(t, u, "ActiveState")}
		if s.Active == "active" {
			// Wait for the exec: before it, the process's root is not the image's.
			pid := mainPID(t, u, "counter")
			s.Version = strings.Trim(ct.sh("sed -n 's/^VERSION_ID=//p' /proc/"+pid+"/root/usr/lib/os-release"), `"'`)
		}
		out[u] = s
	}
	return out
}

func formatState(s map[string]unitState) string {
	var lines []string
	for u, st := range s {
		lines = append(lines, u+": "+st.String())
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// says fails the test for each line missing from what reconcile printed.
func says(t *testing.T, what, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l) {
			t.Errorf("%s: no %q", what, l)
		}
	}
}

// reconcileNow runs the reconcile verb in the container and returns its
// report.
func reconcileNow(t *testing.T, args ...string) string {
	t.Helper()
	out := ct.must(t, append([]string{"portable-generator", "reconcile"}, args...)...)
	t.Logf("reconcile %s:\n%s", strings.Join(args, " "), out)
	return out
}

// lcFresh starts a lifecycle test from the generator's current output as
// reconcile's baseline, and cleans up after it (the record and the units).
func lcFresh(t *testing.T) {
	t.Helper()
	fresh(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ct.exec(ctx, append([]string{"systemctl", "stop"}, lcUnits...)...)
		ct.exec(ctx, "sh", "-c", "for i in /srv/lc/*.raw; do portablectl detach --runtime \"$i\"; done; rm -rf /srv/lc /var/lib/private/counter-old /var/lib/private/counter-new /var/lib/counter-old /var/lib/counter-new")
		ct.exec(ctx, "rm", "-f", "/run/portable-generator/reconciled.json", "/run/portable-generator/boot.json")
		ct.exec(ctx, "systemctl", "daemon-reload")
		ct.exec(ctx, append([]string{"systemctl", "reset-failed"}, lcUnits...)...)
	})
	// No record and no boot run to compare with: the first reconcile
	// records the baseline.
	ct.must(t, "rm", "-f", "/run/portable-generator/reconciled.json", "/run/portable-generator/boot.json")
	ct.must(t, "systemctl", "daemon-reload")
	if out := reconcileNow(t); !strings.Contains(out, "as the baseline") {
		t.Fatalf("first reconcile did not take a baseline: %s", out)
	}
}

// portablectlDir is where the portablectl half keeps its images, outside
// our search directories.
const portablectlDir = "/srv/lc"

func srvImage(t *testing.T, v string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(ct.merged, portablectlDir), 0o755); err != nil {
		t.Fatal(err)
	}
	p := portablectlDir + "/counter_" + v + ".raw"
	lcImage(t, v, filepath.Join(ct.merged, p))
	return p
}

// toPortablectl ends our half of a scenario (images, settings, units
// stopped, reconciled) and makes the test clean up portablectl's.
func toPortablectl(t *testing.T) {
	t.Helper()
	ents, _ := os.ReadDir(ct.portables)
	for _, e := range ents {
		os.RemoveAll(filepath.Join(ct.portables, e.Name()))
	}
	ct.must(t, "rm", "-rf", "/etc/systemd/portable")
	ct.sh("systemctl stop " + strings.Join(lcUnits, " "))
	ct.must(t, "systemctl", "daemon-reload")
	reconcileNow(t)
	t.Cleanup(func() { portablectlReset(t) })
}

// portablectlReset removes what the portablectl half left.
func portablectlReset(t *testing.T) {
	t.Helper()
	ct.sh("systemctl stop " + strings.Join(lcUnits, " "))
	ct.sh("for i in /srv/lc/*.raw; do portablectl detach --runtime \"$i\"; done; rm -rf /srv/lc /run/portables/counter_*")
	ct.must(t, "systemctl", "daemon-reload")
	ct.sh("systemctl reset-failed " + strings.Join(lcUnits, " "))
}

func sameEnd(t *testing.T, ours, theirs map[string]unitState) {
	t.Helper()
	if formatState(ours) != formatState(theirs) {
		t.Errorf("end states differ:\nours (reconcile):\n%s\nportablectl --now:\n%s", formatState(ours), formatState(theirs))
	}
}

// noNotFoundRunning fails when a lifecycle unit runs without a unit file.
func noNotFoundRunning(t *testing.T, s map[string]unitState) {
	t.Helper()
	for u, st := range s {
		if st.Load == "not-found" && st.Active != "inactive" {
			t.Errorf("%s is %s", u, st)
		}
	}
}

// TestReconcileUpgrade: version 1 (counter, counter-old; Enable=yes) is
// attached and reconcile starts its units; version 2 (counter,
// counter-new) is dropped beside it: reconcile stops counter-old, restarts
// counter from version 2 and starts counter-new. portablectl attach
// --now --enable, then reattach --now --enable, reach the same state.
func TestReconcileUpgrade(t *testing.T) {
	lcFresh(t)
	settings(t, "counter", "Enable=yes\n")
	lcImage(t, "1", filepath.Join(ct.portables, "counter_1.raw"))
	ct.must(t, "systemctl", "daemon-reload")
	out := reconcileNow(t)
	says(t, "the first reconcile", out, "counter.service: started: new from /var/lib/portables/counter_1.raw, wanted by multi-user.target",
		"counter-old.service: started: new from")
	if st := endState(t); st["counter.service"].Version != "1" || st["counter-old.service"].Version != "1" {
		t.Fatalf("version 1 does not run:\n%s", formatState(st))
	}

	lcImage(t, "2", filepath.Join(ct.portables, "counter_2.raw"))
	ct.must(t, "systemctl", "daemon-reload")
	dry := reconcileNow(t, "--dry-run")
	says(t, "the dry run", dry, "counter-old.service: would stop: /var/lib/portables/counter_2.raw does not ship it",
		"counter.service: would restart: now from /var/lib/portables/counter_2.raw (was /var/lib/portables/counter_1.raw)",
		"counter-new.service: would start: new from /var/lib/portables/counter_2.raw, wanted by multi-user.target")
	if got := ct.show(t, "counter-old.service", "ActiveState"); got != "active" {
		t.Errorf("the dry run changed counter-old.service: %s", got)
	}
	out = reconcileNow(t)
	if !strings.Contains(out, "counter-old.service: stopped:") ||
		!strings.Contains(out, "counter.service: restarted:") || !strings.Contains(out, "counter-new.service: started:") {
		t.Errorf("reconcile did not do what the dry run said")
	}
	ours := endState(t)
	noNotFoundRunning(t, ours)
	if ours["counter.service"].Version != "2" || ours["counter-new.service"].Version != "2" || ours["counter-old.service"].Active != "inactive" {
		t.Errorf("after the upgrade:\n%s", formatState(ours))
	}
	if again := reconcileNow(t); again != "" {
		t.Errorf("a second reconcile still has work: %s", again)
	}

	// portablectl, the same steps.
	toPortablectl(t)
	ct.must(t, "portablectl", "attach", "--now", "--enable", "--runtime", srvImage(t, "1"))
	ct.must(t, "portablectl", "reattach", "--now", "--enable", "--runtime", srvImage(t, "2"))
	sameEnd(t, ours, endState(t))
}

// TestReconcileRemoval: removing the image and reconciling stops its
// service, as portablectl detach --now does.
func TestReconcileRemoval(t *testing.T) {
	lcFresh(t)
	img := lcImage(t, "1", filepath.Join(ct.portables, "counter_1.raw"))
	ct.must(t, "systemctl", "daemon-reload")
	out := reconcileNow(t)
	if !strings.Contains(out, "counter.service: nothing to do: new from /var/lib/portables/counter_1.raw, not enabled") {
		t.Errorf("without Enable=yes: %s", out)
	}
	ct.must(t, "systemctl", "start", "counter.service")
	mainPID(t, "counter.service", "counter")
	os.Remove(img.Path)
	if out := reconcileNow(t, "--dry-run"); !strings.Contains(out, "note: /var/lib/portables changed after the generator last ran") {
		t.Errorf("reconcile without a reload does not say so: %s", out)
	}
	ct.must(t, "systemctl", "daemon-reload")
	if got := ct.show(t, "counter.service", "LoadState") + "/" + ct.show(t, "counter.service", "ActiveState"); got != "not-found/active" {
		t.Fatalf("after the reload, before reconcile: %s", got)
	}
	out = reconcileNow(t)
	if !strings.Contains(out, "counter.service: stopped: image counter is gone (was /var/lib/portables/counter_1.raw)") {
		t.Errorf("removal: %s", out)
	}
	ours := endState(t)
	noNotFoundRunning(t, ours)

	ct.must(t, "rm", "-rf", "/etc/systemd/portable")
	t.Cleanup(func() { portablectlReset(t) })
	p := srvImage(t, "1")
	ct.must(t, "portablectl", "attach", "--runtime", p)
	ct.must(t, "systemctl", "start", "counter.service")
	mainPID(t, "counter.service", "counter")
	ct.must(t, "portablectl", "detach", "--now", "--runtime", p)
	sameEnd(t, ours, endState(t))
}

// TestReconcileHalfCopied: a newer version cut off half way (a copy in
// progress) beside a running version 1: after the reload version 1 stays
// attached and keeps running, and reconcile leaves it alone.
func TestReconcileHalfCopied(t *testing.T) {
	lcFresh(t)
	lcImage(t, "1", filepath.Join(ct.portables, "counter_1.raw"))
	ct.must(t, "systemctl", "daemon-reload")
	reconcileNow(t)
	ct.must(t, "systemctl", "start", "counter.service", "counter-old.service")
	pid := mainPID(t, "counter.service", "counter")
	mainPID(t, "counter-old.service", "counter")

	whole := lcImage(t, "2", filepath.Join(t.TempDir(), "counter_2.raw"))
	b, err := os.ReadFile(whole.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ct.portables, "counter_2.raw"), b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	ct.must(t, "systemctl", "daemon-reload")
	if got := ct.show(t, "counter.service", "LoadState"); got != "loaded" {
		t.Errorf("a half-copied version 2 cost version 1 its unit: %s\n%s", got, ct.sh("portable-generator list"))
	}
	if got := ct.show(t, "counter.service", "SourcePath"); got != "/var/lib/portables/counter_1.raw" {
		t.Errorf("counter.service comes from %q", got)
	}
	if out := reconcileNow(t); out != "" {
		t.Errorf("reconcile acted on a half-copied image: %s", out)
	}
	if got := ct.show(t, "counter.service", "MainPID"); got != pid {
		t.Errorf("counter.service was restarted: PID %s, was %s", got, pid)
	}
	ours := endState(t)
	if ours["counter.service"].Version != "1" {
		t.Errorf("version 1 does not run:\n%s", formatState(ours))
	}
	list := ct.sh("portable-generator list")
	t.Logf("list:\n%s", list)

	// portablectl: reattach to the half-copied file fails; what runs?
	toPortablectl(t)
	ct.must(t, "portablectl", "attach", "--now", "--runtime", srvImage(t, "1"))
	half := portablectlDir + "/counter_2.raw"
	if err := os.WriteFile(filepath.Join(ct.merged, half), b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := ct.exec(context.Background(), "portablectl", "reattach", "--now", "--runtime", half)
	t.Logf("portablectl reattach to the half-copied image: %v\n%s", err, out)
	sameEnd(t, ours, endState(t))
}

// lcFile is a path on the host for a container path.
func lcFile(p string) string { return filepath.Join(ct.merged, p) }

// TestReconcileUnitsLoad: the shipped units load without a warning, and
// portable-generator-reconcile.service records the baseline.
func TestReconcileUnitsLoad(t *testing.T) {
	lcFresh(t)
	installUnits(t)
	cursor := journalCursor(t)
	ct.must(t, "systemctl", "daemon-reload")
	for _, u := range []string{"portable-generator-reconcile.service", "portable-generator-update.path",
		"portable-generator-update.service", "portable-generator-sysupdate@counter.service", "portable-generator-sysupdate@counter.timer"} {
		if got := ct.show(t, u, "LoadState"); got != "loaded" {
			t.Errorf("%s: %s", u, got)
		}
	}
	if warn := ct.sh("journalctl -q --after-cursor='" + cursor + "' -p warning _PID=1 | grep portable-generator"); warn != "" {
		t.Errorf("PID 1 warns about our units:\n%s", warn)
	}
	ct.must(t, "rm", "-f", "/run/portable-generator/reconciled.json", "/run/portable-generator/boot.json")
	ct.must(t, "systemctl", "start", "portable-generator-reconcile.service")
	if out := ct.sh("journalctl -q -o cat -u portable-generator-reconcile.service"); !strings.Contains(out, "as the baseline") {
		t.Errorf("portable-generator-reconcile.service: %s", out)
	}
}

// installUnits copies the shipped units into the container's
// /usr/local/lib/systemd/system.
func installUnits(t *testing.T) {
	t.Helper()
	dir := lcFile("/usr/local/lib/systemd/system")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("../units")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("../units", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, e := range ents {
			os.Remove(filepath.Join(dir, e.Name()))
		}
		ct.sh("systemctl daemon-reload")
	})
}

// TestUpdatePath: with portable-generator-update.path started, an image
// copied in slowly (half, a pause shorter than the settle time, the rest)
// is acted on once, after the copy: one round of reload and reconcile,
// which starts the enabled service from the whole image.
func TestUpdatePath(t *testing.T) {
	lcFresh(t)
	installUnits(t)
	settings(t, "counter", "Enable=yes\n")
	dropIn := lcFile("/etc/systemd/system/portable-generator-update.service.d/settle.conf")
	if err := os.MkdirAll(filepath.Dir(dropIn), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dropIn, []byte("[Service]\nEnvironment=SETTLE=3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ct.sh("systemctl stop portable-generator-update.path portable-generator-update.service")
		os.RemoveAll(filepath.Dir(dropIn))
	})
	ct.must(t, "systemctl", "daemon-reload")
	ct.must(t, "systemctl", "start", "portable-generator-update.path")
	cursor := journalCursor(t)

	whole := lcImage(t, "1", filepath.Join(t.TempDir(), "counter_1.raw"))
	b, err := os.ReadFile(whole.Path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(ct.portables, "counter_1.raw"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(b[:len(b)/2])
	f.Sync()
	poll(t, "the path unit triggers", 10*time.Second, func() error {
		if s := ct.show(t, "portable-generator-update.service", "ActiveState"); s != "activating" {
			return fmt.Errorf("portable-generator-update.service is %s", s)
		}
		return nil
	})
	time.Sleep(time.Second) // a copy that pauses, for less than SETTLE
	f.Write(b[len(b)/2:])
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	poll(t, "the update finishes", 60*time.Second, func() error {
		if s := ct.show(t, "portable-generator-update.service", "ActiveState"); s != "inactive" {
			return fmt.Errorf("portable-generator-update.service is %s", s)
		}
		return nil
	})
	log := ct.sh("journalctl -q -o cat --after-cursor='" + cursor + "' -u portable-generator-update.service")
	t.Logf("portable-generator-update.service:\n%s", log)
	if n := strings.Count(log, "reloading and reconciling"); n != 1 {
		t.Errorf("%d rounds of reload and reconcile, want 1", n)
	}
	if !strings.Contains(log, "counter.service: started: new from /var/lib/portables/counter_1.raw") {
		t.Errorf("counter.service was not started")
	}
	if v := runningVersion(t); v != "1" {
		t.Errorf("running version %q", v)
	}
}

// TestBesidePortablectl pins what the README says each tool sees of the
// other. Ours attached: portablectl lists the image as "detached", refuses
// to attach it again (its units exist on the host) and has nothing to
// detach. portablectl's attached (its /run/portables symlink puts the image
// in our search path): our generator skips it, naming `portablectl detach`,
// and reconcile leaves its units alone.
func TestBesidePortablectl(t *testing.T) {
	lcFresh(t)
	lcImage(t, "1", filepath.Join(ct.portables, "counter_1.raw"))
	ct.must(t, "systemctl", "daemon-reload")
	if got := ct.sh("portablectl is-attached counter_1"); got != "detached" {
		t.Errorf("portablectl is-attached, with ours attached: %q", got)
	}
	if out, err := ct.exec(t.Context(), "portablectl", "attach", "--runtime", "/var/lib/portables/counter_1.raw"); err == nil ||
		!strings.Contains(out, "exists on the host already") {
		t.Errorf("portablectl attach of our image: %v: %s", err, out)
	}
	if out, err := ct.exec(t.Context(), "portablectl", "detach", "--runtime", "counter"); err == nil {
		t.Errorf("portablectl detach of our image: %s", out)
	}
	if got := ct.show(t, "counter.service", "FragmentPath"); got != "/run/systemd/generator/counter.service" {
		t.Errorf("counter.service from %s", got)
	}

	toPortablectl(t)
	ct.must(t, "portablectl", "attach", "--now", "--runtime", srvImage(t, "1"))
	ct.must(t, "systemctl", "daemon-reload")
	if got := ct.sh("portable-generator list"); !strings.Contains(got, "skipped") || !strings.Contains(got, "portablectl detach") {
		t.Errorf("our list with portablectl's attachment:\n%s", got)
	}
	if out := reconcileNow(t); out != "" {
		t.Errorf("reconcile acted on portablectl's units: %s", out)
	}
	if got := ct.show(t, "counter.service", "FragmentPath") + " " + ct.show(t, "counter.service", "ActiveState"); got != "/run/systemd/system.attached/counter.service active" {
		t.Errorf("counter.service: %s", got)
	}
}

// TestReconcileAfterBoot: with portable-generator-reconcile.service
// enabled, the boot records the baseline, so the first reconcile after a
// change acts: an enabled image's service, started by the boot from
// version 1, is restarted from version 2.
func TestReconcileAfterBoot(t *testing.T) {
	lcFresh(t)
	installUnits(t)
	settings(t, "counter", "Enable=yes\n")
	ct.must(t, "systemctl", "enable", "portable-generator-reconcile.service")
	t.Cleanup(func() { ct.sh("systemctl disable portable-generator-reconcile.service") })
	lcImage(t, "1", filepath.Join(ct.portables, "counter_1.raw"))
	ct.reboot(t)
	poll(t, "the boot's reconcile", 30*time.Second, func() error {
		if s := ct.show(t, "portable-generator-reconcile.service", "ActiveState"); s != "inactive" || ct.show(t, "portable-generator-reconcile.service", "Result") != "success" {
			return fmt.Errorf("portable-generator-reconcile.service: %s", s)
		}
		if out := ct.sh("journalctl -q -b -o cat -u portable-generator-reconcile.service"); !strings.Contains(out, "as the baseline") {
			return fmt.Errorf("no baseline: %s", out)
		}
		return nil
	})
	if st := endState(t); st["counter.service"].Version != "1" || st["counter-old.service"].Version != "1" {
		t.Fatalf("after the boot:\n%s", formatState(st))
	}
	lcImage(t, "2", filepath.Join(ct.portables, "counter_2.raw"))
	ct.must(t, "systemctl", "daemon-reload")
	out := reconcileNow(t)
	says(t, "the first reconcile after the boot", out, "counter-old.service: stopped:", "counter.service: restarted: now from /var/lib/portables/counter_2.raw",
		"counter-new.service: started:")
}

// TestReconcileSocketActivated: greeter (Enable=yes: greeter.socket and
// greeter-check.timer wanted) upgraded while a connection has started
// greeter.service: the service restarts from version 2 and answers, the
// socket keeps listening (left running: PID 1 would not start it again
// under its running service), the timer restarts.
func TestReconcileSocketActivated(t *testing.T) {
	lcFresh(t)
	settings(t, "greeter", "Enable=yes\n")
	dropImage(t, "greeter", imagebuild.Squashfs, "1", "lc")
	ct.must(t, "systemctl", "daemon-reload")
	out := reconcileNow(t)
	says(t, "reconcile", out, "greeter.socket: started: new from /var/lib/portables/greeter_1.raw, wanted by sockets.target",
		"greeter-check.timer: started: new from /var/lib/portables/greeter_1.raw, wanted by timers.target",
		"greeter.service: nothing to do: new from /var/lib/portables/greeter_1.raw, started by greeter.socket",
		"greeter-check.service: nothing to do: new from /var/lib/portables/greeter_1.raw, started by greeter-check.timer")
	if got, err := httpGet(t, "http://127.0.0.1:8080/"); err != nil || !strings.Contains(got, "version=1 ") {
		t.Fatalf("greeter 1: %v: %s", err, got)
	}
	dropImage(t, "greeter", imagebuild.Squashfs, "2", "lc")
	ct.must(t, "systemctl", "daemon-reload")
	out = reconcileNow(t)
	says(t, "reconcile", out, "greeter.service: restarted: now from /var/lib/portables/greeter_2.raw",
		"greeter-check.timer: restarted: now from /var/lib/portables/greeter_2.raw",
		"greeter.socket: left running: now from /var/lib/portables/greeter_2.raw (was /var/lib/portables/greeter_1.raw); not restarted while greeter.service runs")
	if got := ct.show(t, "greeter.socket", "ActiveState"); got != "active" {
		t.Errorf("greeter.socket is %s", got)
	}
	if got, err := httpGet(t, "http://127.0.0.1:8080/"); err != nil || !strings.Contains(got, "version=2 ") {
		t.Errorf("greeter after the upgrade: %v: %s", err, got)
	}
}
