package generator

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"gopkg.in/ini.v1"
)

// SettingsDirs hold NAME.portable files and portable-generator.conf.d/,
// highest first.
var SettingsDirs = []string{
	"/etc/systemd/portable",
	"/run/systemd/portable",
	"/usr/local/lib/systemd/portable",
	"/usr/lib/systemd/portable",
}

var confDirs = []string{"/etc/systemd", "/run/systemd", "/usr/local/lib/systemd", "/usr/lib/systemd"}

// globalSettings reads /etc/systemd/portable-generator.conf and the
// portable-generator.conf.d/*.conf drop-ins of the four places, in lexical
// order of their names (a name in a higher place hides the same name
// below), later files winning.
func (t trust) globalSettings() Settings {
	var files []string
	if _, err := os.Stat(t.host("/etc/systemd/portable-generator.conf")); err == nil {
		files = append(files, "/etc/systemd/portable-generator.conf")
	}
	seen := map[string]string{}
	for _, d := range confDirs {
		dir := path.Join(d, "portable-generator.conf.d")
		ents, _ := os.ReadDir(t.host(dir))
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
		t.applySettingsFile(&s, f)
	}
	return s
}

// imageSettings applies the first NAME.portable found on top of the global
// settings (no merging between NAME.portable files).
func (t trust) imageSettings(global Settings, name string) Settings {
	s := global
	s.Warnings = append([]string(nil), global.Warnings...)
	for _, d := range SettingsDirs {
		f := path.Join(d, name+".portable")
		if _, err := os.Stat(t.host(f)); err == nil {
			s.Source = f
			t.applySettingsFile(&s, f)
			break
		}
	}
	return s
}

func (t trust) applySettingsFile(s *Settings, file string) {
	if err := t.check(file); err != nil {
		s.Problem = "untrusted settings file: " + err.Error()
		return
	}
	cfg, err := ini.LoadSources(ini.LoadOptions{IgnoreInlineComment: true, AllowPythonMultilineValues: false}, t.host(file))
	if err != nil {
		s.Problem = fmt.Sprintf("%s: %v", file, err)
		return
	}
	for _, sec := range cfg.Sections() {
		if sec.Name() == ini.DefaultSection {
			if len(sec.Keys()) > 0 {
				s.Warnings = append(s.Warnings, fmt.Sprintf("%s: settings outside [Portable] ignored", file))
			}
			continue
		}
		if sec.Name() != "Portable" {
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s: unknown section [%s] ignored", file, sec.Name()))
			continue
		}
		for _, k := range sec.Keys() {
			v := strings.TrimSpace(k.Value())
			switch k.Name() {
			case "Profile":
				if v != "" && !validProfileName(v) {
					s.Problem = fmt.Sprintf("%s: Profile=%s is not a valid profile name", file, v)
					continue
				}
				s.Profile = v
			case "Enable":
				b, ok := parseBool(v)
				if !ok {
					s.Problem = fmt.Sprintf("%s: Enable=%s is not a boolean", file, v)
					continue
				}
				s.Enable = b
			case "Match":
				s.Match = nil
				for _, m := range strings.Fields(v) {
					if !validImageName(m) && !validUnitName(m) {
						s.Problem = fmt.Sprintf("%s: Match=%s is not a valid prefix", file, m)
						continue
					}
					s.Match = append(s.Match, m)
				}
			case "AllowDirectives":
				s.AllowDirectives = strings.Fields(v)
			default:
				s.Warnings = append(s.Warnings, fmt.Sprintf("%s: unknown key %s= ignored", file, k.Name()))
			}
		}
	}
}

func validProfileName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, "/\x00") && len(n) <= 255 && !strings.HasPrefix(n, ".")
}

// parseBool accepts systemd's boolean spellings.
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "1", "yes", "y", "true", "t", "on":
		return true, true
	case "0", "no", "n", "false", "f", "off":
		return false, true
	}
	return false, false
}
