package host

import (
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
	"github.com/portable-generator/portable-generator/internal/boolean"
)

var sharedLibVersion = regexp.MustCompile(`^libsystemd-shared-(\d+)[.-]`)

// SystemdVersion reads the version of the installed systemd from the name
// of its libsystemd-shared-N.so, which every distribution ships in one of
// systemdLibDirs; 0 when none is found.
func (r Root) SystemdVersion() int {
	found := 0
	r.unitDirEntries(nil, r.systemdLibDirs(), func(_ string, ents []fs.DirEntry) {
		for _, e := range ents {
			if m := sharedLibVersion.FindStringSubmatch(e.Name()); m != nil {
				if n, err := strconv.Atoi(m[1]); err == nil {
					found = max(found, n)
				}
			}
		}
	})
	return found
}

// systemdLibDirs are the directories libsystemd-shared-N.so may be in:
// systemd's own (/usr/lib/systemd, Fedora's /usr/lib64/systemd) or, as in
// Debian 13, the multiarch one, /usr/lib/TUPLE/systemd. Only the
// subdirectories named like a multiarch tuple (x86_64-linux-gnu) are
// looked into: at boot the cache is cold, and looking for systemd/ in
// each of the hundreds of directories in /usr/lib reads each from the
// disk, a tenth of a run over twenty images. Each directory is listed
// once, by where it resolves inside the root (unitDirEntries): with a
// merged /usr, /lib is /usr/lib.
func (r Root) systemdLibDirs() []string {
	dirs := []string{"/usr/lib/systemd", "/lib/systemd", "/usr/lib64/systemd"}
	r.unitDirEntries(nil, []string{"/usr/lib", "/lib"}, func(lib string, ents []fs.DirEntry) {
		for _, e := range ents {
			if strings.Contains(e.Name(), "-linux-") {
				dirs = append(dirs, path.Join(lib, e.Name(), "systemd"))
			}
		}
	})
	return dirs
}

// KernelDisabled reports whether the kernel command line turns us off with
// portable_generator.enable=0 (the last assignment wins). The command line
// is found as systemd finds it: $SYSTEMD_PROC_CMDLINE when set, PID 1's own
// arguments in a container (there is no kernel of its own to ask), else
// /proc/cmdline.
func (r Root) KernelDisabled(getenv func(string) string) bool {
	disabled := false
	for _, w := range r.commandLine(getenv) {
		if v, ok := strings.CutPrefix(w, "portable_generator.enable="); ok {
			on, valid := boolean.Parse(v)
			disabled = valid && !on
		}
	}
	return disabled
}

func (r Root) commandLine(getenv func(string) string) []string {
	if v := getenv("SYSTEMD_PROC_CMDLINE"); v != "" {
		words, _ := unitfile.SplitWords(v)
		return words
	}
	if strings.HasPrefix(getenv("SYSTEMD_VIRTUALIZATION"), "container:") {
		b, err := r.readFile("/proc/1/cmdline")
		if err != nil {
			return nil
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		return args[1:] // the first is the init program itself
	}
	b, err := r.readFile("/proc/cmdline")
	if err != nil {
		return nil
	}
	words, _ := unitfile.SplitWords(string(b))
	return words
}
