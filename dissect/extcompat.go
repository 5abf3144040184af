package dissect

import (
	"fmt"
	"slices"
	"strings"
)

// IncompatibleError says why an extension does not fit its base image:
// the release key that decided, the extension's value and what the base
// (or the host, for ARCHITECTURE) asked for.
type IncompatibleError struct {
	Key       string // "SYSEXT_SCOPE", "ARCHITECTURE", "ID", "SYSEXT_LEVEL", "VERSION_ID", or "" for an empty file
	Extension string // the extension's value, "" when it has none
	Want      string // what would have fitted
}

func (e *IncompatibleError) Error() string {
	switch {
	case e.Key == "":
		return "the extension-release file is empty"
	case e.Extension == "":
		return fmt.Sprintf("the extension-release file has no %s= (the base has %s=%s)", e.Key, e.Key, e.Want)
	}
	return fmt.Sprintf("%s=%s in the extension-release file does not fit %s", e.Key, e.Extension, e.Want)
}

// CheckExtension judges an extension's release fields against its base's
// os-release as portablectl does when it attaches, in the scope "portable",
// and returns an *IncompatibleError naming the key that refused it:
//   - SYSEXT_SCOPE, when set, must list "portable";
//   - ARCHITECTURE, when set and not "_any", must be the host's (hostArch,
//     in systemd's naming: portablectl compares with the host, not the base);
//   - ID must be set, and be "_any", the base's ID, or (systemd 258 and
//     later) one of the base's ID_LIKE;
//   - a base without VERSION_ID and SYSEXT_LEVEL takes any version;
//   - when both have SYSEXT_LEVEL, the levels must be equal;
//   - otherwise the extension's VERSION_ID must equal the base's.
//
// portablectl judges configuration extensions by the same SYSEXT_ keys
// (its CONFEXT_ check runs only when this one fails to run at all), so
// this does too. systemdVersion 0 means the newest.
func CheckExtension(base, ext map[string]string, hostArch string, systemdVersion int) error {
	if len(ext) == 0 {
		return &IncompatibleError{}
	}
	if scope, ok := ext["SYSEXT_SCOPE"]; ok && !slices.Contains(strings.Fields(scope), "portable") {
		return &IncompatibleError{Key: "SYSEXT_SCOPE", Extension: scope, Want: `a scope listing "portable"`}
	}
	if a := ext["ARCHITECTURE"]; a != "" && a != "_any" && a != hostArch {
		return &IncompatibleError{Key: "ARCHITECTURE", Extension: a, Want: "this machine's " + hostArch}
	}
	id := ext["ID"]
	if id == "" {
		return &IncompatibleError{Key: "ID", Want: base["ID"]}
	}
	if id == "_any" {
		return nil
	}
	if id != base["ID"] && !(atLeast(systemdVersion, versionIDLike) && slices.Contains(strings.Fields(base["ID_LIKE"]), id)) {
		want := "the base's ID=" + base["ID"]
		if atLeast(systemdVersion, versionIDLike) && base["ID_LIKE"] != "" {
			want += " or ID_LIKE=" + base["ID_LIKE"]
		}
		return &IncompatibleError{Key: "ID", Extension: id, Want: want}
	}
	baseVersion, baseLevel := base["VERSION_ID"], base["SYSEXT_LEVEL"]
	switch level := ext["SYSEXT_LEVEL"]; {
	case baseVersion == "" && baseLevel == "":
		return nil // a rolling release: the ID is enough
	case baseLevel != "" && level != "":
		if level != baseLevel {
			return &IncompatibleError{Key: "SYSEXT_LEVEL", Extension: level, Want: "the base's SYSEXT_LEVEL=" + baseLevel}
		}
	case baseVersion != "":
		if v := ext["VERSION_ID"]; v != baseVersion {
			if v == "" {
				return &IncompatibleError{Key: "VERSION_ID", Want: baseVersion}
			}
			return &IncompatibleError{Key: "VERSION_ID", Extension: v, Want: "the base's VERSION_ID=" + baseVersion}
		}
	}
	return nil
}

// NameAndVersion is the value portabled logs as a layer's
// PORTABLE_…NAME_AND_VERSION=: the first id and the first version found
// among the keys of its kind, joined by "_", or the one that exists, or
// "". kind is "" for a base's os-release, or an extension class.
func NameAndVersion(fields map[string]string, kind ExtensionClass) string {
	prefix := ""
	switch kind {
	case Sysext:
		prefix = "SYSEXT_"
	case Confext:
		prefix = "CONFEXT_"
	}
	first := func(keys ...string) string {
		for _, k := range keys {
			if v := fields[prefix+k]; v != "" {
				return v
			}
		}
		return ""
	}
	id := first("IMAGE_ID", "ID")
	version := first("IMAGE_VERSION", "VERSION_ID", "BUILD_ID")
	switch {
	case id != "" && version != "":
		return id + "_" + version
	case id != "":
		return id
	}
	return version
}
