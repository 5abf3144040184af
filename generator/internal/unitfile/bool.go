package unitfile

import "strings"

// ParseBool reads a boolean as systemd's parse_boolean does: 1, yes, y,
// true, t, on and 0, no, n, false, f, off, in any case. ok is false for
// anything else, which systemd rejects.
func ParseBool(v string) (value, ok bool) {
	switch strings.ToLower(v) {
	case "1", "yes", "y", "true", "t", "on":
		return true, true
	case "0", "no", "n", "false", "f", "off":
		return false, true
	}
	return false, false
}
