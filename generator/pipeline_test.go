package generator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/generator/internal/plan"
)

// TestDeadline: an image that is still being read when the run's deadline
// passes is skipped with that reason, and every image finished by then is
// attached and written. The deadline is a cancelled context, not a clock:
// the slow image's reader cancels it, then waits for the run to end.
func TestDeadline(t *testing.T) {
	root := t.TempDir()
	os.Chmod(root, 0o755)
	for _, name := range []string{"aaa", "slow", "zzz"} {
		dirImage(t, root, name, map[string]string{name + ".service": "[Service]\nExecStart=/bin/true\n"})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	released := make(chan struct{})
	defer close(released)
	cfg := Config{Root: root, Parallelism: 1, load: func(e host.Entry) host.Image {
		r, _ := host.OpenRoot(root)
		if e.Name == "slow" {
			cancel()
			<-released // a reader stuck on a stalled disk
		}
		return r.Load(e, host.Settings{}, host.NewProfiles(r, 257))
	}}
	out := t.TempDir()
	res, _, err := GenerateInto(ctx, cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]Report{}
	for _, r := range res.Reports {
		states[r.Name] = r
	}
	if r := states["aaa"]; r.State != StateAttached {
		t.Errorf("aaa, finished before the deadline: %s %s", r.State, r.Reason)
	}
	if _, err := os.Stat(filepath.Join(out, "aaa.service")); err != nil {
		t.Errorf("aaa's unit is not written: %v", err)
	}
	for _, name := range []string{"slow", "zzz"} {
		r := states[name]
		if r.State != StateSkipped || !errors.Is(r.Err, ErrDeadline) {
			t.Errorf("%s: %s %q, want skipped for the deadline", name, r.State, r.Reason)
		}
		if _, err := os.Stat(filepath.Join(out, name+".service")); err == nil {
			t.Errorf("%s's unit is written", name)
		}
	}
}

func write(t testing.TB, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dirImage makes directory image name in root's /var/lib/portables: an
// os-release and units, unit file name to content.
func dirImage(t testing.TB, root, name string, units map[string]string) {
	t.Helper()
	dir := filepath.Join(root, "var/lib/portables", name)
	write(t, filepath.Join(dir, "usr/lib/os-release"), "ID=test\n")
	for u, content := range units {
		write(t, filepath.Join(dir, "usr/lib/systemd/system", u), content)
	}
}

// TestVersionsTriedAreBounded: a NAME.v full of unreadable versions (empty
// files cost nothing) has a bounded number of them read, however many
// there are, so it cannot keep a reader busy past the deadline; the others
// are reported as not tried, and the other images attach.
func TestVersionsTriedAreBounded(t *testing.T) {
	root := t.TempDir()
	os.Chmod(root, 0o755)
	dirImage(t, root, "good", map[string]string{"good.service": "[Service]\nExecStart=/bin/true\n"})
	const versions = 200
	for v := 1; v <= versions; v++ {
		write(t, filepath.Join(root, "var/lib/portables/flood.v", fmt.Sprintf("flood_%d.raw", v)), "")
	}
	r, err := host.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var mu sync.Mutex
	loads := map[string]int{}
	cfg := Config{Root: root, load: func(e host.Entry) host.Image {
		mu.Lock()
		loads[e.Name]++
		mu.Unlock()
		return r.Load(e, host.Settings{}, host.NewProfiles(r, 257))
	}}
	res, _, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if loads["flood"] > maxVersionsTried {
		t.Errorf("%d versions of flood read, want at most %d", loads["flood"], maxVersionsTried)
	}
	notTried := 0
	for _, rep := range res.Reports {
		switch {
		case rep.Name == "good" && rep.State != StateAttached:
			t.Errorf("good: %s %s", rep.State, rep.Reason)
		case rep.Name == "flood" && strings.HasPrefix(rep.Reason, "not tried"):
			notTried++
		}
	}
	if want := versions - maxVersionsTried; notTried != want {
		t.Errorf("%d versions reported as not tried, want %d", notTried, want)
	}
}

// TestAnotherGeneratorsUnitIsKept: generators run at the same time and
// write into the same directory; a unit another one wrote (systemd's
// run-generator's kernel-command-line.service, say) is never replaced by
// an image's, and the image is skipped whole, leaving none of its files.
func TestAnotherGeneratorsUnitIsKept(t *testing.T) {
	anotherGeneratorsFileIsKept(t, "foo.service", "# written by another generator\n[Service]\nExecStart=/bin/theirs\n")
}

// TestAnotherGeneratorsDropInIsKept: a drop-in is created under its own
// name, never over one another generator wrote there first: the image is
// skipped whole, as for a unit, and the other drop-in stays as it was.
func TestAnotherGeneratorsDropInIsKept(t *testing.T) {
	anotherGeneratorsFileIsKept(t, "foo.service.d/20-portable.conf", "# written by another generator\n[Service]\nEnvironment=THEIRS=1\n")
}

// anotherGeneratorsFileIsKept puts theirs at the path below the output
// directory before a run with an image foo that would write there: foo is
// skipped (os.ErrExist), theirs stays as it was, and nothing else is left
// in the output but empty directories.
func anotherGeneratorsFileIsKept(t *testing.T, path, theirs string) {
	t.Helper()
	root := t.TempDir()
	os.Chmod(root, 0o755)
	dirImage(t, root, "foo", map[string]string{"foo.service": "[Service]\nExecStart=/bin/true\n", "foo-helper.service": "[Service]\nExecStart=/bin/true\n"})
	out := t.TempDir()
	write(t, filepath.Join(out, path), theirs)
	res, _, err := GenerateInto(context.Background(), Config{Root: root}, out)
	if err != nil {
		t.Fatal(err)
	}
	if r := ReportsOf(res.Reports, "foo"); len(r) != 1 || r[0].State != StateSkipped || !errors.Is(r[0].Err, os.ErrExist) {
		t.Fatalf("foo: %+v", r)
	}
	if b, _ := os.ReadFile(filepath.Join(out, path)); string(b) != theirs {
		t.Errorf("the other generator's %s was replaced: %q", path, b)
	}
	// Left: anything but theirs, the directories above it and directories
	// at the top (a unit's .d or .wants made and emptied again; what they
	// hold is walked and counted).
	var left []string
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == out {
			return nil
		}
		rel, _ := filepath.Rel(out, p)
		if rel != path && !(d.IsDir() && (strings.HasPrefix(path, rel+"/") || !strings.Contains(rel, "/"))) {
			left = append(left, rel)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("left in the output: %v", left)
	}
}

// TestDescriptorsBounded: a run holds the descriptors of the images it is
// writing, not of every directory it made. With a limit of a few dozen
// descriptors above what the test process uses, 150 images of two units
// each (300 drop-in directories) still all attach.
func TestDescriptorsBounded(t *testing.T) {
	root := t.TempDir()
	os.Chmod(root, 0o755)
	const images = 150
	for i := 0; i < images; i++ {
		name := fmt.Sprintf("img%03d", i)
		dirImage(t, root, name, map[string]string{name + ".service": "[Service]\nExecStart=/bin/true\n", name + "-b.service": "[Service]\nExecStart=/bin/true\n"})
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	low := old
	low.Cur = uint64(len(fds) + 48)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	res, _, err := GenerateInto(context.Background(), Config{Root: root, Parallelism: 2}, t.TempDir())
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Reports {
		if r.State != StateAttached {
			t.Fatalf("%s: %s: %s", r.Name, r.State, r.Reason)
		}
	}
}

// TestSkippedImageKeepsGrants: an image skipped in one run keeps what
// earlier runs granted it. Its service still runs with its /run/NAME
// (reconcile leaves a skipped image's services running); when the next
// run can attach it again (the deadline's reason promises that the next
// reload tries again; the admin fixed the typo), that run must not take
// the service's own directory for the host's.
func TestSkippedImageKeepsGrants(t *testing.T) {
	for _, c := range []struct {
		name     string
		stall    bool   // the image is still being read at the deadline
		settings string // slow.portable during the skipped run
		wantSkip error
	}{
		{"deadline", true, "", ErrDeadline},
		{"settings typo", false, "[Portable]\nEnable=maybe\n", host.ErrBadSettings},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			os.Chmod(root, 0o755)
			dirImage(t, root, "slow", map[string]string{"slow.service": "[Service]\nExecStart=/bin/true\nRuntimeDirectory=slow\n"})
			run := func(stall bool) Report {
				t.Helper()
				released := make(chan struct{})
				defer close(released)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cfg := Config{Root: root, Parallelism: 1, load: func(e host.Entry) host.Image {
					r, _ := host.OpenRoot(root)
					if stall {
						cancel()
						<-released
					}
					return r.Load(e, host.Settings{}, host.NewProfiles(r, 257))
				}}
				out, inv, err := GenerateInto(ctx, cfg, t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				if err := WriteState(root, out, inv, time.Now()); err != nil {
					t.Fatal(err)
				}
				return ReportsOf(out.Reports, "slow")[0]
			}
			if r := run(false); r.State != StateAttached {
				t.Fatalf("first run: %s %s", r.State, r.Reason)
			}
			// The service started and made its runtime directory.
			if err := os.MkdirAll(filepath.Join(root, "run/slow"), 0o755); err != nil {
				t.Fatal(err)
			}
			settings := filepath.Join(root, "etc/systemd/portable/slow.portable")
			if c.settings != "" {
				write(t, settings, c.settings)
			}
			if r := run(c.stall); !errors.Is(r.Err, c.wantSkip) {
				t.Fatalf("second run: %s %s, want skipped with %v", r.State, r.Reason, c.wantSkip)
			}
			os.Remove(settings)
			if r := run(false); r.State != StateAttached {
				t.Errorf("the run after: %s %s, want slow attached with its own /run/slow", r.State, r.Reason)
			}
		})
	}
}

// slowSink is a sink whose k-th add waits until the pipeline has read as
// many images as it may ahead of it (or all of them): a writer that lags.
type slowSink struct {
	memorySink
	mu           sync.Mutex
	cond         *sync.Cond
	loads, added int
	images, max  int // the images in the run, how many may be read ahead
	overrun      int // the most images read but not yet added, past max
}

func (s *slowSink) loaded() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	if ahead := s.loads - s.added; ahead > s.max && ahead > s.overrun {
		s.overrun = ahead
	}
	s.cond.Broadcast()
}

func (s *slowSink) add(p *plan.Planned, replan func() *plan.Planned) {
	s.mu.Lock()
	for s.loads < min(s.images, s.added+s.max) {
		s.cond.Wait()
	}
	s.added++
	s.mu.Unlock()
	s.memorySink.add(p, replan)
}

// TestImagesAheadOfTheWriterBounded: when writing lags behind reading, the
// pipeline reads no more than imagesAhead images beyond what the sink has
// taken, so memory does not grow with the number of images waiting to be
// written. The sink lets each image in only once the readers could have
// run that far ahead; a reader that ran further is counted.
func TestImagesAheadOfTheWriterBounded(t *testing.T) {
	root := t.TempDir()
	os.Chmod(root, 0o755)
	const images, workers = 40, 2
	for i := 0; i < images; i++ {
		name := fmt.Sprintf("img%02d", i)
		dirImage(t, root, name, map[string]string{name + ".service": "[Service]\nExecStart=/bin/true\n"})
	}
	s := &slowSink{images: images, max: imagesAhead(workers)}
	s.cond = sync.NewCond(&s.mu)
	r, profiles := openHost(t, root)
	cfg := Config{Root: root, Parallelism: workers, load: func(e host.Entry) host.Image {
		s.loaded()
		return r.Load(e, host.Settings{}, profiles)
	}}
	res, _, err := run(context.Background(), cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	attached := 0
	for _, rep := range res.Reports {
		if rep.State == StateAttached {
			attached++
		}
	}
	if attached != images {
		t.Errorf("%d of %d images attached", attached, images)
	}
	if s.overrun > 0 {
		t.Errorf("%d images read ahead of the writer, at most %d may be", s.overrun, s.max)
	}
}
