package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/portable-generator/portable-generator/generator/internal/names"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeManager is PID 1 as a table: unit states, what sockets trigger, and
// which jobs fail. It records the jobs it was given, in order.
type fakeManager struct {
	live     map[string]Live
	triggers map[string][]string
	fail     map[string]bool
	asked    [][]string // Units calls
	patterns []string   // Instances calls' templates
	jobs     []string   // "stop foo.service", …
}

func (f *fakeManager) Units(_ context.Context, names []string) (map[string]Live, error) {
	f.asked = append(f.asked, names)
	out := map[string]Live{}
	for _, n := range names {
		l, ok := f.live[n]
		if !ok {
			l = Live{Load: "not-found", Active: "inactive"}
		}
		out[n] = l
	}
	return out, nil
}

func (f *fakeManager) Instances(_ context.Context, templates []string) (map[string]Live, error) {
	f.patterns = append(f.patterns, templates...)
	out := map[string]Live{}
	for n, l := range f.live {
		for _, t := range templates {
			if !names.IsTemplate(n) && template(n) == t {
				out[n] = l
			}
		}
	}
	return out, nil
}

func (f *fakeManager) Triggers(_ context.Context, unit string) ([]string, error) {
	return f.triggers[unit], nil
}

func (f *fakeManager) Do(_ context.Context, op Op, units []string) map[string]error {
	failed := map[string]error{}
	for _, u := range units {
		f.jobs = append(f.jobs, fmt.Sprintf("%s %s", map[Op]string{Stop: "stop", TryRestart: "try-restart", Start: "start"}[op], u))
		if f.fail[u] {
			failed[u] = fmt.Errorf("%w: failed", ErrJob)
		}
	}
	return failed
}

func (f *fakeManager) Close() {}

// tree is a root with a state file, generator links and optionally a
// record.
type tree struct {
	t    *testing.T
	root string
}

func newTree(t *testing.T) tree { return tree{t, t.TempDir()} }

func (tr tree) write(path, content string) {
	tr.t.Helper()
	p := filepath.Join(tr.root, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr tree) link(path string) {
	tr.t.Helper()
	p := filepath.Join(tr.root, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.Symlink("../"+filepath.Base(p), p); err != nil {
		tr.t.Fatal(err)
	}
}

// state writes a state file in the lead's schema: version 1 with foo at
// path holding units (name:digest).
func (tr tree) state(images string) {
	tr.write(StatePath, `{"version":1,"time":"2026-01-02T03:04:05Z","systemdVersion":252,"images":[`+images+`]}`)
}

func image(name, path, state string, units ...string) string {
	var us []string
	for _, u := range units {
		n, d, _ := strings.Cut(u, ":")
		us = append(us, fmt.Sprintf(`{"name":%q,"digest":%q}`, n, d))
	}
	return fmt.Sprintf(`{"name":%q,"path":%q,"state":%q,"reasons":[],"profile":"default","units":[%s]}`,
		name, path, state, strings.Join(us, ","))
}

func run(t *testing.T, tr tree, m *fakeManager, dryRun bool) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := Run(context.Background(), Options{Root: tr.root, DryRun: dryRun, Out: &out,
		Connect: func(context.Context) (Manager, error) {
			if m == nil {
				return nil, errors.New("PID 1 was asked, and must not be")
			}
			return m, nil
		},
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC) }})
	return out.String(), err
}

// TestRunBaseline: the first reconcile records the state and asks PID 1
// nothing; the second one compares with it.
func TestRunBaseline(t *testing.T) {
	tr := newTree(t)
	tr.state(image("foo", v1, "attached", "foo.service:a"))
	out, err := run(t, tr, nil, true)
	if err != nil || !strings.Contains(out, "would record") {
		t.Fatalf("dry run without a record: %v: %q", err, out)
	}
	if _, err := os.Stat(filepath.Join(tr.root, RecordPath)); err == nil {
		t.Fatal("a dry run wrote the record")
	}
	out, err = run(t, tr, nil, false)
	if err != nil || !strings.Contains(out, "recorded the generator's run of 2026-01-02T03:04:05Z as the baseline") {
		t.Fatalf("first reconcile: %v: %q", err, out)
	}
	rec, err := LoadRecord(tr.root)
	if err != nil || rec == nil {
		t.Fatalf("record: %v, %v", rec, err)
	}
	if diff := cmp.Diff(map[string]Unit{"foo.service": foo(v1, "a")}, rec.Units); diff != "" {
		t.Errorf("recorded units (-want +got):\n%s", diff)
	}
	m := &fakeManager{live: map[string]Live{"foo.service": running}}
	if out, err := run(t, tr, m, false); err != nil || out != "" {
		t.Errorf("nothing changed: %v: %q, jobs %v", err, out, m.jobs)
	}
}

// TestRunUpgrade: version 2 drops foo-old.service and adds the enabled
// foo-new.service: stop, then restart, then start, one line each, and the
// record follows.
func TestRunUpgrade(t *testing.T) {
	tr := newTree(t)
	tr.state(image("foo", v1, "attached", "foo.service:a", "foo-old.service:o"))
	tr.link(GeneratorDir + "/multi-user.target.wants/foo.service")
	if _, err := run(t, tr, nil, false); err != nil {
		t.Fatal(err)
	}
	tr.state(image("foo", v1, "superseded") + "," + image("foo", v2, "attached", "foo.service:b", "foo-new.service:n"))
	tr.link(GeneratorDir + "/multi-user.target.wants/foo-new.service")
	tr.link(GeneratorDir + "/local-fs.target.wants/not-ours.mount")
	m := &fakeManager{live: map[string]Live{"foo.service": running, "foo-old.service": notFound,
		"multi-user.target": running}}

	out, err := run(t, tr, m, true)
	if err != nil {
		t.Fatal(err)
	}
	want := "foo-old.service: would stop: " + v2 + " does not ship it\n" +
		"foo.service: would restart: now from " + v2 + " (was " + v1 + ")\n" +
		"foo-new.service: would start: new from " + v2 + ", wanted by multi-user.target\n"
	if diff := cmp.Diff(want, out); diff != "" || len(m.jobs) != 0 {
		t.Errorf("dry run (-want +got):\n%s\njobs: %v", diff, m.jobs)
	}

	out, err = run(t, tr, m, false)
	if err != nil {
		t.Fatal(err)
	}
	want = "foo-old.service: stopped: " + v2 + " does not ship it\n" +
		"foo.service: restarted: now from " + v2 + " (was " + v1 + ")\n" +
		"foo-new.service: started: new from " + v2 + ", wanted by multi-user.target\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("reconcile (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"stop foo-old.service", "try-restart foo.service", "start foo-new.service"}, m.jobs); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	rec, _ := LoadRecord(tr.root)
	if diff := cmp.Diff(&Snapshot{Units: map[string]Unit{"foo.service": foo(v2, "b"), "foo-new.service": foo(v2, "n")},
		Wants: map[string][]string{"foo.service": {"multi-user.target"}, "foo-new.service": {"multi-user.target"}},
		Time:  "2026-01-02T03:04:05Z"}, rec); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}

// TestRunFailures: a stop that fails keeps the unit in the record, so the
// next reconcile stops it again; a start that fails stays newly wanted.
func TestRunFailures(t *testing.T) {
	tr := newTree(t)
	tr.state(image("foo", v1, "attached", "foo.service:a") + "," + image("bar", "/var/lib/portables/bar.raw", "attached"))
	if _, err := run(t, tr, nil, false); err != nil {
		t.Fatal(err)
	}
	tr.state(image("bar", "/var/lib/portables/bar.raw", "attached", "bar.service:x"))
	tr.link(GeneratorDir + "/multi-user.target.wants/bar.service")
	m := &fakeManager{live: map[string]Live{"foo.service": notFound, "multi-user.target": running},
		fail: map[string]bool{"foo.service": true, "bar.service": true}}
	out, err := run(t, tr, m, false)
	if !errors.Is(err, ErrFailed) {
		t.Errorf("err = %v, want ErrFailed", err)
	}
	for _, l := range []string{"foo.service: stop failed (job failed: failed): image foo is gone",
		"bar.service: start failed (job failed: failed): new from /var/lib/portables/bar.raw"} {
		if !strings.Contains(out, l) {
			t.Errorf("no line %q in:\n%s", l, out)
		}
	}
	m.jobs, m.fail = nil, nil
	if _, err := run(t, tr, m, false); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"stop foo.service", "start bar.service"}, m.jobs); diff != "" {
		t.Errorf("the retry's jobs (-want +got):\n%s", diff)
	}
	m.jobs = nil
	m.live["bar.service"] = running
	m.live["foo.service"] = Live{Load: "not-found", Active: "inactive"}
	if out, err := run(t, tr, m, false); err != nil || len(m.jobs) != 0 || out != "" {
		t.Errorf("after the retry: %v, jobs %v, %q", err, m.jobs, out)
	}
}

// TestRunAsks: PID 1 is asked about the units of both snapshots, their
// wanters, the instances of templates, and what a running socket triggers.
func TestRunAsks(t *testing.T) {
	tr := newTree(t)
	tr.state(image("foo", v1, "attached", "foo.socket:s", "foo@.service:t", "foo-a.service:a"))
	if _, err := run(t, tr, nil, false); err != nil {
		t.Fatal(err)
	}
	tr.state(image("foo", v2, "attached", "foo.socket:s2", "foo@.service:t2"))
	m := &fakeManager{
		live:     map[string]Live{"foo.socket": running, "foo@1-2.service": running},
		triggers: map[string][]string{"foo.socket": {"foo@1-2.service", "foo-other.service"}},
	}
	out, err := run(t, tr, m, false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"foo-a.service", "foo.socket"}, {"foo-other.service"}}, m.asked); diff != "" {
		t.Errorf("Units calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"foo@.service"}, m.patterns); diff != "" {
		t.Errorf("Instances calls (-want +got):\n%s", diff)
	}
	if !strings.Contains(out, "foo.socket: left running: now from "+v2) || !strings.Contains(out, "foo@1-2.service: restarted") {
		t.Errorf("output:\n%s", out)
	}
}

// TestLoadCurrentSkipsOthersLinks: only links to the snapshot's units
// (and their templates' instances) are read.
func TestLoadCurrent(t *testing.T) {
	tr := newTree(t)
	tr.state(image("foo", v1, "attached", "foo@.service:t", "foo.timer:x") + "," +
		image("bar", "/etc/portables/bar.raw", "masked"))
	tr.link(GeneratorDir + "/multi-user.target.wants/foo@main.service")
	tr.link(GeneratorDir + "/timers.target.wants/foo.timer")
	tr.link(GeneratorDir + "/timers.target.requires/foo.timer")
	tr.link(GeneratorDir + "/local-fs.target.requires/var.mount")
	tr.write(GeneratorDir+"/foo.timer", "")
	s, err := LoadCurrent(tr.root)
	if err != nil {
		t.Fatal(err)
	}
	want := &Snapshot{
		Units: map[string]Unit{"foo@.service": foo(v1, "t"), "foo.timer": foo(v1, "x")},
		Wants: map[string][]string{"foo@main.service": {"multi-user.target"}, "foo.timer": {"timers.target"}},
		Images: map[string]ImageStatus{"foo": {State: "attached", Path: v1, Reasons: []string{}},
			"bar": {State: "masked", Path: "/etc/portables/bar.raw", Reasons: []string{}}},
		Time:  "2026-01-02T03:04:05Z",
		RunAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("LoadCurrent (-want +got):\n%s", diff)
	}
}

// TestFromState: which entry decides an image name; a state file that
// cannot be read is an error, not an empty state.
func TestFromState(t *testing.T) {
	for _, tc := range []struct {
		name, images string
		want         ImageStatus
	}{
		{"attached beats an earlier superseded entry", image("foo", v1, "superseded") + "," + image("foo", v2, "attached"),
			ImageStatus{State: "attached", Path: v2, Reasons: []string{}}},
		{"attached is not replaced by a later skipped one", image("foo", v1, "attached") + "," + image("foo", v2, "skipped"),
			ImageStatus{State: "attached", Path: v1, Reasons: []string{}}},
		{"the owner beats a shadowed entry", image("foo", "/etc/portables/foo.raw", "masked") + "," + image("foo", v1, "shadowed"),
			ImageStatus{State: "masked", Path: "/etc/portables/foo.raw", Reasons: []string{}}},
		{"a shadowed entry is replaced by the owner", image("foo", v1, "shadowed") + "," + image("foo", "/etc/portables/foo.raw", "skipped"),
			ImageStatus{State: "skipped", Path: "/etc/portables/foo.raw", Reasons: []string{}}},
	} {
		tr := newTree(t)
		tr.state(tc.images)
		s, err := LoadCurrent(tr.root)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, s.Images["foo"]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	for _, bad := range []string{`{"version":2,"images":[]}`, `{"version":1,"images":`, `[]`} {
		tr := newTree(t)
		tr.write(StatePath, bad)
		if _, err := LoadCurrent(tr.root); !errors.Is(err, ErrBadState) {
			t.Errorf("LoadCurrent(%s) = %v, want ErrBadState", bad, err)
		}
	}
	if _, err := LoadCurrent(t.TempDir()); !errors.Is(err, ErrNoState) {
		t.Errorf("LoadCurrent without a state file = %v, want ErrNoState", err)
	}
}

// TestRunNotesAChangeWithoutReload: an image directory changed after the
// generator's run (no reload since) gets a note naming it; the reconcile
// still acts on what PID 1 has loaded.
func TestRunNotesAChangeWithoutReload(t *testing.T) {
	tr := newTree(t)
	tr.state(image("foo", v1, "attached", "foo.service:a"))
	old := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	for _, p := range []string{"/var/lib/portables/foo.v/foo_1.raw", "/var/lib/portables/bar.raw"} {
		tr.write(p, "")
		for q := p; q != "/"; q = filepath.Dir(q) {
			os.Chtimes(filepath.Join(tr.root, q), old, old)
		}
	}
	if got := ChangedSince(tr.root, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); got != "" {
		t.Errorf("nothing changed after the run, ChangedSince = %q", got)
	}
	later := time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	tr.write("/var/lib/portables/foo.v/foo_2.raw", "")
	os.Chtimes(filepath.Join(tr.root, "/var/lib/portables/foo.v/foo_2.raw"), later, later)
	os.Chtimes(filepath.Join(tr.root, "/var/lib/portables/foo.v"), old, old)
	if got := ChangedSince(tr.root, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); got != "/var/lib/portables/foo.v/foo_2.raw" {
		t.Errorf("ChangedSince = %q, want the new version in foo.v", got)
	}
	out, err := run(t, tr, nil, false)
	if err != nil || !strings.HasPrefix(out, "note: /var/lib/portables/foo.v/foo_2.raw changed after the generator last ran (2026-01-02T03:04:05Z): run systemctl daemon-reload") {
		t.Errorf("%v: %q", err, out)
	}
}

// TestRunBootBaseline: with no record of its own, reconcile compares with
// the boot's generator run, what the boot started services from; when the
// boot's run is the current one, it only records the baseline.
func TestRunBootBaseline(t *testing.T) {
	tr := newTree(t)
	tr.write("/run/portable-generator/boot.json", `{"version":1,"time":"2026-01-02T03:00:00Z","boot":true,"images":[`+image("foo", v1, "attached", "foo.service:a")+`]}`)
	tr.state(image("foo", v2, "attached", "foo.service:b"))
	m := &fakeManager{live: map[string]Live{"foo.service": running}}
	out, err := run(t, tr, m, false)
	if err != nil || !strings.Contains(out, "comparing with the boot's generator run of 2026-01-02T03:00:00Z") {
		t.Fatalf("%v: %q", err, out)
	}
	if len(m.jobs) != 1 || !strings.Contains(fmt.Sprint(m.jobs), "foo.service") {
		t.Errorf("jobs %v, want foo.service restarted from version 2", m.jobs)
	}

	// The boot's run is the current run: nothing to compare.
	tr = newTree(t)
	tr.write("/run/portable-generator/boot.json", `{"version":1,"time":"2026-01-02T03:04:05Z","boot":true,"images":[`+image("foo", v1, "attached", "foo.service:a")+`]}`)
	tr.state(image("foo", v1, "attached", "foo.service:a"))
	if out, err := run(t, tr, nil, false); err != nil || !strings.Contains(out, "as the baseline") {
		t.Errorf("boot run is current: %v: %q", err, out)
	}
}

// TestRunEscapesImageText: a path or reason from an image (a file name can
// hold any byte but "/") reaches the admin's terminal escaped, as in the
// generator's log, one line per unit.
func TestRunEscapesImageText(t *testing.T) {
	tr := newTree(t)
	tr.state(image("foo", v1, "attached", "foo.service:a"))
	if _, err := run(t, tr, nil, false); err != nil {
		t.Fatal(err)
	}
	hostile := "/var/lib/portables/foo\x1b]2;owned\x07\n\u009b31m_2.raw"
	path, _ := json.Marshal(hostile) // image's %q writes Go's escapes, not JSON's
	tr.state(image("foo", v1, "superseded") + "," + `{"name":"foo","path":` + string(path) +
		`,"state":"attached","reasons":[],"profile":"default","units":[{"name":"foo.service","digest":"b"}]}`)
	m := &fakeManager{live: map[string]Live{"foo.service": running}}
	out, err := run(t, tr, m, false)
	if err != nil {
		t.Fatal(err)
	}
	want := `foo.service: restarted: now from /var/lib/portables/foo\x1b]2;owned\x07\n\u+009b31m_2.raw (was ` + v1 + ")\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("reconcile (-want +got):\n%s", diff)
	}
}
