package generator

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/integration/security/escapes"
	"github.com/portable-generator/portable-generator/internal/systemdtest"
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

// corpusRoot writes every case's image (and the baseline) under root.
func corpusRoot(t *testing.T, root string) {
	t.Helper()
	write := func(p, content string) {
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range append([]escapes.Case{escapes.BaselineCase()}, escapes.Cases...) {
		dir := "/var/lib/portables/" + c.Name
		if c.ImagePath != "" {
			dir = c.ImagePath
			os.MkdirAll(filepath.Join(root, "var/lib/portables"), 0o755)
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
	}
}

// corpusRun is the generator's output for the corpus under one profile,
// with or without each case's directive allowed, as PID 1 loaded it.
type corpusRun struct {
	reports map[string]Report
	units   systemdtest.Dump
}

func runCorpus(t *testing.T, j systemdtest.Judge, base, root, profile string, allow bool) corpusRun {
	t.Helper()
	conf := filepath.Join(root, "etc/systemd")
	os.MkdirAll(filepath.Join(conf, "portable"), 0o755)
	if err := os.WriteFile(filepath.Join(conf, "portable-generator.conf"), []byte("[Portable]\nProfile="+profile+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var wants []string
	for _, c := range append([]escapes.Case{escapes.BaselineCase()}, escapes.Cases...) {
		settings := filepath.Join(conf, "portable", c.Name+".portable")
		os.Remove(settings)
		if allow && c.Directive != "" {
			if err := os.WriteFile(settings, []byte("[Portable]\nAllowDirectives="+c.Directive+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		wants = append(wants, c.UnitNames()...)
	}
	res, _, err := Generate(Config{Root: root, SystemdVersion: j.Version})
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("out-%s-%v", profile, allow)
	out := filepath.Join(base, name)
	os.RemoveAll(out)
	os.MkdirAll(out, 0o755)
	if err := Write(out, res.Files); err != nil {
		t.Fatal(err)
	}
	// One target pulls in every unit of the corpus, so one dump shows
	// them all, refused ones as not found.
	extra := filepath.Join(base, "extra")
	os.MkdirAll(extra, 0o755)
	target := "[Unit]\nDescription=the escape corpus\n"
	for _, w := range wants {
		target += "Wants=" + w + "\n"
	}
	if err := os.WriteFile(filepath.Join(extra, "escape-corpus.target"), []byte(target), 0o644); err != nil {
		t.Fatal(err)
	}
	r := corpusRun{reports: map[string]Report{}, units: j.Load(t, base, []string{name, "extra"}, "escape-corpus.target")}
	for _, rep := range res.Reports {
		r.reports[rep.Name] = rep
	}
	return r
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
			root := filepath.Join(base, "root")
			corpusRoot(t, root)
			runs := map[string]corpusRun{}
			for _, p := range escapes.Judged {
				runs[p] = runCorpus(t, j, base, root, p, false)
				runs[p+"+allow"] = runCorpus(t, j, base, root, p, true)
			}
			var table []string
			for _, c := range escapes.Cases {
				row := judgeCase(t, j, c, runs)
				table = append(table, fmt.Sprintf("%-26s %s", c.Name, row))
			}
			t.Logf("systemd %d: case, then per profile refused / no effect, and whether it widens when allowed:\n%s", j.Version, strings.Join(table, "\n"))
		})
	}
}

// judgeCase checks one case against every run and returns its table row.
func judgeCase(t *testing.T, j systemdtest.Judge, c escapes.Case, runs map[string]corpusRun) string {
	t.Helper()
	known := j.Version >= c.Since
	var row []string
	baseType := func(unit string) string { return escapes.Baseline + unit[strings.LastIndexByte(unit, '.'):] }
	for _, p := range c.ProfilesOf() {
		r := runs[p]
		rep := r.reports[c.Name]
		if rep.State == StateSkipped {
			if want := c.Directive + "="; c.Reason == "" && (!strings.Contains(rep.Reason, want) || !strings.Contains(rep.Reason, "profile "+p)) {
				t.Errorf("%s under %s: skipped, but the reason does not name %s and the profile: %s", c.Name, p, want, rep.Reason)
			}
			if c.Reason != "" && !strings.Contains(rep.Reason, c.Reason) {
				t.Errorf("%s under %s: skipped for %q, want %q", c.Name, p, rep.Reason, c.Reason)
			}
			for _, u := range c.UnitNames() {
				if d, ok := r.units[u]; !ok || !slices.Equal(d["Unit Load State"], []string{"not-found"}) {
					t.Errorf("%s under %s: refused, yet PID 1 loads %s (%v)", c.Name, p, u, d["Unit Load State"])
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
		for _, u := range c.UnitNames() {
			d, b := r.units[u], r.units[baseType(u)]
			if !slices.Equal(d["Unit Load State"], []string{"loaded"}) {
				t.Errorf("%s under %s: %s is %v", c.Name, p, u, d["Unit Load State"])
			}
			for _, label := range c.Dump {
				if !sameOrNarrower(label, d[label], b[label], c.Name) {
					t.Errorf("%s under %s: the attempt has an effect: %s %s: %q, baseline %q", c.Name, p, u, label, d[label], b[label])
				}
			}
		}
		for _, w := range c.Want {
			label, value, _ := strings.Cut(w, ": ")
			if !slices.Contains(r.units[c.UnitNames()[0]][label], value) {
				t.Errorf("%s under %s: PID 1 did not load %q (got %q)", c.Name, p, w, r.units[c.UnitNames()[0]][label])
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
			for _, u := range c.UnitNames() {
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
	// A label nobody ever shows would make "no effect" vacuous.
	if known {
		for _, label := range c.Dump {
			seen := false
			for _, r := range runs {
				for _, u := range c.UnitNames() {
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
