package generator

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/integration/security/escapes"
	"github.com/portable-generator/portable-generator/internal/systemdtest"
	"golang.org/x/sys/unix"
)

// The escape corpus (integration/security/escapes) through the generator,
// judged by what a real PID 1 loads from our output: systemd 252 (this
// machine's) and 257 (the trixie tree, when it is there), in test mode.
// See the escapes package for what each outcome means.

// listLabels hold sets PID 1 computed; narrower than the baseline's is
// fine.
var listLabels = []string{"CapabilityBoundingSet", "SystemCallFilter", "RestrictAddressFamilies", "SystemCallArchitectures"}

// sameOrNarrower reports whether a case unit's values of a label are the
// baseline's (after naming the case's image as the baseline's), or for a
// set, a subset.
func sameOrNarrower(label string, got, base []string, caseName string) bool {
	norm := func(vs []string) []string {
		var out []string
		for _, v := range vs {
			v = strings.ReplaceAll(v, caseName, escapes.Baseline)
			if slices.Contains(listLabels, label) {
				out = append(out, strings.Fields(v)...)
			} else {
				out = append(out, v)
			}
		}
		sort.Strings(out)
		return out
	}
	g, b := norm(got), norm(base)
	if slices.Contains(listLabels, label) {
		for _, w := range g {
			if !slices.Contains(b, w) {
				return false
			}
		}
		return true
	}
	return slices.Equal(g, b)
}

// hostUnitDirs are the unit directories of the test's host root that PID 1
// reads before the generator's output, and after it.
var (
	hostUnitDirsBefore = []string{"etc/systemd/system.control", "run/systemd/system.control", "run/systemd/transient",
		"etc/systemd/system", "etc/systemd/system.attached", "run/systemd/system", "run/systemd/system.attached"}
	hostUnitDirsAfter = []string{"usr/local/lib/systemd/system", "usr/lib/systemd/system"}
)

// unitPath is the unit search path PID 1 is judged with, relative to the
// test's base: the host root's directories around the output, in systemd's
// own order, and extra.
func unitPath(base, hostRoot, out, extra string) []string {
	rel := func(p string) string {
		r, _ := filepath.Rel(base, p)
		return r
	}
	var dirs []string
	for _, d := range hostUnitDirsBefore {
		dirs = append(dirs, rel(filepath.Join(hostRoot, d)))
	}
	dirs = append(dirs, rel(out), rel(extra))
	for _, d := range hostUnitDirsAfter {
		dirs = append(dirs, rel(filepath.Join(hostRoot, d)))
	}
	return dirs
}

// allCases are the baseline and the corpus.
func allCases() []escapes.Case {
	return append([]escapes.Case{escapes.BaselineCase()}, escapes.Cases...)
}

// corpusRoot writes every case's image (and the baseline) under root, and
// with withHost what each case's host holds: its files, links, directories,
// sockets and accounts. Further images a case's host holds are written
// either way: only the host's own holdings are left out.
func corpusRoot(t *testing.T, root string, withHost bool) {
	t.Helper()
	mkdir := func(p string) {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, content string) {
		p = filepath.Join(root, p)
		mkdir(filepath.Dir(p))
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	passwd, group := "root:x:0:0:root:/root:/bin/sh\n", "root:x:0:\n"
	for _, c := range allCases() {
		dir := "/var/lib/portables/" + c.Name
		if c.ImagePath != "" {
			dir = c.ImagePath
			mkdir(filepath.Join(root, "var/lib/portables"))
			if err := os.Symlink(c.ImagePath, filepath.Join(root, "var/lib/portables", c.Name)); err != nil {
				t.Fatal(err)
			}
		}
		write(dir+"/usr/lib/os-release", "ID=corpus\nVERSION_ID=1\n")
		for name, body := range c.Units {
			write(dir+"/usr/lib/systemd/system/"+c.Expand(name), c.Expand(body))
		}
		for p, body := range c.Files {
			write(dir+"/"+c.Expand(p), c.Expand(body))
		}
		for p, e := range c.Host {
			p = c.Expand(p)
			if !withHost && !strings.HasPrefix(p, "var/lib/portables/") {
				continue
			}
			full := filepath.Join(root, p)
			mkdir(filepath.Dir(full))
			switch {
			case e.Dir:
				mkdir(full)
			case e.Link != "":
				if err := os.Symlink(c.Expand(e.Link), full); err != nil {
					t.Fatal(err)
				}
			case e.Socket:
				bindSocket(t, full)
			default:
				write(p, c.Expand(e.Content))
			}
		}
		for i, a := range c.Accounts {
			id := 4000 + 10*len(passwd) + i // distinct, and no host's
			passwd += fmt.Sprintf("%s:x:%d:%d::/nonexistent:/usr/sbin/nologin\n", a, id, id)
			group += fmt.Sprintf("%s:x:%d:\n", a, id)
		}
	}
	if withHost {
		write("etc/passwd", passwd)
		write("etc/group", group)
	}
}

// bindSocket leaves a unix socket file at p, as a daemon's listener does.
func bindSocket(t *testing.T, p string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: p}); err != nil {
		t.Fatalf("bind %s: %v", p, err)
	}
}

// snapshot describes every entry below dir: its type, link target or
// content, so that any write outside the output shows.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			out[rel] = "link " + target
			return err
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			out[rel] = "file " + string(b)
			return err
		}
		out[rel] = d.Type().String()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// corpusRun is the generator's output for the corpus under one profile,
// with or without each case's directive allowed, as PID 1 loaded it.
type corpusRun struct {
	reports map[string]Report
	units   systemdtest.Dump
}

// escapeTarget writes the target that pulls in every unit the corpus
// judges, so one dump shows them all (refused ones as not found), and
// returns the directory it is in.
func escapeTarget(t *testing.T, base string) string {
	extra := filepath.Join(base, "extra")
	os.MkdirAll(extra, 0o755)
	target := "[Unit]\nDescription=the escape corpus\n"
	for _, c := range allCases() {
		for _, u := range c.LoadableUnits() {
			target += "Wants=" + u + "\n"
		}
		for _, u := range c.HostUnits {
			target += "Wants=" + c.Expand(u) + "\n"
		}
		for u := range c.Others {
			target += "Wants=" + u + "\n"
		}
	}
	if err := os.WriteFile(filepath.Join(extra, "escape-corpus.target"), []byte(target), 0o644); err != nil {
		t.Fatal(err)
	}
	return extra
}

// runCorpus runs the generator over genRoot under one profile (allowing
// each case's directive or not) and loads its output with PID 1 beside
// hostRoot's unit directories. name names the output directory, one below
// base.
func runCorpus(t *testing.T, j systemdtest.Judge, base, genRoot, hostRoot, name, profile string, allow bool) corpusRun {
	t.Helper()
	conf := filepath.Join(genRoot, "etc/systemd")
	os.MkdirAll(filepath.Join(conf, "portable"), 0o755)
	if err := os.WriteFile(filepath.Join(conf, "portable-generator.conf"), []byte("[Portable]\nProfile="+profile+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range allCases() {
		settings := filepath.Join(conf, "portable", c.Name+".portable")
		os.Remove(settings)
		lines := c.Settings
		if allow && c.Directive != "" {
			lines += "AllowDirectives=" + c.Directive + "\n"
		}
		if lines != "" {
			if err := os.WriteFile(settings, []byte("[Portable]\n"+lines), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, _, err := Generate(Config{Root: genRoot, SystemdVersion: j.Version})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(base, name)
	os.RemoveAll(out)
	os.MkdirAll(out, 0o755)
	// Whatever the output says, no file may be named outside it; and
	// should one be, the writer must refuse it (the host root's snapshot
	// shows whether it did).
	for _, f := range res.Files {
		if !filepath.IsLocal(f.Path) {
			t.Errorf("%s: the output names %q, outside the output directory", f.Image, f.Path)
		}
	}
	if err := Write(out, res.Files); err != nil {
		t.Error(err)
	}
	r := corpusRun{reports: map[string]Report{}, units: j.Load(t, base, unitPath(base, hostRoot, out, escapeTarget(t, base)), "escape-corpus.target")}
	for _, rep := range res.Reports {
		r.reports[rep.Name] = rep
	}
	return r
}

// hostAlone is what PID 1 loads from the host root with no output at all.
func hostAlone(t *testing.T, j systemdtest.Judge, base, hostRoot string) systemdtest.Dump {
	t.Helper()
	empty := filepath.Join(base, "out-none")
	os.MkdirAll(empty, 0o755)
	return j.Load(t, base, unitPath(base, hostRoot, empty, escapeTarget(t, base)), "escape-corpus.target")
}

func TestEscapeCorpus(t *testing.T) {
	judges := []systemdtest.Judge{systemdtest.Host(t)}
	if !testing.Short() {
		judges = systemdtest.All(t)
	}
	for _, j := range judges {
		t.Run(fmt.Sprintf("systemd%d", j.Version), func(t *testing.T) {
			base, err := os.MkdirTemp("", "pg-escapes-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(base) })
			os.Chmod(base, 0o755)
			root, hidden := filepath.Join(base, "root"), filepath.Join(base, "root-hidden")
			corpusRoot(t, root, true)
			corpusRoot(t, hidden, false)
			before := snapshot(t, root)
			alone := hostAlone(t, j, base, root)
			runs := map[string]corpusRun{}
			for _, p := range escapes.Judged {
				runs[p] = runCorpus(t, j, base, root, root, "out-"+p, p, false)
				// Allowed directives lift the policy, never the host
				// check: the widening shows with the host's holdings
				// hidden from the generator.
				runs[p+"+allow"] = runCorpus(t, j, base, hidden, root, "out-"+p+"-allow", p, true)
			}
			runs["trusted"] = runCorpus(t, j, base, root, root, "out-trusted", "trusted", false)
			// The images alone, the host's holdings hidden from the
			// generator (not from PID 1): what the host check stops.
			runs["hidden"] = runCorpus(t, j, base, hidden, root, "out-hidden", "default", false)
			var table []string
			for _, c := range escapes.Cases {
				row := judgeCase(t, j, c, runs, alone)
				table = append(table, fmt.Sprintf("%-30s %s", c.Name, row))
			}
			t.Logf("systemd %d: case, then per profile refused / no effect, and whether it widens when allowed:\n%s", j.Version, strings.Join(table, "\n"))
			// Nothing of the host changed: every write stayed in its
			// output directory.
			after := snapshot(t, root)
			for p, was := range before {
				if after[p] != was {
					t.Errorf("the host root changed: %s was %.60q, is %.60q", p, was, after[p])
				}
			}
			for p, is := range after {
				if _, ok := before[p]; !ok && !strings.HasPrefix(p, "etc/systemd/portable") {
					t.Errorf("the host root changed: %s appeared (%.60q)", p, is)
				}
			}
		})
	}
}

// judgeCase checks one case against every run and returns its table row.
func judgeCase(t *testing.T, j systemdtest.Judge, c escapes.Case, runs map[string]corpusRun, alone systemdtest.Dump) string {
	t.Helper()
	known := j.Version >= c.Since
	var row []string
	baseType := func(unit string) string { return escapes.Baseline + unit[strings.LastIndexByte(unit, '.'):] }
	hostUnchanged := func(run string) {
		r := runs[run]
		for _, u := range c.HostUnits {
			u = c.Expand(u)
			if diff := dumpDiff(alone[u], r.units[u]); diff != "" {
				t.Errorf("%s under %s: PID 1 loads host unit %s differently with our output: %s", c.Name, run, u, diff)
			}
		}
		for u, want := range c.Others {
			for _, w := range want {
				label, value, _ := strings.Cut(w, ": ")
				if !slices.Contains(r.units[u][label], value) {
					t.Errorf("%s under %s: the other image's %s lost %q (got %q)", c.Name, run, u, w, r.units[u][label])
				}
			}
		}
	}
	for _, p := range c.ProfilesOf() {
		r := runs[p]
		rep := r.reports[c.Name]
		hostUnchanged(p)
		if rep.State == StateSkipped {
			switch {
			case len(c.Holders) > 0:
				named := false
				for _, h := range c.Holders {
					named = named || strings.Contains(rep.Reason, c.Expand(h))
				}
				if !named || !strings.Contains(rep.Reason, c.Expand(c.Reason)) {
					t.Errorf("%s under %s: skipped, but the reason does not name the claim %q and one of the holders %q: %s", c.Name, p, c.Expand(c.Reason), c.Holders, rep.Reason)
				}
			case c.Reason != "":
				if !strings.Contains(rep.Reason, c.Expand(c.Reason)) {
					t.Errorf("%s under %s: skipped for %q, want %q", c.Name, p, rep.Reason, c.Reason)
				}
			default:
				if want := c.Directive + "="; !strings.Contains(rep.Reason, want) || !strings.Contains(rep.Reason, "profile "+p) {
					t.Errorf("%s under %s: skipped, but the reason does not name %s and the profile: %s", c.Name, p, want, rep.Reason)
				}
			}
			// Refused, its names are loaded as the host alone has them:
			// not found, or the host's unit (or another image's, which
			// Others judges).
			for _, u := range c.LoadableUnits() {
				if _, other := c.Others[u]; other {
					continue
				}
				if diff := dumpDiff(alone[u], r.units[u]); diff != "" {
					t.Errorf("%s under %s: refused, yet PID 1 loads %s: %s", c.Name, p, u, diff)
				}
			}
			row = append(row, p+":refused")
			continue
		}
		if slices.Contains(c.Refused, p) {
			t.Errorf("%s under %s: not refused (%s)", c.Name, p, rep.State)
		}
		if rep.State != StateAttached {
			t.Errorf("%s under %s: %s: %s", c.Name, p, rep.State, rep.Reason)
			continue
		}
		if c.Notice != "" && !slices.ContainsFunc(rep.Notices, func(n string) bool { return strings.Contains(n, c.Notice) }) {
			t.Errorf("%s under %s: no notice about %q: %q", c.Name, p, c.Notice, rep.Notices)
		}
		loadState := "loaded"
		if c.LoadState != "" {
			loadState = c.LoadState
		}
		for _, u := range c.LoadableUnits() {
			d, b := r.units[u], r.units[baseType(u)]
			if !slices.Equal(d["Unit Load State"], []string{loadState}) {
				t.Errorf("%s under %s: %s is %v, want %s", c.Name, p, u, d["Unit Load State"], loadState)
			}
			for _, label := range c.Dump {
				if !sameOrNarrower(label, d[label], b[label], c.Name) {
					t.Errorf("%s under %s: the attempt has an effect: %s %s: %q, baseline %q", c.Name, p, u, label, d[label], b[label])
				}
			}
		}
		for _, w := range c.Want {
			label, value, _ := strings.Cut(w, ": ")
			if u := c.LoadableUnits()[0]; !slices.Contains(r.units[u][label], value) {
				t.Errorf("%s under %s: PID 1 did not load %q (got %q)", c.Name, p, w, r.units[u][label])
			}
		}
		row = append(row, p+":no-effect")
	}
	// With the directive allowed, the attempt shows in what PID 1 loads:
	// the attempt is real, and this test would see it succeed.
	widens := "-"
	if known && len(c.Dump) > 0 {
		for _, p := range c.WideningProfiles() {
			r := runs[p+"+allow"]
			if rep := r.reports[c.Name]; rep.State != StateAttached {
				t.Errorf("%s under %s with AllowDirectives=%s: %s: %s", c.Name, p, c.Directive, rep.State, rep.Reason)
				continue
			}
			differs := false
			for _, u := range c.LoadableUnits() {
				for _, label := range c.Dump {
					if !sameOrNarrower(label, r.units[u][label], r.units[baseType(u)][label], c.Name) {
						differs = true
					}
				}
			}
			if !differs {
				t.Errorf("%s under %s with AllowDirectives=%s: PID 1 loads nothing different by %v: the case proves nothing", c.Name, p, c.Directive, c.Dump)
			}
		}
		if c.Widens {
			widens = "widens-when-allowed"
		}
	}
	if c.Widens && len(c.Dump) == 0 {
		widens = "widening-shown-in-container"
	}
	// With the host's holdings hidden from the generator, a refused host
	// case attaches (its refusal is the host check's), and what PID 1 then
	// loads for the host's units is the hijack the case attempts.
	if c.HostHeld() && len(c.Refused) > 0 {
		r := runs["hidden"]
		if rep := r.reports[c.Name]; rep.State != StateAttached {
			t.Errorf("%s: with the host hidden from the generator, still %s: %s: the refusal is not the host check's", c.Name, rep.State, rep.Reason)
		}
		widens = "attaches-when-host-hidden"
		if len(c.HostUnits) > 0 {
			hijacked := false
			for _, u := range c.HostUnits {
				hijacked = hijacked || dumpDiff(alone[c.Expand(u)], r.units[c.Expand(u)]) != ""
			}
			if !hijacked {
				t.Errorf("%s: with the host hidden from the generator, PID 1 still loads %v as without our output: the case proves nothing", c.Name, c.HostUnits)
			}
			widens = "hijacks-host-unit-when-host-hidden"
		}
	}
	// A label nobody ever shows would make "no effect" vacuous.
	if known {
		for _, label := range c.Dump {
			seen := false
			for _, r := range runs {
				for _, u := range c.LoadableUnits() {
					if _, ok := r.units[u][label]; ok {
						seen = true
					}
					if _, ok := r.units[baseType(u)][label]; ok {
						seen = true
					}
				}
			}
			if !seen {
				t.Errorf("%s: dump label %q appears nowhere", c.Name, label)
			}
		}
	}
	return strings.Join(append(row, widens), " ")
}

// dumpDiff says how two dumps of one unit differ in what the unit is (its
// files, settings, names and what it pulls in), "" when they do not. What
// other units say about it (ordering against it, referring to it,
// conflicting with it: the corpus's own attempts under trusted) and the
// jobs of the test transaction are not the unit's.
func dumpDiff(want, got systemdtest.Unit) string {
	var diffs []string
	for _, label := range slices.Sorted(maps.Keys(mergeKeys(want, got))) {
		if othersSay(label) {
			continue
		}
		w, g := slices.Sorted(slices.Values(want[label])), slices.Sorted(slices.Values(got[label]))
		if !slices.Equal(w, g) {
			diffs = append(diffs, fmt.Sprintf("%s: %q, without our output %q", label, g, w))
		}
	}
	return strings.Join(diffs, "; ")
}

func mergeKeys(a, b systemdtest.Unit) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// othersSay reports whether a dump label holds what other units, or the
// test's transaction, add to a unit.
func othersSay(label string) bool {
	switch label {
	case "After", "Before", "References", "ReferencedBy", "May GC":
		return true
	}
	return strings.HasPrefix(label, "Job ") || strings.HasSuffix(label, "By") || strings.HasSuffix(label, "Of") ||
		strings.HasSuffix(label, "PropagatedFrom")
}
