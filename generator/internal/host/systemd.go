package host

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

var sharedLibVersion = regexp.MustCompile(`^libsystemd-shared-(\d+)[.-]`)

// SystemdVersion reads the version of the installed systemd from the name
// of its libsystemd-shared-N.so, which every distribution ships in one of
// these places; 0 when none is found.
func (r Root) SystemdVersion() int {
	patterns := []string{"/usr/lib/systemd", "/lib/systemd", "/usr/lib/*/systemd", "/lib/*/systemd", "/usr/lib64/systemd"}
	var found []int
	for _, p := range patterns {
		dirs, _ := filepath.Glob(r.Path(p))
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

// KernelDisabled reports whether the kernel command line turns us off with
// portable_generator.enable=0 (the last assignment wins).
func (r Root) KernelDisabled() bool {
	b, err := os.ReadFile(r.Path("/proc/cmdline"))
	if err != nil {
		return false
	}
	disabled := false
	for _, w := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(w, "portable_generator.enable="); ok {
			on, valid := unitfile.ParseBool(v)
			disabled = valid && !on
		}
	}
	return disabled
}
