// Package profiles holds portable-generator's built-in sandbox profiles:
// default, nonetwork, strict and trusted. Each is the [Service] drop-in the
// generator writes as 10-profile.conf for every service from an image.
//
// The files are written for this project. systemd's portable profiles are
// the baseline; default, nonetwork and strict add what a normal service
// does not miss (no new privileges, a narrower capability set, protected
// clock, hostname, kernel logs and /proc, private keyring and IPC, no
// set-uid files, no privileged or resource-changing system calls). trusted
// is the admin's deliberate choice of no confinement.
//
// # Following the systemd version
//
// A line may start with a version condition, "[>=N] " or "[<N] ": Builtin
// keeps it only when the running systemd satisfies it. That is how the log
// sockets are bound on systemd below 257 (which lacks BindLogSockets=) and
// how directives newer than the running systemd are left out, so every
// rendering loads without a warning. The generator renders its own drop-ins
// (20-portable.conf) with the same tags and Render: version-dependent output
// has one mechanism.
package profiles

import (
	"bytes"
	"embed"
	"strconv"
	"strings"
)

// Newest is the newest systemd version the profiles are written for; a
// version of 0 (unknown) renders for it.
const Newest = 260

// Names are the built-in profiles.
var Names = []string{"default", "nonetwork", "strict", "trusted"}

//go:embed */service.conf
var files embed.FS

// Builtin returns the service.conf of the built-in profile name rendered for
// systemd version systemdVersion (0: Newest). ok is false for an unknown
// name.
func Builtin(name string, systemdVersion int) (content []byte, ok bool) {
	raw, err := files.ReadFile(name + "/service.conf")
	if err != nil || strings.ContainsAny(name, "/.") {
		return nil, false
	}
	return Render(raw, systemdVersion), true
}

// Render keeps the lines of a profile whose version condition the systemd
// version satisfies, without the condition. It runs for every unit of
// every image (20-portable.conf), so it splits nothing into strings.
func Render(profile []byte, systemdVersion int) []byte {
	if systemdVersion <= 0 {
		systemdVersion = Newest
	}
	out := make([]byte, 0, len(profile))
	for rest := profile; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i+1], rest[i+1:]
		} else {
			rest = nil
		}
		if keep, kept := condition(line, systemdVersion); keep {
			out = append(out, kept...)
		}
	}
	return out
}

// condition evaluates a leading "[>=N] " or "[<N] " tag.
func condition(line []byte, v int) (bool, []byte) {
	if !bytes.HasPrefix(line, []byte("[>=")) && !bytes.HasPrefix(line, []byte("[<")) {
		return true, line
	}
	end := bytes.Index(line, []byte("] "))
	if end < 0 {
		return true, line
	}
	tag, rest := string(line[1:end]), line[end+2:]
	if n, err := strconv.Atoi(strings.TrimPrefix(tag, ">=")); err == nil && strings.HasPrefix(tag, ">=") {
		return v >= n, rest
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(tag, "<")); err == nil && strings.HasPrefix(tag, "<") {
		return v < n, rest
	}
	return true, line
}
