package policy

import (
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// What the service's journal lines say about where they come from, and
// which journal takes them. journald adds a unit's LogExtraFields= to every
// line of the service, stdout included: PORTABLE= (which the generator's
// drop-in sets to the image's file name) and SYSLOG_IDENTIFIER= there, or
// SyslogIdentifier=, would let the image's lines pass for another image's or
// a host service's in `journalctl PORTABLE=…` and `journalctl -t …`.
// LogNamespace=NS makes PID 1 start the host's journal namespace
// (systemd-journald@NS.socket) for the service: only the image's own.

func journalRule(c *unitCheck, a unitfile.Assignment) string {
	if a.Section != "Service" && a.Section != "Socket" {
		return ""
	}
	switch a.Key {
	case "LogNamespace":
		if !c.ownName(a.Value) {
			return "makes PID 1 start journal namespace " + a.Value + " (systemd-journald@" + a.Value + ".socket), which is not the image's own"
		}
	case "SyslogIdentifier":
		if !c.ownName(a.Value) {
			return "labels the service's log lines " + a.Value + ", which is not the image's own"
		}
	case "LogExtraFields":
		return c.extraFields(a.Value)
	}
	return ""
}

// extraFields checks the FIELD=VALUE words of a LogExtraFields= line.
// systemd also C-unescapes them and expands specifiers: a field name that
// is not plainly upper-case letters, digits and '_', or a backslash
// anywhere, could become PORTABLE= there, and is refused.
func (c *unitCheck) extraFields(v string) string {
	words, err := unitfile.SplitWords(v)
	if err != nil || strings.Contains(v, `\`) {
		return "cannot be checked (escapes in " + v + ")"
	}
	for _, w := range words {
		field, value, _ := strings.Cut(w, "=")
		switch {
		case field == "" || strings.Trim(field, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "":
			return "sets journal field " + field + ", whose name cannot be checked"
		case strings.HasPrefix(field, "PORTABLE"):
			return "sets journal field " + field + ", which the generator sets to name the image"
		case field == "SYSLOG_IDENTIFIER" && !c.ownName(value):
			return "labels the service's log lines " + value + ", which is not the image's own"
		}
	}
	return ""
}
