package policy

import (
	"path"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// PID 1 checks a unit's path conditions and assertions itself, on the
// host, outside the sandbox that hides those paths from the service:
// whether the unit starts then tells the image what the host has
// (ConditionPathExistsGlob=/home/*/.ssh/id_* which users have keys, and the
// image's services can read a unit's state on the bus). It is the question
// a .path unit's watch asks (pathwatch.go), asked once. Such a check must
// be about the image's own paths: below /run, /var/lib, /var/cache,
// /var/log or /etc, under an own name, as its directories are.
var pathConditions = func() []string {
	var out []string
	for _, k := range []string{"PathExists", "PathExistsGlob", "PathIsDirectory", "PathIsSymbolicLink", "PathIsMountPoint",
		"PathIsReadWrite", "PathIsEncrypted", "DirectoryNotEmpty", "FileNotEmpty", "FileIsExecutable"} {
		out = append(out, "Condition"+k, "Assert"+k)
	}
	return out
}()

// ownParents are where a unit's own host paths lie.
var ownParents = []string{"/run", "/var/lib", "/var/cache", "/var/log", "/etc"}

func conditionRule(c *unitCheck, a unitfile.Assignment) string {
	if a.Section != "Unit" {
		return ""
	}
	// "|" makes it a triggering condition, "!" negates it: the path
	// follows, after blanks.
	p := strings.TrimLeft(strings.TrimPrefix(a.Value, "|"), " \t")
	p = strings.TrimLeft(strings.TrimPrefix(p, "!"), " \t")
	if !c.ownHostPath(p, strings.HasSuffix(a.Key, "PathExistsGlob")) {
		return "makes PID 1 look at host path " + p + ", outside the image's own directories"
	}
	return ""
}

// ownHostPath reports whether an absolute path lies in one of the image's
// own host directories: /run/NAME..., /var/lib/NAME..., ... with NAME an
// own name, normalized. For a glob, the own name may not hold a pattern.
func (c *unitCheck) ownHostPath(p string, glob bool) bool {
	p, ok := c.expandOwn(p)
	if !ok || path.Clean(p) != p {
		return false
	}
	for _, parent := range ownParents {
		rest, ok := strings.CutPrefix(p, parent+"/")
		if !ok {
			continue
		}
		first, _, _ := strings.Cut(rest, "/")
		if glob && strings.ContainsAny(first, "*?[") {
			return false
		}
		return c.ownExpandedRelativePath(rest)
	}
	return false
}
