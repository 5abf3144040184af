// Package policy enforces that an image's unit can only tighten the sandbox
// profile the admin chose, never widen it.
//
// systemd merges a unit's list settings with its drop-ins' (a unit's own
// CapabilityBoundingSet= adds to the profile's), and some settings act
// outside the sandbox altogether: '+' and '!' Exec prefixes run commands
// with full privileges, PID 1 opens StandardOutput=file: paths and reads
// EnvironmentFile= and LoadCredential= sources on the host, and
// FailureAction= can reboot it. Check refuses such units (the generator then
// skips the whole image, naming unit, directive and profile) unless the
// admin allowed the directive for that image with AllowDirectives=, and
// computes the effective value of the list settings it can narrow.
//
// The "trusted" profile is the admin's deliberate choice of no confinement:
// nothing is checked under it.
package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// Violation says why a unit may not run under a profile.
type Violation struct {
	Unit, Directive, Profile, Why string
}

func (v *Violation) Error() string {
	return fmt.Sprintf("unit %s: %s= %s, which profile %s does not allow (allow it with AllowDirectives=%s in the image's .portable file)",
		v.Unit, v.Directive, v.Why, v.Profile, v.Directive)
}

// forbidden directives act on the host or replace the sandbox's root.
var forbidden = map[string]string{
	"RootDirectory":           "replaces the image root",
	"RootImage":               "replaces the image root",
	"MountImages":             "mounts host images",
	"ExtensionImages":         "mounts host images",
	"ExtensionDirectories":    "mounts host directories",
	"BindPaths":               "binds host paths into the service",
	"BindReadOnlyPaths":       "binds host paths into the service",
	"LoadCredential":          "reads host files as credentials",
	"LoadCredentialEncrypted": "reads host files as credentials",
	"ImportCredential":        "imports host credentials",
	"EnvironmentFile":         "reads a host file",
	"DeviceAllow":             "opens host devices",
	"IPAddressAllow":          "overrides the profile's IPAddressDeny=",
	"NetworkNamespacePath":    "joins a host network namespace",
	"IPCNamespacePath":        "joins a host IPC namespace",
	"JoinsNamespaceOf":        "joins another unit's namespaces",
	"PermissionsStartOnly":    "runs commands without the sandbox",
	"PAMName":                 "opens a PAM session on the host",
	"TTYPath":                 "opens a host terminal",
	"RebootArgument":          "sets the host's reboot argument",
}

// actions may stop, reboot or power off the host.
var actions = []string{"FailureAction", "SuccessAction", "StartLimitAction", "JobTimeoutAction", "JobRunningTimeoutAction"}

// execKeys are service commands; in .socket units these run on the host,
// outside the image, with no sandbox.
var execKeys = []string{"ExecCondition", "ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop", "ExecStopPost"}

// weakening are single-valued sandbox settings and the values that weaken
// them; the profile's value would win anyway (its drop-in comes later), but
// the image asking for less is refused with a clear reason instead.
var weakening = map[string][]string{
	"DynamicUser":            falseValues,
	"PrivateUsers":           falseValues,
	"PrivateDevices":         falseValues,
	"PrivateNetwork":         falseValues,
	"PrivateTmp":             falseValues,
	"PrivateIPC":             falseValues,
	"NoNewPrivileges":        falseValues,
	"ProtectSystem":          append([]string{"yes", "true", "on", "1", "full"}, falseValues...),
	"ProtectHome":            append([]string{"read-only", "tmpfs"}, falseValues...),
	"ProtectClock":           falseValues,
	"ProtectHostname":        falseValues,
	"ProtectKernelTunables":  falseValues,
	"ProtectKernelModules":   falseValues,
	"ProtectKernelLogs":      falseValues,
	"ProtectControlGroups":   falseValues,
	"ProtectProc":            {"default", "noaccess", "ptraceable"},
	"RestrictRealtime":       falseValues,
	"RestrictSUIDSGID":       falseValues,
	"LockPersonality":        falseValues,
	"MemoryDenyWriteExecute": falseValues,
	"RemoveIPC":              falseValues,
	"KeyringMode":            {"inherit", "shared"},
}

var falseValues = []string{"no", "false", "off", "0"}

// hostDependencies point from the image's unit at other units; aimed at
// host units they let an image stop, start or order the host's services.
var hostDependencies = []string{"Wants", "Requires", "Requisite", "BindsTo", "PartOf", "Upholds", "Conflicts",
	"Before", "OnFailure", "OnSuccess", "PropagatesReloadTo", "ReloadPropagatedFrom", "PropagatesStopTo", "StopPropagatedFrom"}

// Check decides whether a unit from an image may run under a profile; see
// the package documentation. imageUnits are the unit names the same image
// provides (dependencies on them are fine).
func Check(unitName string, unit *unitfile.File, imageUnits []string, profileName string, profile *unitfile.File, allow []string) (narrow []byte, err error) {
	if profileName == "trusted" {
		return nil, nil
	}
	allowed := func(key string) bool { return slices.Contains(allow, key) }
	refuse := func(key, why string) error {
		return &Violation{Unit: unitName, Directive: key, Profile: profileName, Why: why}
	}
	typ := unitName[strings.LastIndexByte(unitName, '.'):]
	for _, a := range unit.Assignments {
		key, val := a.Key, a.Value
		if allowed(key) || val == "" {
			continue
		}
		if why, ok := forbidden[key]; ok && a.Section != "Unit" && a.Section != "Install" {
			if key == "PermissionsStartOnly" && !isTrue(val) {
				continue
			}
			return nil, refuse(key, why)
		}
		switch {
		case slices.Contains(actions, key) && a.Section == "Unit" && val != "none":
			return nil, refuse(key, "acts on the host ("+val+")")
		case slices.Contains(execKeys, key) && typ == ".socket":
			return nil, refuse(key, "runs on the host, outside the image and its sandbox")
		case slices.Contains(execKeys, key) && privilegedPrefix(val):
			return nil, refuse(key, "uses a '+' or '!' prefix, which runs the command outside the sandbox")
		case key == "Symlinks" && typ == ".socket":
			return nil, refuse(key, "creates symlinks on the host")
		case key == "MakeDirectory" && typ == ".path" && isTrue(val):
			return nil, refuse(key, "creates directories on the host")
		case (key == "User" || key == "Group") && a.Section != "Unit" && (val == "root" || val == "0"):
			return nil, refuse(key, "runs as root")
		case key == "AmbientCapabilities" && !strings.HasPrefix(val, "~"):
			return nil, refuse(key, "grants capabilities")
		case strings.HasPrefix(key, "Standard") && a.Section != "Unit" && hostFileOutput(val):
			return nil, refuse(key, "makes PID 1 open a host file ("+val+")")
		case a.Section == "Unit" && slices.Contains(hostDependencies, key):
			if target := hostUnit(val, imageUnits); target != "" {
				return nil, refuse(key, "names host unit "+target)
			}
		case (key == "Unit" && (typ == ".timer" || typ == ".path")) || (key == "Service" && typ == ".socket"):
			if target := hostUnit(val, imageUnits); target != "" {
				return nil, refuse(key, "activates host unit "+target)
			}
		}
		if weak, ok := weakening[key]; ok && a.Section != "Unit" && slices.Contains(weak, strings.ToLower(val)) {
			if _, set := profile.Last("Service", key); set {
				return nil, refuse(key, "weakens the profile ("+key+"="+val+")")
			}
		}
	}
	return narrowLists(unit, profile, allowed)
}

func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "yes", "true", "on", "1":
		return true
	}
	return false
}

// privilegedPrefix reports whether an Exec line's prefix characters hold
// '+' (full privileges) or '!' (no user/group switch, and with '!!' no
// ambient-capability fallback).
func privilegedPrefix(v string) bool {
	for _, c := range v {
		switch c {
		case '+', '!':
			return true
		case '-', '@', ':', '|':
			continue
		}
		return false
	}
	return false
}

func hostFileOutput(v string) bool {
	for _, p := range []string{"file:", "append:", "truncate:"} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

// commonTargets are the well-known targets units order themselves against
// and pull in; naming them is how services are written.
var commonTargets = []string{"network.target", "network-online.target", "network-pre.target", "nss-lookup.target",
	"nss-user-lookup.target", "time-sync.target", "time-set.target", "remote-fs.target", "local-fs.target",
	"multi-user.target", "default.target", "graphical.target", "sockets.target", "timers.target", "paths.target",
	"basic.target", "sysinit.target", "shutdown.target", "getty.target", "sound.target", "printer.target"}

// hostUnit returns the first unit in a dependency list that is neither the
// image's own nor a well-known target.
func hostUnit(val string, imageUnits []string) string {
	words, err := unitfile.SplitWords(val)
	if err != nil {
		return val
	}
	for _, w := range words {
		if slices.Contains(imageUnits, w) || slices.Contains(commonTargets, w) {
			continue
		}
		return w
	}
	return ""
}
