//go:build integration

package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestKilledRunInContainer: PID 1 kills generators that outlive their
// budget, SIGTERM then SIGKILL, and boots on with whatever they wrote.
// Here the installed generator runs in the container over 120 images
// (pairs of which claim one unit, so a losing image is also taken back),
// killed that way at random moments; each killed run's output is then
// given to PID 1 (copied into /run/systemd/system, daemon-reload) and every
// unit PID 1 loads from it must carry its sandbox: 20-portable.conf, and
// for a service 10-profile.conf with the profile's settings in force. The
// moment of the kill is random and not asserted: the check must hold
// whenever it comes. The corpus is TestKilledRunLeavesNoUnitWithoutItsSandbox's
// (generator/cmd/portable-generator/kill_test.go), which checks the files
// alone: change the two together.
func TestKilledRunInContainer(t *testing.T) {
	fresh(t)
	const root = "/srv/killed-run" // a --root of its own: the reload's own run does not see these images
	images := filepath.Join(ct.merged, root, "var/lib/portables")
	t.Cleanup(func() {
		os.RemoveAll(filepath.Join(ct.merged, root))
		ct.sh("rm -rf /run/pg-killed /run/systemd/system/killed*")
		ct.sh("systemctl daemon-reload")
	})
	for i := 0; i < 120; i++ {
		name := fmt.Sprintf("killed%03d", i)
		units := map[string]string{
			name + ".service":        "[Service]\nExecStart=/bin/true\n",
			name + "-worker.service": "[Service]\nExecStart=/bin/true\n",
			name + ".socket":         "[Socket]\nListenStream=/run/" + name + "/sock\n",
			name + ".timer":          "[Timer]\nOnCalendar=daily\n",
		}
		if i%10 == 1 {
			writeDirImage(t, images, name+"-worker", map[string]string{name + "-worker.service": "[Service]\nExecStart=/bin/false\n"})
		}
		writeDirImage(t, images, name, units)
	}
	run := func(out string, killAfter time.Duration) time.Duration {
		script := fmt.Sprintf(`rm -rf %[1]s; start=$(date +%%s%%N)
SYSTEMD_LOG_LEVEL=err %[2]s --root=%[3]s %[1]s %[1]s %[1]s & pid=$!`, out, generatorPath, root)
		if killAfter > 0 {
			script += fmt.Sprintf(`
sleep %.4f; kill -TERM $pid; sleep 0.0005; kill -KILL $pid 2>/dev/null`, killAfter.Seconds())
		}
		script += `
wait $pid; echo $(( $(date +%s%N) - start ))`
		ns, err := strconv.ParseInt(strings.TrimSpace(lastLine(ct.sh(script))), 10, 64)
		if err != nil {
			t.Fatalf("running the generator in the container: %v", err)
		}
		return time.Duration(ns)
	}
	full := run("/run/pg-killed/full", 0)
	if n := pidLoadsSandboxed(t, "/run/pg-killed/full"); n != 120*4-12*3 {
		t.Errorf("a whole run: PID 1 loaded %d units from it, want %d", n, 120*4-12*3)
	}
	rng := rand.New(rand.NewPCG(18, 9))
	for trial := 0; trial < 8; trial++ {
		out := fmt.Sprintf("/run/pg-killed/%d", trial)
		after := time.Duration(rng.Int64N(int64(full)))
		run(out, after)
		t.Logf("killed after %v of a %v run: PID 1 loaded %d units of it, each sandboxed", after.Round(time.Millisecond), full.Round(time.Millisecond), pidLoadsSandboxed(t, out))
	}
}

// pidLoadsSandboxed gives PID 1 the output in dir (a copy in
// /run/systemd/system, then daemon-reload), checks that every unit it
// loads from there has its drop-ins, and returns how many it loaded.
func pidLoadsSandboxed(t *testing.T, dir string) int {
	t.Helper()
	ct.must(t, "sh", "-c", "rm -rf /run/systemd/system/killed*; cp -a "+dir+"/. /run/systemd/system/ 2>/dev/null || true; systemctl daemon-reload")
	list := ct.sh("cd /run/systemd/system && for f in killed*; do [ -f \"$f\" ] && [ ! -L \"$f\" ] && echo \"$f\"; done")
	units := strings.Fields(list)
	for _, u := range units {
		dropIns := ct.show(t, u, "DropInPaths")
		need := []string{"/run/systemd/system/" + u + ".d/20-portable.conf"}
		if strings.HasSuffix(u, ".service") {
			need = append(need, "/run/systemd/system/"+u+".d/10-profile.conf")
			if got := ct.show(t, u, "ProtectSystem"); got != "strict" {
				t.Errorf("%s (killed run %s): PID 1 runs it with ProtectSystem=%s, want the profile's strict", u, dir, got)
			}
		}
		for _, d := range need {
			if !strings.Contains(dropIns, d) {
				t.Errorf("%s (killed run %s): PID 1 loads it without %s (drop-ins: %s)", u, dir, d, dropIns)
			}
		}
	}
	ct.must(t, "sh", "-c", "rm -rf /run/systemd/system/killed*; systemctl daemon-reload")
	return len(units)
}

func writeDirImage(t *testing.T, images, name string, units map[string]string) {
	t.Helper()
	files := map[string]string{"usr/lib/os-release": "ID=test\n"}
	for u, c := range units {
		files["usr/lib/systemd/system/"+u] = c
	}
	writeFiles(t, filepath.Join(images, name), files)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
