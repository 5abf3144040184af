package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKilledRunLeavesNoUnitWithoutItsSandbox kills generator runs at
// arbitrary moments, as PID 1 does when the generators' budget runs out
// (SIGTERM, then SIGKILL), and checks what systemd would then load: every
// unit in the output directory has its drop-ins, the profile for services
// and 20-portable.conf for all. The moment of the kill is random, not
// asserted: the check holds whenever it comes.
func TestKilledRunLeavesNoUnitWithoutItsSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("kills many runs")
	}
	const images = 120
	root := t.TempDir()
	os.Chmod(root, 0o755)
	// Enough images that a run takes a while, with conflicts (pairs of
	// images that claim one unit) so that a losing image is also taken back.
	for i := 0; i < images; i++ {
		name := fmt.Sprintf("img%03d", i)
		units := map[string]string{
			name + ".service":        "[Service]\nExecStart=/bin/true\n",
			name + "-worker.service": "[Service]\nExecStart=/bin/true\n",
			name + ".socket":         "[Socket]\nListenStream=/run/" + name + "/sock\n",
			name + ".timer":          "[Timer]\nOnCalendar=daily\n",
		}
		if i%10 == 1 {
			// img001 and img001-worker both make img001-worker.service.
			writeImage(t, root, name+"-worker", map[string]string{name + "-worker.service": "[Service]\nExecStart=/bin/false\n"})
		}
		writeImage(t, root, name, units)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var full time.Duration
	for trial := 0; trial < 12; trial++ {
		out := filepath.Join(t.TempDir(), "normal")
		cmd := exec.Command(self, "--root="+root, out, out, out)
		cmd.Env = append(os.Environ(), asCommandVar+"=1", "SYSTEMD_LOG_LEVEL=err")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if trial == 0 {
			// One run to the end, to know how long a run takes here.
			if err := cmd.Wait(); err != nil {
				t.Fatal(err)
			}
			full = time.Since(start)
			// Every tenth image loses its worker unit to img0N1-worker (the
			// longer prefix) and is skipped whole: 4 units out, 1 in.
			checkSandboxed(t, out, images*4-images/10*3)
			continue
		}
		time.Sleep(time.Duration(rng.Int64N(int64(full))))
		cmd.Process.Signal(syscall.SIGTERM)
		time.Sleep(time.Duration(rng.Int64N(int64(time.Millisecond))))
		cmd.Process.Kill()
		cmd.Wait()
		checkSandboxed(t, out, -1)
	}
}

// checkSandboxed checks every unit in dir against its drop-ins, and their
// number when want is not -1.
func checkSandboxed(t *testing.T, dir string, want int) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return // killed before anything was made
	}
	if err != nil {
		t.Fatal(err)
	}
	units := 0
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || e.Type()&os.ModeSymlink != 0 {
			continue
		}
		units++
		need := []string{"20-portable.conf"}
		if strings.HasSuffix(n, ".service") {
			need = append(need, "10-profile.conf")
		}
		for _, d := range need {
			if _, err := os.Stat(filepath.Join(dir, n+".d", d)); err != nil {
				t.Errorf("%s is in the output without its %s", n, d)
			}
		}
	}
	if want >= 0 && units != want {
		t.Errorf("a whole run wrote %d units, want %d", units, want)
	}
}

func writeImage(t *testing.T, root, name string, units map[string]string) {
	t.Helper()
	img := filepath.Join(root, "var/lib/portables", name)
	files := map[string]string{"usr/lib/os-release": "ID=test\n"}
	for u, c := range units {
		files["usr/lib/systemd/system/"+u] = c
	}
	for p, c := range files {
		p = filepath.Join(img, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
