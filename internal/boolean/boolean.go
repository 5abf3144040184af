// Package boolean reads booleans as systemd writes them, for every reader
// of systemd's formats in the project (unit files, settings, os-release and
// extension-release values, the kernel command line): one spelling list.
package boolean

import "strings"

// Parse reads a boolean as systemd's parse_boolean does: 1, yes, y, true,
// t, on and 0, no, n, false, f, off, in any case. ok is false for anything
// else, which systemd rejects. The spellings are checked against systemd
// 252 and 257 (generator/internal/unitfile's TestParseBoolAgainstSystemd).
func Parse(v string) (value, ok bool) {
	switch strings.ToLower(v) {
	case "1", "yes", "y", "true", "t", "on":
		return true, true
	case "0", "no", "n", "false", "f", "off":
		return false, true
	}
	return false, false
}
