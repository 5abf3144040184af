package generator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/plan"
)

// A contested image waits for the end of the run without its files, however
// many images claim one name: memory stays bounded by the images in flight
// (issue 18). Its files come back from a second reading once it has won,
// and only the winner is read again.
func TestContestedImagesWaitWithoutTheirFiles(t *testing.T) {
	const images = 50
	unit := strings.Repeat("# a long comment of a big unit file\n", 20_000) // 700 KiB
	planned := func(name string) *plan.Planned {
		return &plan.Planned{
			Report: plan.Report{Name: name, State: plan.StateAttached, Path: "/var/lib/portables/" + name},
			Files:  []File{{Image: name, Path: "app.service", Data: []byte(unit)}},
			Claims: []string{"app.service"},
		}
	}
	dir := t.TempDir()
	w, err := openOutput(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	w.noReplace = true
	s := &streamSink{w: w, dirs: w.newDirs(), owners: map[string][]*streamed{}}
	defer s.dirs.release()
	reread := map[string]int{}
	for i := range images {
		name := fmt.Sprintf("app%02d", i)
		s.add(planned(name), func() *plan.Planned { reread[name]++; return planned(name) })
		held := 0
		for _, e := range s.all {
			if e.written == nil {
				for _, f := range e.p.Files {
					held += len(f.Data)
				}
			}
		}
		if held > 0 && i > 0 {
			t.Fatalf("after %d images claiming one name, %d bytes of unit files held waiting", i+1, held)
		}
	}
	out, warnings := s.finish(func() error { return nil }, nil)
	if len(warnings) > 0 {
		t.Errorf("warnings: %q", warnings)
	}
	// app00 was written at once (nothing contested it yet), lost to
	// nobody (the name decides ties) and was not read again.
	for _, p := range out {
		if want := p.Report.Name == "app00"; !p.Skipped() != want {
			t.Errorf("%s: attached %v, want %v (%s)", p.Report.Name, !p.Skipped(), want, p.Report.Reason)
		}
	}
	if len(reread) != 0 {
		t.Errorf("read again: %v, want none (the winner was written before it was contested)", reread)
	}
	data, err := os.ReadFile(filepath.Join(dir, "app.service"))
	if err != nil || string(data) != unit {
		t.Errorf("app.service: %d bytes, %v", len(data), err)
	}
}

// Through the whole pipeline: pairs of images claim one unit (appNN and
// appNN-web both ship appNN-web.service; the longer prefix wins). Each
// winner that was not yet written is read a second time and written whole;
// a winner that changes between the two readings is not attached, with a
// reason saying so, and nothing of it is written.
func TestContestedWinnerReadAgain(t *testing.T) {
	root := t.TempDir()
	os.Chmod(root, 0o755)
	const pairs = 6
	for i := range pairs {
		for _, name := range []string{fmt.Sprintf("app%02d", i), fmt.Sprintf("app%02d-web", i)} {
			dirImage(t, root, name, map[string]string{fmt.Sprintf("app%02d-web.service", i): "[Service]\nExecStart=/bin/" + name + "\n"})
		}
	}
	r, profiles := openHost(t, root)
	var mu sync.Mutex
	loads := map[string]int{}
	const changing = "app03-web"
	cfg := Config{Root: root, SystemdVersion: 257, Parallelism: 1, load: func(e host.Entry) host.Image {
		mu.Lock()
		loads[e.Name]++
		n := loads[e.Name]
		mu.Unlock()
		img := r.Load(e, host.Settings{}, profiles)
		if e.Name == changing && n == 2 {
			img.Units = nil // read again, it ships no unit any more
		}
		return img
	}}
	dir := t.TempDir()
	res, _, err := GenerateInto(context.Background(), cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, rep := range res.Reports {
		web := strings.HasSuffix(rep.Name, "-web")
		switch {
		case rep.Name == changing:
			if rep.State != StateSkipped || !errors.Is(rep.Err, errChangedDuringRun) {
				t.Errorf("%s, changed when read again: %s %q", rep.Name, rep.State, rep.Reason)
			}
		case web && rep.State != StateAttached:
			t.Errorf("%s: %s %q, want attached (the longer prefix wins)", rep.Name, rep.State, rep.Reason)
		case !web && rep.State != StateSkipped:
			t.Errorf("%s: %s, want skipped (it lost app..-web.service)", rep.Name, rep.State)
		}
		if web && rep.Name != changing {
			data, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(rep.Name, "-web")+"-web.service"))
			if err != nil || !strings.Contains(string(data), "ExecStart=/bin/"+rep.Name+"\n") {
				t.Errorf("%s: its unit on disk: %q, %v", rep.Name, data, err)
			}
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "app03-web.service")); err == nil {
		t.Errorf("app03-web.service written for an image that changed")
	}
	for name, n := range loads {
		if n > 2 {
			t.Errorf("%s read %d times", name, n)
		}
	}
}

// A contested winner read again with the same unit names but other grants
// (a StateDirectory= added between the two readings) plans differently: it
// is not attached, as any winner that changed. Written, its files would be
// the second reading's and the state file's grants the first's, and the
// next run would take the directory for the host's.
func TestContestedWinnerGrantsChange(t *testing.T) {
	root := t.TempDir()
	os.Chmod(root, 0o755)
	unit := "[Service]\nExecStart=/bin/app\n"
	for _, name := range []string{"app00", "app00-web"} {
		dirImage(t, root, name, map[string]string{"app00-web.service": unit})
	}
	r, profiles := openHost(t, root)
	granting := []byte(unit + "StateDirectory=app00-web\n")
	run := func(changeAt int) Output {
		t.Helper()
		var mu sync.Mutex
		loads := 0
		cfg := Config{Root: root, SystemdVersion: 257, Parallelism: 1, load: func(e host.Entry) host.Image {
			img := r.Load(e, host.Settings{}, profiles)
			if e.Name == "app00-web" {
				mu.Lock()
				loads++
				if loads >= changeAt {
					img.Units[0].Content = granting
				}
				mu.Unlock()
			}
			return img
		}}
		res, _, err := GenerateInto(context.Background(), cfg, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	web := func(res Output) Report {
		for _, rep := range res.Reports {
			if rep.Name == "app00-web" {
				return rep
			}
		}
		t.Fatalf("no report of app00-web: %+v", res.Reports)
		return Report{}
	}
	// Read the same way twice, the unit with StateDirectory= has grants
	// the unit without has not: the case changes what the state records.
	if rep := web(run(1)); rep.State != StateAttached || len(rep.Grants) == 0 {
		t.Fatalf("with StateDirectory= both times: %s %q, grants %q; want attached with grants", rep.State, rep.Reason, rep.Grants)
	}
	if rep := web(run(3)); rep.State != StateAttached || len(rep.Grants) != 0 {
		t.Fatalf("without StateDirectory=: %s %q, grants %q; want attached without grants", rep.State, rep.Reason, rep.Grants)
	}
	if rep := web(run(2)); rep.State != StateSkipped || !errors.Is(rep.Err, errChangedDuringRun) {
		t.Errorf("StateDirectory= added when read again: %s %q, grants %q; want skipped, changed during the run", rep.State, rep.Reason, rep.Grants)
	}
}

// A contested winner read again whose units are others, with the same
// claims in the same order (an alias became a unit of its own, and a unit
// an alias: Alias= under Enable=yes), changed: the report keeps the first
// reading's Units, the second reading's files and digests are written, and
// Digests, in the order of Units, would give a unit another's digest.
func TestContestedWinnerUnitsChange(t *testing.T) {
	root := t.TempDir()
	os.Chmod(root, 0o755)
	plain := "[Service]\nExecStart=/bin/true\n"
	aliased := func(alias string) string { return plain + "[Install]\nAlias=" + alias + "\n" }
	dirImage(t, root, "app00", map[string]string{"app00-web-a.service": plain})
	dirImage(t, root, "app00-web", map[string]string{"app00-web-a.service": plain})
	r, profiles := openHost(t, root)
	var mu sync.Mutex
	loads := 0
	cfg := Config{Root: root, SystemdVersion: 257, Parallelism: 1, load: func(e host.Entry) host.Image {
		img := r.Load(e, host.Settings{Enable: true}, profiles)
		if e.Name != "app00-web" || img.Err != nil {
			return img
		}
		mu.Lock()
		loads++
		n := loads
		mu.Unlock()
		layer := img.Units[0].Layer
		if n == 1 {
			// Units a (alias c) and b: claims a, c, b.
			img.Units = []host.Unit{
				{Name: "app00-web-a.service", Content: []byte(aliased("app00-web-c.service")), Layer: layer},
				{Name: "app00-web-b.service", Content: []byte(plain), Layer: layer},
			}
		} else {
			// Units a and c (alias b): claims a, c, b.
			img.Units = []host.Unit{
				{Name: "app00-web-a.service", Content: []byte(plain), Layer: layer},
				{Name: "app00-web-c.service", Content: []byte(aliased("app00-web-b.service")), Layer: layer},
			}
		}
		return img
	}}
	res, _, err := GenerateInto(context.Background(), cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if loads != 2 {
		t.Fatalf("app00-web read %d times, want 2 (contested, won, read again)", loads)
	}
	for _, rep := range res.Reports {
		if rep.Name == "app00-web" && (rep.State != StateSkipped || !errors.Is(rep.Err, errChangedDuringRun)) {
			t.Errorf("app00-web, other units when read again: %s %q, units %q; want skipped, changed during the run", rep.State, rep.Reason, rep.Units)
		}
	}
}

// openHost opens root as the loaders of these tests read it: the root,
// closed when the test ends, and its profiles for systemd 257.
func openHost(t *testing.T, root string) (host.Root, *host.Profiles) {
	t.Helper()
	r, err := host.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, host.NewProfiles(r, 257)
}
