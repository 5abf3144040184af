package policy

import (
	"slices"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// pullingDeps start the named units (with ours, or when ours fails or
// succeeds), or tie ours to them.
var pullingDeps = []string{"Wants", "Requires", "Requisite", "BindsTo", "Upholds", "OnFailure", "OnSuccess", "PartOf",
	"ReloadPropagatedFrom", "StopPropagatedFrom"}

// actingDeps stop, reload or join the named units: only the image's own.
// (Conflicts=shutdown.target is every service's default and stays fine.)
var actingDeps = []string{"Conflicts", "PropagatesReloadTo", "PropagatesStopTo", "JoinsNamespaceOf"}

// pullableTargets are the well-known targets a service pulls in or ties
// itself to. shutdown.target is not among them: starting it stops nearly
// every host service.
var pullableTargets = []string{"network.target", "network-online.target", "nss-lookup.target", "nss-user-lookup.target",
	"time-sync.target", "time-set.target", "remote-fs.target", "local-fs.target", "sysinit.target", "basic.target",
	"sockets.target", "timers.target", "paths.target", "multi-user.target", "default.target",
	// The sockets the profiles bind into the service.
	"dbus.socket", "systemd-journald.socket"}

// beforeTargets are the well-known targets a service orders itself before.
// Early-boot targets are missing: before them, a service (which comes after
// basic.target) makes an ordering cycle that systemd breaks by dropping
// some host unit's job. sockets.target, timers.target and paths.target are
// for units of their own type only, for the same reason.
var beforeTargets = []string{"multi-user.target", "graphical.target", "default.target", "shutdown.target",
	"network.target", "network-online.target", "nss-lookup.target", "nss-user-lookup.target", "time-sync.target"}

var typeTargets = map[string]string{".socket": "sockets.target", ".timer": "timers.target", ".path": "paths.target"}

func dependencyRule(c *unitCheck, a unitfile.Assignment) string {
	var ok func(string) bool
	switch {
	case a.Section == "Unit" && slices.Contains(pullingDeps, a.Key):
		ok = func(u string) bool { return slices.Contains(pullableTargets, u) }
	case a.Section == "Unit" && a.Key == "Conflicts":
		ok = func(u string) bool { return u == "shutdown.target" }
	case a.Section == "Unit" && slices.Contains(actingDeps, a.Key):
		ok = func(string) bool { return false }
	case a.Section == "Unit" && a.Key == "Before":
		ok = func(u string) bool { return slices.Contains(beforeTargets, u) || typeTargets[c.typ] == u }
	case a.Section == "Service" && a.Key == "Sockets":
		// The service would be handed a host unit's listening sockets.
		ok = func(string) bool { return false }
	case a.Section == "Install" && (a.Key == "RequiredBy" || a.Key == "UpheldBy"):
		// With Enable=yes these make a host unit require ours: stopping
		// ours would stop it. Targets run nothing and may.
		ok = func(u string) bool { return strings.HasSuffix(u, ".target") }
	case execSection(a.Section) && a.Key == "Slice":
		if a.Value != "system.slice" {
			return "places the service in host slice " + a.Value
		}
		return ""
	default:
		return ""
	}
	if u := c.hostUnit(a.Value, ok); u != "" {
		return "names host unit " + u
	}
	return ""
}

// triggerRule covers what timers, paths and sockets start, and what they
// do to the host themselves.
func triggerRule(c *unitCheck, a unitfile.Assignment) string {
	switch {
	case a.Key == "Unit" && ((c.typ == ".timer" && a.Section == "Timer") || (c.typ == ".path" && a.Section == "Path")),
		a.Key == "Service" && c.typ == ".socket" && a.Section == "Socket":
		if u := c.hostUnit(a.Value, func(u string) bool { return slices.Contains(pullableTargets, u) }); u != "" {
			return "activates host unit " + u
		}
	case a.Key == "MakeDirectory" && c.typ == ".path" && a.Section == "Path" && isTrue(a.Value):
		return "creates directories on the host"
	case a.Key == "WakeSystem" && c.typ == ".timer" && a.Section == "Timer" && isTrue(a.Value):
		return "wakes the host from suspend"
	}
	return ""
}

// hostUnit returns the first unit in a dependency list that is neither the
// image's own nor accepted by ok.
func (c *unitCheck) hostUnit(val string, ok func(string) bool) string {
	words, err := unitfile.SplitWords(val)
	if err != nil {
		return val
	}
	for _, w := range words {
		if !c.imageUnit(w) && !ok(w) {
			return w
		}
	}
	return ""
}

// imageUnit reports whether a unit is the image's: one of its units, or an
// instance of one of its templates.
func (c *unitCheck) imageUnit(u string) bool {
	if slices.Contains(c.img.Units, u) {
		return true
	}
	at, dot := strings.IndexByte(u, '@'), strings.LastIndexByte(u, '.')
	return at > 0 && dot > at+1 && slices.Contains(c.img.Units, u[:at+1]+u[dot:])
}
