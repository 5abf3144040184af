package policy

import "github.com/portable-generator/portable-generator/generator/internal/unitfile"

// PID 1 watches a .path unit's paths itself, on the host, outside the
// sandbox that hides them from the service: PathChanged=/etc/shadow would
// tell the image when the host's passwords change, and
// PathExistsGlob=/home/*/.ssh/id_* which users have keys. The watches must
// lie in the image's own /run directory, where its services leave their
// triggers.
var pathWatches = []string{"PathExists", "PathExistsGlob", "PathChanged", "PathModified", "DirectoryNotEmpty"}

func pathWatchRule(c *unitCheck, a unitfile.Assignment) string {
	if c.typ != ".path" || a.Section != "Path" {
		return ""
	}
	if !c.ownPathBelow(runParent, a.Value, a.Key == "PathExistsGlob") {
		return "makes PID 1 watch host path " + a.Value + ", outside the image's own /run directory"
	}
	return ""
}
