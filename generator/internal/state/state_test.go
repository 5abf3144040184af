package state

import (
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "run/portable-generator/state.json")
	if s, err := Read(p); s != nil || err != nil {
		t.Fatalf("missing file: %v, %v", s, err)
	}
	want := &File{Time: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC), SystemdVersion: 257, Images: []Image{
		{Name: "foo", Path: "/var/lib/portables/foo_2.raw", State: "attached", Profile: "default",
			Units: []Unit{{Name: "foo.service", Digest: "ab12"}}, Grants: []string{"/run/foo"}},
		{Name: "foo", Path: "/var/lib/portables/foo_3.raw", State: "skipped", Reasons: []string{"corrupt image: x"}},
	}}
	if err := Write(want, p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode: %v %v", fi, err)
	}
	got, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if im := got.Find("foo"); im == nil || im.State != "attached" {
		t.Errorf("Find: %+v", im)
	}
	if g := got.GrantsOf("foo"); len(g) != 1 || g[0] != "/run/foo" {
		t.Errorf("GrantsOf: %v", g)
	}
	if (*File)(nil).GrantsOf("foo") != nil {
		t.Error("a nil record grants nothing")
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestReadRefuses(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"garbage":     "{",
		"old version": `{"version": 0}`,
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(data), 0o644)
		if _, err := Read(p); err == nil {
			t.Errorf("%s: read without error", name)
		}
	}
}

// A FIFO where the state file should be is an error at once, not a wait
// for a writer (the generator reads the file at boot). Should Read block,
// the test binary's timeout names it.
func TestReadFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.json")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := Read(p); s != nil || err == nil {
		t.Fatalf("a FIFO: %v, %v; want an error", s, err)
	}
}
