package host

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestParseSettings: settings files follow systemd's syntax, not INI's.
func TestParseSettings(t *testing.T) {
	for _, c := range []struct {
		name, data string
		check      func(t *testing.T, s Settings, err error)
	}{
		{"every key", "[Portable]\nProfile=strict\nEnable=yes\nMatch=foo foo-extra\nAllowDirectives=BindPaths\nClaim=redis\nBase=minimal\nExtensions=app0 /srv/app1.raw\n",
			func(t *testing.T, s Settings, err error) {
				if err != nil || s.Profile != "strict" || !s.Enable || !slices.Equal(s.Match, []string{"foo", "foo-extra"}) ||
					!slices.Equal(s.AllowDirectives, []string{"BindPaths"}) || !slices.Equal(s.Claim, []string{"redis"}) ||
					s.Base != "minimal" || !slices.Equal(s.Extensions, []string{"app0", "/srv/app1.raw"}) || len(s.Warnings) != 0 {
					t.Errorf("got %+v, %v", s, err)
				}
			}},
		// INI accepts "key: value"; systemd ignores the line with a warning.
		{"colon is not an assignment", "[Portable]\nProfile: strict\n", func(t *testing.T, s Settings, err error) {
			if err != nil || s.Profile != "" || len(s.Warnings) != 1 {
				t.Errorf("got %+v, %v", s, err)
			}
		}},
		// systemd keeps quotes in a single value: "strict" with quotes is no profile name we know, but a valid name.
		{"quotes are not stripped from a single value", "[Portable]\nProfile=\"strict\"\n", func(t *testing.T, s Settings, err error) {
			if err != nil || s.Profile != `"strict"` {
				t.Errorf("got %q, %v", s.Profile, err)
			}
		}},
		// A lone carriage return ends a line, as in systemd.
		{"lone CR ends a line", "[Portable]\rEnable=yes\rProfile=strict\r", func(t *testing.T, s Settings, err error) {
			if err != nil || !s.Enable || s.Profile != "strict" {
				t.Errorf("got %+v, %v", s, err)
			}
		}},
		{"typo is a warning", "[Portable]\nEnabled=yes\n", func(t *testing.T, s Settings, err error) {
			if err != nil || s.Enable || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "unknown key Enabled=") {
				t.Errorf("got %+v, %v", s, err)
			}
		}},
		{"unknown section", "[Service]\nUser=root\n", func(t *testing.T, s Settings, err error) {
			if err != nil || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "unknown section [Service]") {
				t.Errorf("got %+v, %v", s, err)
			}
		}},
		{"systemd booleans", "[Portable]\nEnable=on\n", func(t *testing.T, s Settings, err error) {
			if err != nil || !s.Enable {
				t.Errorf("got %+v, %v", s, err)
			}
		}},
		{"bad boolean", "[Portable]\nEnable=maybe\n", func(t *testing.T, s Settings, err error) {
			if !errors.Is(err, ErrBadSettings) || err.Error() != "x.portable:2: Enable=maybe is not a boolean" || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v", err)
			}
		}},
		{"empty value resets a list", "[Portable]\nMatch=a\nMatch=\nMatch=b\n", func(t *testing.T, s Settings, err error) {
			if err != nil || !slices.Equal(s.Match, []string{"b"}) {
				t.Errorf("got %q, %v", s.Match, err)
			}
		}},
		{"bad prefix", "[Portable]\nMatch=../x\n", func(t *testing.T, s Settings, err error) {
			if !errors.Is(err, ErrBadSettings) {
				t.Errorf("got %v", err)
			}
		}},
		{"relative base path", "[Portable]\nBase=./minimal.raw\n", func(t *testing.T, s Settings, err error) {
			if !errors.Is(err, ErrBadSettings) {
				t.Errorf("got %v", err)
			}
		}},
		{"continuation", "[Portable]\nMatch=a \\\n b\n", func(t *testing.T, s Settings, err error) {
			if err != nil || !slices.Equal(s.Match, []string{"a", "b"}) {
				t.Errorf("got %q, %v", s.Match, err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s Settings
			err := ParseSettings(&s, "x.portable", []byte(c.data))
			c.check(t, s, err)
		})
	}
}

// TestImageSettingsDoNotShareLists: each image's lists start from the
// global ones but are its own. Two lines of a list key in the global conf
// leave room in the list's array; an image's own line must not be written
// into that room, where the next image's line would replace it (workers
// load images at the same time: one image's AllowDirectives= would lift
// another's refusals).
func TestImageSettingsDoNotShareLists(t *testing.T) {
	dir := t.TempDir()
	write := func(p, data string) { t.Helper(); writeUnder(t, dir, p, data) }
	write(GlobalConf, "[Portable]\nAllowDirectives=A B C\nAllowDirectives=D\nClaim=ga gb gc\nClaim=gd\nMatch=m1 m2 m3\nMatch=m4\nExtensions=e1 e2 e3\nExtensions=e4\n")
	write("/etc/systemd/portable/one.portable", "[Portable]\nAllowDirectives=OnlyOne\nClaim=one\nMatch=one\nExtensions=one\n")
	write("/etc/systemd/portable/two.portable", "[Portable]\nAllowDirectives=OnlyTwo\nClaim=two\nMatch=two\nExtensions=two\n")
	root, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	global := root.GlobalSettings()
	one := root.ImageSettings(global, "one")
	root.ImageSettings(global, "two")
	for _, c := range []struct {
		key       string
		got, want []string
	}{
		{"AllowDirectives", one.AllowDirectives, []string{"A", "B", "C", "D", "OnlyOne"}},
		{"Claim", one.Claim, []string{"ga", "gb", "gc", "gd", "one"}},
		{"Match", one.Match, []string{"m1", "m2", "m3", "m4", "one"}},
		{"Extensions", one.Extensions, []string{"e1", "e2", "e3", "e4", "one"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s of image one after image two was read: %q, want %q", c.key, c.got, c.want)
		}
	}
}

// TestSettingsSymlinks: a settings file may be a symlink, followed inside
// the root (an absolute target restarts at the root, not this machine's
// "/"), and its target chain is trusted as an image's is (DESIGN.md,
// Trust): a link to a file others may write would hand them the image's
// AllowDirectives= and Claim=. Profiles are read the same way.
func TestSettingsSymlinks(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	write := func(p, data string, mode os.FileMode) {
		t.Helper()
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, mode); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	write("/srv/settings/good.portable", "[Portable]\nProfile=strict\n", 0o644)
	write("/srv/settings/open.portable", "[Portable]\nAllowDirectives=ExecStartPre\n", 0o666)
	write("/srv/profile/mine/service.conf", "[Service]\nPrivateTmp=yes\n", 0o644)
	write("/srv/profile/theirs/service.conf", "[Service]\n", 0o666)
	os.MkdirAll(filepath.Join(dir, "etc/systemd/portable/profile"), 0o755)
	link("/srv/settings/good.portable", "etc/systemd/portable/good.portable")
	link("../../../srv/settings/open.portable", "etc/systemd/portable/open.portable")
	link("/srv/profile/mine", "etc/systemd/portable/profile/mine")
	link("/srv/profile/theirs", "etc/systemd/portable/profile/theirs")
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if s := r.ImageSettings(Settings{}, "good"); s.Err != nil || s.Profile != "strict" {
		t.Errorf("good.portable, a link to a trusted file: Profile=%q, %v", s.Profile, s.Err)
	}
	if s := r.ImageSettings(Settings{}, "open"); !errors.Is(s.Err, ErrUntrusted) {
		t.Errorf("open.portable, a link to a file others may write: AllowDirectives=%q, %v; want untrusted", s.AllowDirectives, s.Err)
	}
	profiles := NewProfiles(r, 257)
	if conf, err := profiles.Get("mine"); err != nil || !strings.Contains(string(conf), "PrivateTmp=yes") {
		t.Errorf("profile mine, a link to a trusted directory: %q, %v", conf, err)
	}
	if _, err := profiles.Get("theirs"); !errors.Is(err, ErrUntrusted) {
		t.Errorf("profile theirs, a link to a file others may write: %v; want untrusted", err)
	}
}

// TestSettingsDirectoriesListed: the settings directories are listed once
// and NAME.portable looked up in the listings, with the same answers as
// looking each name up: the first directory holding the name wins, a
// directory may be a symlink, a dangling NAME.portable is not there, and
// a name in no directory has no settings file.
func TestSettingsDirectoriesListed(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	write := func(p, data string) { t.Helper(); writeUnder(t, dir, p, data) }
	write("srv/portable/a.portable", "[Portable]\nProfile=strict\n")
	write("usr/lib/systemd/portable/a.portable", "[Portable]\nProfile=trusted\n")
	write("usr/lib/systemd/portable/b.portable", "[Portable]\nProfile=nonetwork\n")
	write("usr/lib/systemd/portable/c.portable", "[Portable]\nProfile=nonetwork\n")
	os.MkdirAll(filepath.Join(dir, "etc/systemd"), 0o755)
	if err := os.Symlink("/srv/portable", filepath.Join(dir, "etc/systemd/portable")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nowhere.portable", filepath.Join(dir, "srv/portable/c.portable")); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, c := range []struct{ name, profile, source string }{
		{"a", "strict", "/etc/systemd/portable/a.portable"},
		{"b", "nonetwork", "/usr/lib/systemd/portable/b.portable"},
		{"c", "nonetwork", "/usr/lib/systemd/portable/c.portable"},
		{"d", "", ""},
	} {
		s := r.ImageSettings(Settings{}, c.name)
		if s.Err != nil || s.Profile != c.profile || s.Source != c.source {
			t.Errorf("%s: Profile=%q from %q, %v; want %q from %q", c.name, s.Profile, s.Source, s.Err, c.profile, c.source)
		}
	}
}
