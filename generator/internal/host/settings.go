package host

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/names"
	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
	"github.com/portable-generator/portable-generator/internal/boolean"
)

// SettingsDirs hold NAME.portable files, highest first.
var SettingsDirs = []string{
	"/etc/systemd/portable",
	"/run/systemd/portable",
	"/usr/local/lib/systemd/portable",
	"/usr/lib/systemd/portable",
}

// confDirs hold portable-generator.conf.d/, highest first.
var confDirs = []string{"/etc/systemd", "/run/systemd", "/usr/local/lib/systemd", "/usr/lib/systemd"}

// GlobalConf is the file with defaults for every image.
const GlobalConf = "/etc/systemd/portable-generator.conf"

// SettingsSection is the one section settings files have.
const SettingsSection = "Portable"

// SettingsKeys are the keys of the [Portable] section, in the order the
// documentation lists them.
var SettingsKeys = []string{"Profile", "Enable", "Match", "AllowDirectives", "Claim", "Base", "Extensions"}

// Settings are what the admin configured for one image.
type Settings struct {
	Profile         string   // profile name; "" means "default"
	Enable          bool     // turn [Install] into enablement symlinks
	Match           []string // prefixes replacing the derived one
	AllowDirectives []string // directives the image's units may use although they widen the profile
	// Claim are names outside the image's prefixes (accounts, directories)
	// the admin grants to the image; the host may still hold them.
	Claim []string
	// Base is the image this one is an extension of: an image NAME or an
	// absolute path; "" for an image that is its own base.
	Base string
	// Extensions are further layers over the image, in order.
	Extensions []string
	// Source is the per-image settings file, "" if none.
	Source string
	// Err is a bad value or an untrusted file: the image is skipped with it.
	Err error
	// Warnings are lines ignored with a warning (unknown keys and
	// sections, lines systemd's parser would skip).
	Warnings []string
}

// ErrBadSettings marks a settings file that cannot be used.
var ErrBadSettings = errors.New("bad settings")

// settingsError says what is wrong in a settings file; it is ErrBadSettings.
type settingsError struct{ why string }

func (e *settingsError) Error() string        { return e.why }
func (e *settingsError) Is(target error) bool { return target == ErrBadSettings }

func badSettings(format string, args ...any) error {
	return &settingsError{fmt.Sprintf(format, args...)}
}

// GlobalSettings reads /etc/systemd/portable-generator.conf and the
// portable-generator.conf.d/*.conf drop-ins of the four places, in lexical
// order of their names (a name in a higher place hides the same name
// below), later files winning.
func (r Root) GlobalSettings() Settings {
	files := []string{GlobalConf}
	seen := map[string]string{}
	for _, d := range confDirs {
		dir := path.Join(d, "portable-generator.conf.d")
		ents, _ := r.readDir(dir)
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".conf") && seen[e.Name()] == "" {
				seen[e.Name()] = path.Join(dir, e.Name())
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		files = append(files, seen[n])
	}
	var s Settings
	for _, f := range files {
		r.applySettingsFile(&s, f)
	}
	return s
}

// ImageSettings applies the first NAME.portable found on top of the global
// settings (no merging between NAME.portable files).
func (r Root) ImageSettings(global Settings, name string) Settings {
	// The lists are copied: appending an image's own words to an array
	// the global settings share with every other image (loaded at the
	// same time) would hand them this image's Match=, AllowDirectives=,
	// Claim= and Extensions=.
	s := global
	s.Match = slices.Clone(global.Match)
	s.AllowDirectives = slices.Clone(global.AllowDirectives)
	s.Claim = slices.Clone(global.Claim)
	s.Extensions = slices.Clone(global.Extensions)
	s.Warnings = slices.Clone(global.Warnings)
	listed := r.settingsNames()
	for _, d := range SettingsDirs {
		if names, ok := listed[d]; ok && !names[name+".portable"] {
			continue
		}
		f := path.Join(d, name+".portable")
		if r.applySettingsFile(&s, f) {
			s.Source = f
			break
		}
	}
	return s
}

// settingsNames lists each settings directory once per Root: a run asks
// for every image's NAME.portable, and looking each name up in the four
// directories cost 2% of a run over 1,000 images. A directory that does
// not exist holds no names; one that cannot be listed is left out, and
// its names are looked up one by one.
func (r Root) settingsNames() map[string]map[string]bool {
	if r.tree == nil {
		return nil
	}
	t := r.tree
	t.listOnce.Do(func() {
		t.settings = map[string]map[string]bool{}
		for _, d := range SettingsDirs {
			real, err := r.Resolve(d)
			if errors.Is(err, fs.ErrNotExist) {
				t.settings[d] = nil // no names: a nil map reads as empty
				continue
			}
			if err != nil {
				continue
			}
			ents, err := r.readDir(real)
			if errors.Is(err, fs.ErrNotExist) {
				t.settings[d] = nil
				continue
			}
			if err != nil {
				continue
			}
			names := make(map[string]bool, len(ents))
			for _, e := range ents {
				names[e.Name()] = true
			}
			t.settings[d] = names
		}
	})
	return t.settings
}

// applySettingsFile applies the settings file at in-root path file to s,
// if there is one: found is false when it does not exist.
func (r Root) applySettingsFile(s *Settings, file string) (found bool) {
	data, err := r.readTrusted(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false
	case errors.Is(err, ErrUntrusted):
		s.Err = fmt.Errorf("settings file: %w", err)
	case err != nil:
		s.Err = badSettings("%s: %v", file, unwrapPath(err))
	default:
		if err := ParseSettings(s, file, data); err != nil {
			s.Err = err
		}
	}
	return true
}

// ParseSettings applies one settings file's content to s, with systemd's
// syntax (systemd.syntax(7)): what systemd would ignore with a warning
// becomes a warning, a bad value an error wrapping ErrBadSettings.
func ParseSettings(s *Settings, file string, data []byte) error {
	f, err := unitfile.Parse(data)
	if err != nil {
		return badSettings("%s: %v", file, err)
	}
	for _, p := range f.Problems {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%s: %s", file, p))
	}
	bad := func(a unitfile.Assignment, format string, args ...any) error {
		return badSettings("%s:%d: %s=%s %s", file, a.Line, a.Key, a.Value, fmt.Sprintf(format, args...))
	}
	unknownSections := map[string]bool{}
	var firstErr error
	for _, a := range f.Assignments {
		if a.Section != SettingsSection {
			if !unknownSections[a.Section] {
				unknownSections[a.Section] = true
				s.Warnings = append(s.Warnings, fmt.Sprintf("%s:%d: unknown section [%s] ignored", file, a.Line, a.Section))
			}
			continue
		}
		var err error
		switch a.Key {
		case "Profile":
			if a.Value != "" && !ValidProfileName(a.Value) {
				err = bad(a, "is not a valid profile name")
				break
			}
			s.Profile = a.Value
		case "Enable":
			b, ok := boolean.Parse(a.Value)
			if !ok {
				err = bad(a, "is not a boolean")
				break
			}
			s.Enable = b
		case "Match":
			err = wordList(&s.Match, a, func(m string) bool { return names.ValidImageName(m) || names.ValidUnitName(m) }, "is not a valid prefix", bad)
		case "AllowDirectives":
			err = wordList(&s.AllowDirectives, a, validDirectiveName, "is not a directive name", bad)
		case "Claim":
			err = wordList(&s.Claim, a, validClaim, "is not a name an image can claim (an account or a directory name)", bad)
		case "Base":
			if a.Value != "" && !validImageRef(a.Value) {
				err = bad(a, "is neither an image name nor an absolute path")
				break
			}
			s.Base = a.Value
		case "Extensions":
			err = wordList(&s.Extensions, a, validImageRef, "is neither an image name nor an absolute path", bad)
		default:
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s:%d: unknown key %s= ignored", file, a.Line, a.Key))
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// wordList applies a list setting: words are added, an empty value
// resets the list, as systemd's list settings do.
func wordList(dst *[]string, a unitfile.Assignment, valid func(string) bool, why string,
	bad func(unitfile.Assignment, string, ...any) error) error {
	if a.Value == "" {
		*dst = nil
		return nil
	}
	words, err := unitfile.SplitWords(a.Value)
	if err != nil {
		return bad(a, "cannot be split into words: %v", err)
	}
	for _, w := range words {
		if !valid(w) {
			return bad(a, ": %q %s", w, why)
		}
	}
	*dst = append(*dst, words...)
	return nil
}

// ValidProfileName reports whether n can name a profile directory.
func ValidProfileName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, "/\x00") && len(n) <= 255 && !strings.HasPrefix(n, ".")
}

func validDirectiveName(n string) bool {
	for _, c := range []byte(n) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return n != ""
}

// validClaim accepts what can be a first path component below /run or
// /var/lib, or an account: a plain name without '/'.
func validClaim(n string) bool {
	return names.ValidUserName(n) || names.ValidImageName(n)
}

// validImageRef accepts an image NAME or an absolute, clean path.
func validImageRef(s string) bool {
	if strings.HasPrefix(s, "/") {
		return path.Clean(s) == s && !strings.ContainsAny(s, "\x00\n")
	}
	return names.ValidImageName(s)
}
