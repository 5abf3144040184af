// Package names holds the naming rules of portable images and units: how an
// entry name splits into image NAME and VERSION, which unit names are valid
// and exported, and the image's namespace — which names belong to an image.
//
// # The namespace
//
// A name is in an image's namespace when it is one of the image's prefixes
// (its NAME, or the admin's Match=) alone or followed by '-', '.', '@' or
// '_' ('_' separates NAME from VERSION, so it cannot start another image's
// name). This is the one definition: unit names, accounts, directories,
// socket files and log identifiers are all judged by [InNamespace]. Unit
// files are copied from an image by portabled's narrower rule, which does
// not take '_' ([MatchUnit]): foo_x.service is in image foo's namespace but
// portablectl would not attach it, and neither do we.
//
// Being in the namespace is necessary, not sufficient: a name the host
// already holds is never the image's (the host inventory decides that).
package names

import "strings"

// SplitEntryName turns a search-directory entry name into the image NAME
// and VERSION: "foo_1.2.raw" is ("foo", "1.2"), "foo.raw" and "foo" are
// ("foo", ""). The suffix (".raw", ".v", ".raw.v") is reported separately.
func SplitEntryName(entry string) (name, version, suffix string) {
	for _, s := range []string{".raw.v", ".v", ".raw"} {
		if strings.HasSuffix(entry, s) && len(entry) > len(s) {
			entry, suffix = strings.TrimSuffix(entry, s), s
			break
		}
	}
	name, version, _ = strings.Cut(entry, "_")
	return name, version, suffix
}

// ValidImageName reports whether name can be an image NAME: the prefix
// portablectl derives from it must be made of [A-Za-z0-9.-], and it must be
// a plain, visible file name.
func ValidImageName(name string) bool {
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

// UnitTypes are the unit types portable services export.
var UnitTypes = []string{".service", ".socket", ".target", ".timer", ".path"}

// UnitType returns the type suffix of a unit name, "" if not exported.
func UnitType(name string) string {
	for _, t := range UnitTypes {
		if strings.HasSuffix(name, t) {
			return t
		}
	}
	return ""
}

// ValidUnitName follows systemd's unit_name_is_valid for the exported
// types: a prefix, an optional "@instance" (empty for a template) and a type
// suffix, made of [A-Za-z0-9:_.\-] (what unit_name_escape produces), at
// most 255 bytes. A name that passes can never hold '/' or be "." or "..":
// it is safe as a file name in the output directory.
func ValidUnitName(name string) bool {
	t := UnitType(name)
	if t == "" || len(name) > 255 {
		return false
	}
	prefix, instance, _ := strings.Cut(strings.TrimSuffix(name, t), "@")
	return prefix != "" && unitNameChars(prefix) && unitNameChars(instance)
}

// ValidAnyUnitName accepts a unit name of any type (WantedBy= names
// targets, which images do not export but may name), by the same
// character rules as ValidUnitName.
func ValidAnyUnitName(n string) bool {
	dot := strings.LastIndexByte(n, '.')
	if dot <= 0 || dot == len(n)-1 || len(n) > 255 {
		return false
	}
	prefix, instance, _ := strings.Cut(n[:dot], "@")
	return prefix != "" && unitNameChars(prefix) && unitNameChars(instance) && unitNameChars(n[dot+1:])
}

// ValidInstance reports whether s can be the instance of a unit name:
// what DefaultInstance= may say before it is joined to a template.
func ValidInstance(s string) bool {
	return s != "" && unitNameChars(s)
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

// IsTemplate reports whether unit is a template (foo@.service).
func IsTemplate(unit string) bool {
	t := unitTypeAny(unit)
	return strings.HasSuffix(strings.TrimSuffix(unit, t), "@")
}

// InstanceName joins a template and an instance: foo@.service and "a" make
// foo@a.service.
func InstanceName(template, instance string) string {
	t := unitTypeAny(template)
	return strings.TrimSuffix(template, t) + instance + t
}

// TemplateOf returns the template of an instance name (foo@a.service gives
// foo@.service), "" when unit is not an instance.
func TemplateOf(unit string) string {
	at := strings.IndexByte(unit, '@')
	dot := strings.LastIndexByte(unit, '.')
	if at <= 0 || dot <= at+1 {
		return ""
	}
	return unit[:at+1] + unit[dot:]
}

// unitTypeAny returns the suffix from the last '.', whatever the type.
func unitTypeAny(unit string) string {
	if dot := strings.LastIndexByte(unit, '.'); dot >= 0 {
		return unit[dot:]
	}
	return ""
}

// NamespaceSeparators may follow a prefix in a name of the image's.
const NamespaceSeparators = "-.@_"

// InNamespace reports whether name is in the namespace of one of prefixes;
// see the package documentation.
func InNamespace(name string, prefixes []string) bool {
	return longestPrefix(name, prefixes, NamespaceSeparators) != ""
}

// NamespacePrefix returns the longest of prefixes whose namespace holds
// name, "" if none.
func NamespacePrefix(name string, prefixes []string) string {
	return longestPrefix(name, prefixes, NamespaceSeparators)
}

// PrefixesHolding returns every prefix in whose namespace name lies, the
// converse of InNamespace: name itself and each part of it before a
// separator ("a-b.service" gives "a", "a-b" and "a-b.service"). A host unit
// so named takes each of them away from the images.
func PrefixesHolding(name string) []string {
	var out []string
	for i := 1; i < len(name); i++ {
		if strings.IndexByte(NamespaceSeparators, name[i]) >= 0 {
			out = append(out, name[:i])
		}
	}
	if name != "" {
		out = append(out, name)
	}
	return out
}

// MatchUnit returns the longest prefix that portabled would attach unit
// for: the prefix followed by '-', '.', '@' or the end. "" if none.
func MatchUnit(unit string, prefixes []string) string {
	return longestPrefix(unit, prefixes, "-.@")
}

func longestPrefix(name string, prefixes []string, separators string) string {
	best := ""
	for _, p := range prefixes {
		rest, ok := strings.CutPrefix(name, p)
		if !ok || p == "" || len(p) <= len(best) {
			continue
		}
		if rest == "" || strings.IndexByte(separators, rest[0]) >= 0 {
			best = p
		}
	}
	return best
}

// DynamicUserName is the account name systemd derives from a unit's name
// when DynamicUser= is on and User= is not set: the unit's prefix (the name
// before '@' and the type suffix) if that is a valid user name, "" otherwise
// (systemd then makes up a hashed name no host account has).
func DynamicUserName(unit string) string {
	n := strings.TrimSuffix(unit, unitTypeAny(unit))
	n, _, _ = strings.Cut(n, "@")
	if !ValidUserName(n) {
		return ""
	}
	return n
}

// ValidUserName follows systemd's strict rule for user and group names:
// [a-zA-Z_][a-zA-Z0-9_-]*, at most 31 characters.
func ValidUserName(n string) bool {
	if n == "" || len(n) > 31 {
		return false
	}
	for i, c := range []byte(n) {
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !alpha && (i == 0 || !(c >= '0' && c <= '9' || c == '-')) {
			return false
		}
	}
	return true
}
