package generator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/portable-generator/portable-generator/dissect"
	"github.com/portable-generator/portable-generator/internal/testenv"
)

// openFDs counts the test process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// TestOpenedAhead: a worker takes the file its hint opened, once; a hint
// that comes after the worker, and the files no worker took by the end of
// the run, are closed, so no descriptor is left open.
func TestOpenedAhead(t *testing.T) {
	dir := t.TempDir()
	open := func(name string) *dissect.File {
		t.Helper()
		p := filepath.Join(dir, name)
		write(t, p, "not an image: a hint opens any regular file")
		f, err := dissect.PrefetchFile(p)
		if err != nil || f == nil {
			t.Fatalf("PrefetchFile(%s) = %v, %v", p, f, err)
		}
		return f
	}
	before := openFDs(t)
	ahead := newOpenedAhead(3)
	if f := ahead.take(2); f != nil {
		t.Errorf("take of an image without a hint = %v", f)
	}
	a := open("a")
	ahead.put(0, a)
	if f := ahead.take(0); f != a {
		t.Fatalf("take(0) = %v, want the file put", f)
	}
	if f := ahead.take(0); f != nil {
		t.Errorf("second take(0) = %v, want nil", f)
	}
	a.Close()
	ahead.put(0, open("late")) // its worker has been by: closed at once
	ahead.put(2, open("late")) // likewise (take(2) above)
	ahead.put(1, open("b"))    // never taken: closed by closeAll
	if n := openFDs(t); n != before+1 {
		t.Errorf("%d descriptors open, want %d (b's)", n, before+1)
	}
	ahead.closeAll()
	if n := openFDs(t); n != before {
		t.Errorf("%d descriptors open after closeAll, want %d", n, before)
	}
}

// TestRawImagesReadFromTheirHints: a run over raw images, each read from
// the file its prefetch hint opened when the hint came first, attaches
// them all and leaves no descriptor open.
func TestRawImagesReadFromTheirHints(t *testing.T) {
	testenv.NeedTool(t, "mksquashfs")
	root := t.TempDir()
	os.Chmod(root, 0o755)
	portables := filepath.Join(root, "var/lib/portables")
	const images = 40 // more than prefetchAhead, so hints run ahead of workers
	for i := range images {
		name := fmt.Sprintf("raw%02d", i)
		write(t, filepath.Join(portables, name+".raw"), string(squashfsImage(t, hostileTree(t, name, nil))))
	}
	before := openFDs(t)
	res, _, err := GenerateInto(context.Background(), Config{Root: root, Parallelism: 2}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Reports) != images {
		t.Fatalf("%d reports, want %d", len(res.Reports), images)
	}
	for _, r := range res.Reports {
		if r.State != StateAttached {
			t.Errorf("%s: %s: %s", r.Name, r.State, r.Reason)
		}
	}
	if n := openFDs(t); n != before {
		t.Errorf("%d descriptors open after the run, want %d", n, before)
	}
}
