//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// TestHostileImagesDoNotStallTheRun: issue 18's amplifier, a squashfs (xz)
// image of a few tens of KB whose 40 matching units are 16 MB each of one
// repeated byte, cost 15 s of CPU and 530 MB before any budget stopped it;
// thirty of them took the generator past PID 1's 90-second budget, so no
// portable service attached at all. Here 32 copies lie beside a good image:
// the reload's generator run, and then the boot's, must judge every one of
// them (skipped for what it would cost, none left for the deadline), PID 1
// must report no generator timeout, and the good image must be attached
// (and start, after the reload).
func TestHostileImagesDoNotStallTheRun(t *testing.T) {
	fresh(t)
	testenv.NeedTool(t, "mksquashfs")
	src := filepath.Join(t.TempDir(), "tree")
	unitDir := filepath.Join(src, "usr/lib/systemd/system")
	if err := os.MkdirAll(unitDir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "usr/lib/os-release"), []byte("ID=evil\n"), 0o644)
	// One 16 MB file under 40 names (hard links: the image is as cheap to
	// make as it is to ship).
	first := filepath.Join(unitDir, "evil-00.service")
	if err := os.WriteFile(first, bytes.Repeat([]byte("A"), 16<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 40; i++ {
		if err := os.Link(first, filepath.Join(unitDir, fmt.Sprintf("evil-%02d.service", i))); err != nil {
			t.Fatal(err)
		}
	}
	hostile := filepath.Join(t.TempDir(), "evil.raw")
	if out, err := exec.Command("mksquashfs", src, hostile, "-comp", "xz", "-noappend", "-quiet", "-all-root").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v\n%s", err, out)
	}
	os.RemoveAll(src)
	const copies = 32
	for i := 0; i < copies; i++ {
		name := fmt.Sprintf("hostile%02d", i)
		if err := copyFile(hostile, filepath.Join(ct.portables, name+".raw")); err != nil {
			t.Fatal(err)
		}
		settings(t, name, "Match=evil\n")
	}
	dropImage(t, "counter", imagebuild.Squashfs, "1", "beside-hostile")
	cursor := journalCursor(t)
	ct.must(t, "systemctl", "daemon-reload")

	checkHostileRun(t, "/run/portable-generator/state.json", copies, "--after-cursor="+cursor)
	if l := startedLine(t, "start", 1); !strings.Contains(l, "build=beside-hostile") {
		t.Errorf("the good image does not run: %s", l)
	}

	// At boot: the generator's first run of the boot (boot.json) is judged
	// the same way, and PID 1 loads the good image's unit from it.
	ct.reboot(t)
	checkHostileRun(t, "/run/portable-generator/boot.json", copies, "-b")
	if got := ct.show(t, "counter.service", "FragmentPath"); got != "/run/systemd/generator/counter.service" {
		t.Errorf("after the boot counter.service is loaded from %q", got)
	}
}

// checkHostileRun checks one run's record (state file at record): the good
// image attached, every one of the copies hostile images judged and skipped
// for what it costs (none for the deadline), and nothing timed out in PID
// 1's journal lines selected by journalArg.
func checkHostileRun(t *testing.T, record string, copies int, journalArg string) {
	t.Helper()
	var st struct {
		Images []struct {
			Name, State string
			Reasons     []string
		}
	}
	if err := json.Unmarshal([]byte(ct.must(t, "cat", record)), &st); err != nil {
		t.Fatalf("the run left no record in %s: %v", record, err)
	}
	judged, good := 0, false
	for _, im := range st.Images {
		switch {
		case im.Name == "counter":
			good = true
			if im.State != "attached" {
				t.Errorf("%s: the good image is %s: %v", record, im.State, im.Reasons)
			}
		case strings.HasPrefix(im.Name, "hostile"):
			judged++
			reason := strings.Join(im.Reasons, " ")
			if im.State != "skipped" || strings.Contains(reason, "deadline") {
				t.Errorf("%s: %s: %s %q, want skipped for what it costs", record, im.Name, im.State, reason)
			}
			if judged == 1 {
				t.Logf("%s: %s: %s", record, im.Name, reason)
			}
		}
	}
	if !good {
		t.Errorf("%s: the good image is not in the record", record)
	}
	if judged != copies {
		t.Errorf("%s: the run judged %d hostile images, want %d", record, judged, copies)
	}
	if log := ct.must(t, "journalctl", "-q", "--no-pager", journalArg, "_PID=1"); strings.Contains(strings.ToLower(log), "timed out") {
		t.Errorf("PID 1 timed something out (journalctl %s):\n%s", journalArg, log)
	}
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
