package policy

import "github.com/portable-generator/portable-generator/generator/internal/unitfile"

// RequiresMountsFor= and WantsMountsFor= make PID 1 pull in the host's
// mount units for every prefix of the paths, and mount them: the admin's
// noauto file systems (a backup disk, a network share) and automount
// points included. Only the root and the image's own host directories
// (where its StateDirectory= and the like already make PID 1 add these
// dependencies) are the image's to ask for.
var mountsFor = []string{"RequiresMountsFor", "WantsMountsFor"}

func mountsForRule(c *unitCheck, a unitfile.Assignment) string {
	if a.Section != "Unit" {
		return ""
	}
	words, err := unitfile.SplitWords(a.Value)
	if err != nil {
		return "cannot be read (" + err.Error() + ")"
	}
	for _, p := range words {
		if p != "/" && !c.ownPathBelow(pathParents, p, false) {
			return "makes PID 1 mount the host's file systems for " + p + ", outside the image's own directories"
		}
	}
	return ""
}
