package host

import (
	"bufio"
	"os"
	"path"
	"strings"
)

// LateSearchDirs returns the search directories whose file system is
// listed in /etc/fstab but not mounted yet.
func (r Root) LateSearchDirs() []string {
	mounts := r.fstabMountPoints()
	if len(mounts) == 0 {
		return nil
	}
	mounted := r.mountedPoints()
	var late []string
	for _, dir := range SearchDirs {
		for d := dir; d != "/"; d = path.Dir(d) {
			if mounts[d] && !mounted[d] {
				late = append(late, dir)
				break
			}
		}
	}
	return late
}

// fstabMountPoints lists the mount points /etc/fstab mounts at boot.
func (r Root) fstabMountPoints() map[string]bool {
	f, err := r.openRegular("/etc/fstab")
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]bool{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 3 || strings.HasPrefix(fields[0], "#") || fields[2] == "swap" {
			continue
		}
		if len(fields) > 3 && hasOption(fields[3], "noauto") {
			continue
		}
		out[path.Clean(fields[1])] = true
	}
	return out
}

func hasOption(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// mountedPoints lists what is mounted now, from /proc/self/mountinfo
// (under --root, DIR/proc/self/mountinfo: absent means nothing is).
func (r Root) mountedPoints() map[string]bool {
	out := map[string]bool{}
	hp, err := r.HostPath("/proc/self/mountinfo", true)
	if err != nil {
		return out
	}
	f, err := os.Open(hp)
	if err != nil {
		return out
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) > 4 {
			out[unescapeMountinfo(fields[4])] = true
		}
	}
	return out
}

func unescapeMountinfo(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}
