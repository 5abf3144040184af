package policy

import (
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
// /var/log or /etc (pathParents), under an own name, as its directories
// are.
var pathConditions = func() []string {
	var out []string
	for _, k := range []string{"PathExists", "PathExistsGlob", "PathIsDirectory", "PathIsSymbolicLink", "PathIsMountPoint",
		"PathIsReadWrite", "PathIsEncrypted", "DirectoryNotEmpty", "FileNotEmpty", "FileIsExecutable"} {
		out = append(out, "Condition"+k, "Assert"+k)
	}
	return out
}()

func conditionRule(c *unitCheck, a unitfile.Assignment) string {
	if a.Section != "Unit" {
		return ""
	}
	// "|" makes it a triggering condition, "!" negates it: the path
	// follows, after blanks.
	p := strings.TrimLeft(strings.TrimPrefix(a.Value, "|"), " \t")
	p = strings.TrimLeft(strings.TrimPrefix(p, "!"), " \t")
	if !c.ownPathBelow(pathParents, p, strings.HasSuffix(a.Key, "PathExistsGlob")) {
		return "makes PID 1 look at host path " + p + ", outside the image's own directories"
	}
	return ""
}
