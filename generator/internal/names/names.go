package generator

import (
	"strings"
)

// splitEntryName turns a search-directory entry name into the image NAME
// and VERSION: "foo_1.2.raw" is ("foo", "1.2"), "foo.raw" and "foo" are
// ("foo", ""). The suffix (".raw", ".v", ".raw.v") is reported separately.
func splitEntryName(entry string) (name, version, suffix string) {
	for _, s := range []string{".raw.v", ".v", ".raw"} {
		if strings.HasSuffix(entry, s) && len(entry) > len(s) {
			entry, suffix = strings.TrimSuffix(entry, s), s
			break
		}
	}
	name, version, _ = strings.Cut(entry, "_")
	return name, version, suffix
}

// validImageName reports whether name can be an image NAME: the prefix
// portablectl derives from it must be made of [A-Za-z0-9.-], and it must be
// a plain, visible file name.
func validImageName(name string) bool {
	if name == "" || name == "." || name == ".." || len(name) > 255 || name[0] == '.' {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// unitTypes are the unit types portable services export (§1.6).
var unitTypes = []string{".service", ".socket", ".target", ".timer", ".path"}

// unitType returns the type suffix of a unit name, "" if not exported.
func unitType(name string) string {
	for _, t := range unitTypes {
		if strings.HasSuffix(name, t) {
			return t
		}
	}
	return ""
}

// validUnitName follows systemd's unit_name_is_valid for the exported
// types: a prefix, an optional "@instance" (empty for a template) and a type
// suffix, made of [A-Za-z0-9:_.\-] (what unit_name_escape produces), at
// most 255 bytes.
func validUnitName(name string) bool {
	t := unitType(name)
	if t == "" || len(name) > 255 {
		return false
	}
	prefix, instance, _ := strings.Cut(strings.TrimSuffix(name, t), "@")
	return prefix != "" && unitNameChars(prefix) && unitNameChars(instance)
}

// unitNameChars reports whether s uses only the characters of unit names
// (without '@', which separates the instance).
func unitNameChars(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(":-_.\\", c) >= 0) {
			return false
		}
	}
	return true
}

// matchesPrefix is portabled's rule (§1.7): the unit name starts with the
// prefix and the next character is '-', '.', '@' or the end.
func matchesPrefix(unit, prefix string) bool {
	if !strings.HasPrefix(unit, prefix) {
		return false
	}
	rest := unit[len(prefix):]
	return rest == "" || rest[0] == '-' || rest[0] == '.' || rest[0] == '@'
}

// bestMatch returns the longest prefix that matches unit, "" if none.
func bestMatch(unit string, prefixes []string) string {
	best := ""
	for _, p := range prefixes {
		if matchesPrefix(unit, p) && len(p) > len(best) {
			best = p
		}
	}
	return best
}
