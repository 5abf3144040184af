package generator

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// vendorUnitDirs hold units an image must never replace: the vendor's and
// those portablectl attached.
var vendorUnitDirs = []string{
	"/usr/lib/systemd/system",
	"/usr/local/lib/systemd/system",
	"/lib/systemd/system",
	"/etc/systemd/system.attached",
	"/run/systemd/system.attached",
}

// adminUnitDirs hold the admin's overrides (systemctl mask, edit --full).
var adminUnitDirs = []string{"/etc/systemd/system", "/run/systemd/system"}

// hostUnits lists the unit names (files and symlinks, not drop-in or
// .wants directories) in dirs, mapped to the path of the first one.
func (t trust) hostUnits(dirs []string) map[string]string {
	out := map[string]string{}
	for _, d := range dirs {
		ents, err := os.ReadDir(t.host(d))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() {
				continue
			}
			if _, ok := out[e.Name()]; !ok {
				out[e.Name()] = path.Join(d, e.Name())
			}
		}
	}
	return out
}

var sharedLibVersion = regexp.MustCompile(`^libsystemd-shared-(\d+)[.-]`)

// systemdVersion reads the version of the installed systemd from the name
// of its libsystemd-shared-N.so, which every distribution ships in one of
// these places; 0 when none is found.
func (t trust) systemdVersion() int {
	patterns := []string{"/usr/lib/systemd", "/lib/systemd", "/usr/lib/*/systemd", "/lib/*/systemd", "/usr/lib64/systemd"}
	var found []int
	for _, p := range patterns {
		dirs, _ := filepath.Glob(t.host(p))
		sort.Strings(dirs)
		for _, d := range dirs {
			ents, _ := os.ReadDir(d)
			for _, e := range ents {
				if m := sharedLibVersion.FindStringSubmatch(e.Name()); m != nil {
					if n, err := strconv.Atoi(m[1]); err == nil {
						found = append(found, n)
					}
				}
			}
		}
	}
	if len(found) == 0 {
		return 0
	}
	sort.Ints(found)
	return found[len(found)-1]
}

// kernelDisabled reports whether the kernel command line turns us off with
// portable_generator.enable=0 (the last assignment wins).
func (t trust) kernelDisabled() bool {
	b, err := os.ReadFile(t.host("/proc/cmdline"))
	if err != nil {
		return false
	}
	disabled := false
	for _, w := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(w, "portable_generator.enable="); ok {
			on, valid := parseBool(v)
			disabled = valid && !on
		}
	}
	return disabled
}
