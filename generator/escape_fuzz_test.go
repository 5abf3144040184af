package generator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The generator writes nowhere but its output directory, whatever an
// image's [Install] section names (issue 11: a DefaultInstance= with '/'
// and '..' put the enablement link on the admin's unit in /etc). Fuzzed:
// the installation names through the whole generator into a sandbox, and
// arbitrary paths straight into the writer, each also against an output
// directory where every subdirectory it needs is a planted symlink out.

// sandbox is a temporary directory holding the output directory some
// levels down, beside a victim directory a planted symlink points at: any
// write that leaves the output directory, or follows a link, lands in the
// sandbox, never on the machine running the test, and shows.
type sandbox struct {
	dir, out, victim string
}

// sandboxDepth is how many levels below the sandbox the output directory
// lies: a path with fewer ".." than this stays inside it.
const sandboxDepth = 4

func newSandbox(t *testing.T) sandbox {
	t.Helper()
	s := sandbox{dir: t.TempDir()}
	s.out = filepath.Join(s.dir, "a", "b", "c", "out")
	s.victim = filepath.Join(s.dir, "victim")
	for _, d := range []string{s.out, s.victim} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// plant makes each directory the files would need a symlink to the victim
// (where the name can be made at all: not with a NUL).
func (s sandbox) plant(t *testing.T, files []File) {
	t.Helper()
	for _, f := range files {
		if d, _, nested := strings.Cut(f.Path, "/"); nested && filepath.IsLocal(d) {
			os.Symlink(s.victim, filepath.Join(s.out, d))
		}
	}
}

// outsideWrites lists what appeared in the sandbox outside the output
// directory (the victim included).
func (s sandbox) outsideWrites(t *testing.T) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(s.dir, func(p string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case p == s.out:
			return filepath.SkipDir
		case p == s.dir || p == s.victim || p == filepath.Dir(s.out) || strings.HasPrefix(s.out, p+"/"):
			return nil
		}
		found = append(found, p)
		return nil
	})
	return found
}

// stays reports whether path p, taken relative to the output directory,
// stays inside the sandbox even if nothing stopped it.
func (s sandbox) stays(p string) bool {
	if filepath.IsAbs(p) {
		return false
	}
	rel, err := filepath.Rel(s.dir, filepath.Join(s.out, p))
	return err == nil && filepath.IsLocal(rel)
}

// installRoot makes a root with one image whose units carry the fuzzed
// installation names, enabled.
func installRoot(t *testing.T, defaultInstance, alias, wantedBy string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"etc/systemd/portable/fz.portable":                            "[Portable]\nEnable=yes\n",
		"var/lib/portables/fz/usr/lib/os-release":                     "ID=fuzz\n",
		"var/lib/portables/fz/usr/lib/systemd/system/fz.service":      "[Service]\nExecStart=/usr/bin/fz\n[Install]\nWantedBy=" + wantedBy + "\nAlias=" + alias + "\n",
		"var/lib/portables/fz/usr/lib/systemd/system/fz@.service":     "[Service]\nExecStart=/usr/bin/fz %i\n[Install]\nWantedBy=" + wantedBy + "\nDefaultInstance=" + defaultInstance + "\nAlias=" + alias + "\n",
		"var/lib/portables/fz/usr/lib/systemd/system/fz-extra.socket": "[Socket]\nListenStream=/run/fz/s\n[Install]\nWantedBy=" + wantedBy + "\nAlias=" + alias + "\n",
	}
	for p, body := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func FuzzInstallNames(f *testing.F) {
	for _, seed := range [][3]string{
		{"tty1", "fz-alias.service", "multi-user.target"},
		{"/../../../root/etc/systemd/system/x", "../../etc/systemd/system/x.service", "../../../x.target"},
		{"..", "..", ".."},
		{"a/b", "/etc/systemd/system/sshd.service", "/etc/x.target"},
		{"%i", "fz@%i.service", "multi-user.target default.target"},
		{"x\\x2f..\\x2f..", "fz-\x00.service", "multi-user.target\rAlias=../x.service"},
		{"", "syslog.service", ""},
		{".", "fz.d", "multi-user.target.wants"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, defaultInstance, alias, wantedBy string) {
		res, _, err := Generate(Config{Root: installRoot(t, defaultInstance, alias, wantedBy)})
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range res.Files {
			// Checked before anything is written: a path leaving the output
			// directory is a finding, and must not be tried on this machine.
			if !filepath.IsLocal(file.Path) || outputPath(file.Path) != nil {
				t.Fatalf("the plan names %q (DefaultInstance=%q Alias=%q WantedBy=%q)", file.Path, defaultInstance, alias, wantedBy)
			}
		}
		s := newSandbox(t)
		if err := Write(s.out, res.Files); err != nil {
			t.Fatalf("writing the plan: %v", err)
		}
		if w := s.outsideWrites(t); len(w) > 0 {
			t.Fatalf("written outside the output directory: %q", w)
		}
		// The same output where every subdirectory is a symlink out: the
		// writer refuses instead of following.
		s = newSandbox(t)
		s.plant(t, res.Files)
		err = Write(s.out, res.Files)
		if w := s.outsideWrites(t); len(w) > 0 {
			t.Fatalf("written through a planted symlink: %q", w)
		}
		for _, file := range res.Files {
			if strings.Contains(file.Path, "/") && err == nil {
				t.Fatalf("wrote %s through a planted symlink without an error", file.Path)
			}
		}
	})
}

func FuzzWriteBeneath(f *testing.F) {
	for _, p := range []string{"x.service", "x.service.d/10-profile.conf", "multi-user.target.wants/x.service",
		"../x.service", "a.wants/../../x.service", "x.service.d/../../y.conf", "x.service.d/./y.conf", "..", ".", "",
		"x.service/", "x.service.d//y.conf", "victim/x.service"} {
		f.Add(p, false)
		f.Add(p, true)
	}
	f.Fuzz(func(t *testing.T, p string, planted bool) {
		s := newSandbox(t)
		if !s.stays(p) {
			t.Skip("would leave the sandbox if the writer failed: not tried on this machine")
		}
		files := []File{{Image: "x", Path: p, Data: []byte("[Unit]\n")}}
		if planted {
			s.plant(t, files)
		}
		err := Write(s.out, files)
		if w := s.outsideWrites(t); len(w) > 0 {
			t.Fatalf("Write(%q) wrote outside the output directory: %q (err %v)", p, w, err)
		}
		if err == nil && (!filepath.IsLocal(p) || outputPath(p) != nil || planted && strings.Contains(p, "/")) {
			t.Fatalf("Write(%q) succeeded (planted %v)", p, planted)
		}
	})
}
