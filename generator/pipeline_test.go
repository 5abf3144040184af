package generator

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/generator/internal/host"
)

// TestDeadline: an image that is still being read when the run's deadline
// passes is skipped with that reason, and every image finished by then is
// attached and written. The deadline is a cancelled context, not a clock:
// the slow image's reader cancels it, then waits for the run to end.
func TestDeadline(t *testing.T) {
	root := t.TempDir()
	os.Chmod(root, 0o755)
	for _, name := range []string{"aaa", "slow", "zzz"} {
		dir := filepath.Join(root, "var/lib/portables", name)
		write(t, filepath.Join(dir, "usr/lib/os-release"), "ID=test\n")
		write(t, filepath.Join(dir, "usr/lib/systemd/system", name+".service"), "[Service]\nExecStart=/bin/true\n")
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

func write(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
