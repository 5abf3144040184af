// Package escapes is the escape corpus: one portable image per attempt of
// an image's unit to act outside the sandbox its profile sets, or to claim
// a name the host already holds (host.go: each such case carries the host it
// runs against), each with what proves the outcome on a real systemd.
//
// Two tests judge it. generator/escape_test.go runs the generator over the
// whole corpus under each profile and loads its output with the real PID 1
// of systemd 252 (and 257, in the trixie tree) in test mode (`systemd
// --test`): every attempt must be refused (the image skipped, its units not
// loaded) or have no effect (the settings PID 1 loads for the unit, by the
// Dump labels, are those of the baseline image's unit, or narrower). With
// the attempt's directive allowed (AllowDirectives=), the same dump shows the
// widening for the attempts marked Widens: the attempt is real, and the
// test would see it succeed. integration/escape_test.go does the same in a
// booted container with `systemctl show` for what the dump does not show
// (Exec prefixes, credentials, some [Unit] actions), and runs a few attempts
// to show what they do to the host when allowed; integration/escape_host_test.go
// drops the host cases onto the container's real holdings.
//
// The images are directory trees: the policy reads unit files, and how the
// image is packed does not change them. (Hostile image bytes are
// generator/hostile_test.go's subject.)
package escapes

import (
	"sort"
	"strings"
)

// Case is one escape attempt.
type Case struct {
	// Name is the image's name; "@N@" in Units and Files is replaced by it.
	Name string
	// Attempt says what the image tries.
	Attempt string
	// Units are the image's unit files (in /usr/lib/systemd/system) by
	// name; Files are further files in the image by path.
	Units, Files map[string]string
	// Directive is what AllowDirectives= must name to let the attempt
	// through ("" when nothing can).
	Directive string
	// Reason is part of the skip reason when the image is refused.
	Reason string
	// Profiles are the profiles it is judged under (nil: default,
	// nonetwork and strict).
	Profiles []string
	// Refused are the profiles under which it must be refused; under the
	// others of Profiles it must be refused or have no effect.
	Refused []string
	// Dump are the labels in `systemd --test` output that show the attempt
	// (per unit, compared with the baseline image's unit of the same type).
	Dump []string
	// Show are the `systemctl show` properties that show it.
	Show []string
	// Widens: with Directive allowed, PID 1 loads the widening (the Dump or
	// Show values differ from the baseline's) under every profile in
	// WidensUnder, which defaults to Refused, or to every judged profile
	// when nothing is refused (lists the generator narrows).
	Widens      bool
	WidensUnder []string
	// Want are dump lines ("Label: value") PID 1 must load for the unit.
	Want []string
	// Since is the first systemd version that knows the attempt's
	// directive (older ones ignore it; it must still be refused).
	Since int
	// ImagePath, when set, is where the image really lies; the search
	// directory holds a symlink to it.
	ImagePath string
	// Settings are further lines of the image's [Portable] section
	// ("Enable=yes").
	Settings string

	// Host is what the host already holds, by path below its root ("@N@"
	// expanded): unit files, alias symlinks, directories, sockets. Entries
	// below var/lib/portables/ are further images. The tests build every
	// case's host into one root, so each case uses names of its own.
	Host map[string]HostEntry
	// Accounts are host users, each with a group of its name, in the
	// host's /etc/passwd and /etc/group.
	Accounts []string
	// HostUnits are host units PID 1 must load exactly as it does without
	// the generator's output: the image may not change them (an alias's
	// drop-ins applied to the host's unit, an instance replacing the host
	// template's).
	HostUnits []string
	// Holders: the skip line must name one of them, the host's holder of
	// what the image claims (Reason then names the claim).
	Holders []string
	// LoadState is how PID 1 must load the case's units when the image
	// attaches ("loaded" when empty).
	LoadState string
	// Notice is part of a notice the image's report must carry.
	Notice string
	// Others are units of further images (from Host) with dump lines
	// ("Label: value") PID 1 must load for them: the case may not take
	// them away.
	Others map[string][]string
}

// HostEntry is one thing the host holds: a file (Content), a symlink (Link),
// a directory (Dir) or a bound unix socket (Socket).
type HostEntry struct {
	Content, Link string
	Dir, Socket   bool
}

func file(content string) HostEntry { return HostEntry{Content: content} }
func link(target string) HostEntry  { return HostEntry{Link: target} }
func dir() HostEntry                { return HostEntry{Dir: true} }
func socket() HostEntry             { return HostEntry{Socket: true} }

// HostHeld reports whether the case is about what the host holds (not only
// about further images).
func (c Case) HostHeld() bool {
	if len(c.Accounts) > 0 {
		return true
	}
	for p := range c.Host {
		if !strings.HasPrefix(p, "var/lib/portables/") {
			return true
		}
	}
	return false
}

// Judged are the confining profiles.
var Judged = []string{"default", "nonetwork", "strict"}

// ProfilesOf returns the profiles a case is judged under.
func (c Case) ProfilesOf() []string {
	if c.Profiles != nil {
		return c.Profiles
	}
	return Judged
}

// WideningProfiles returns the profiles under which the attempt, allowed,
// must show in what PID 1 loads.
func (c Case) WideningProfiles() []string {
	switch {
	case !c.Widens:
		return nil
	case c.WidensUnder != nil:
		return c.WidensUnder
	case len(c.Refused) > 0:
		return c.Refused
	}
	return c.ProfilesOf()
}

// Expand replaces @N@ with the case's name.
func (c Case) Expand(s string) string { return strings.ReplaceAll(s, "@N@", c.Name) }

// UnitNames returns the case's unit names, expanded and sorted.
func (c Case) UnitNames() []string {
	var out []string
	for n := range c.Units {
		out = append(out, c.Expand(n))
	}
	sort.Strings(out)
	return out
}

// LoadableUnits are UnitNames without templates, which PID 1 loads only as
// instances.
func (c Case) LoadableUnits() []string {
	var out []string
	for _, n := range c.UnitNames() {
		if !strings.Contains(n, "@.") {
			out = append(out, n)
		}
	}
	return out
}

// Baseline is the benign image every case's units are compared with: the
// same units without the attempt.
const Baseline = "base"

// BaselineCase returns the baseline image as a Case.
func BaselineCase() Case {
	u := map[string]string{}
	for k, v := range svc("", "") {
		u[k] = v
	}
	for k, v := range sock("") {
		u[k] = v
	}
	u["@N@.timer"] = timerBase
	u["@N@.path"] = pathBase
	return Case{Name: Baseline, Units: u}
}

const serviceHead = "[Unit]\nDescription=escape corpus @N@\n"
const serviceBody = "\n[Service]\nExecStart=/usr/bin/@N@-daemon\nStateDirectory=@N@\n"

// svc is the baseline service with lines added to [Unit] and [Service].
func svc(unit, service string) map[string]string {
	return map[string]string{"@N@.service": serviceHead + unit + serviceBody + service}
}

// svcRaw is a service file written out whole.
func svcRaw(content string) map[string]string { return map[string]string{"@N@.service": content} }

// sock is the baseline socket (and its service) with lines added to
// [Socket].
func sock(socket string) map[string]string {
	u := svc("", "")
	u["@N@.socket"] = "[Socket]\nListenStream=/run/@N@/@N@.sock\n" + socket
	return u
}

// withHelper adds the image's own @N@-helper.service.
func withHelper(u map[string]string) map[string]string {
	u["@N@-helper.service"] = "[Service]\nExecStart=/usr/bin/@N@-daemon\nStateDirectory=@N@\n"
	return u
}

const timerBase = "[Timer]\nOnCalendar=daily\n"
const pathBase = "[Path]\nPathExists=/run/@N@/trigger\n"

func timer(extra string) map[string]string {
	u := svc("", "")
	u["@N@.timer"] = timerBase + extra
	return u
}

func pathUnit(extra string) map[string]string {
	u := svc("", "")
	u["@N@.path"] = pathBase + extra
	return u
}

var (
	all     = Judged
	offline = []string{"nonetwork", "strict"}
)

// Cases is the corpus: the attempts to act outside the sandbox (below),
// then those to claim what the host holds (host.go).
var Cases = append(directiveCases, hostCases...)

// directiveCases are refused or narrowed by the policy.
var directiveCases = []Case{
	// Commands outside the sandbox. The dump prints no Exec flags:
	// `systemctl show -p ExecStartPreEx` does.
	{Name: "exec-plus", Attempt: "ExecStartPre=+ runs a command as root without the sandbox's namespaces",
		Units: svc("", "ExecStartPre=+/usr/bin/@N@-daemon --oneshot\n"), Directive: "ExecStartPre", Refused: all,
		Dump: []string{"ExecStartPre"}, Show: []string{"ExecStartPreEx"}, Widens: true},
	{Name: "exec-bang", Attempt: "ExecStartPost=! skips the user switch",
		Units: svc("", "ExecStartPost=!/bin/true\n"), Directive: "ExecStartPost", Refused: all,
		Show: []string{"ExecStartPostEx"}, Widens: true},
	{Name: "exec-bangbang", Attempt: "ExecStopPost=!! skips the user switch and ambient-capability fallback",
		Units: svc("", "ExecStopPost=!!/bin/true\n"), Directive: "ExecStopPost", Refused: all,
		Show: []string{"ExecStopPostEx"}, Widens: true},
	{Name: "exec-semicolon", Attempt: "a '+' command hidden after a ';' separator",
		Units: svc("", "ExecStartPre=/bin/true ; +/bin/touch /etc/escape-semicolon\n"), Directive: "ExecStartPre", Refused: all,
		Dump: []string{"ExecStartPre"}, Show: []string{"ExecStartPreEx"}, Widens: true},
	// PID 1 C-unescapes a command's first word before it reads the prefix
	// characters: \x2b is a '+', \041 a '!'.
	{Name: "exec-escaped-plus", Attempt: "ExecStartPre=\\x2b...: a '+' written as an escape",
		Units: svc("", "ExecStartPre=\\x2b/usr/bin/@N@-daemon --oneshot\n"), Directive: "ExecStartPre", Refused: all,
		Dump: []string{"ExecStartPre"}, Show: []string{"ExecStartPreEx"}, Widens: true},
	{Name: "exec-escaped-bang", Attempt: "ExecStartPost=\\041...: a '!' written as an octal escape, after a '-'",
		Units: svc("", "ExecStartPost=-\\041/bin/true\n"), Directive: "ExecStartPost", Refused: all,
		Show: []string{"ExecStartPostEx"}, Widens: true},
	{Name: "perms-start-only", Attempt: "PermissionsStartOnly= runs the other commands unsandboxed",
		Units: svc("", "PermissionsStartOnly=yes\nExecStartPre=/bin/true\n"), Directive: "PermissionsStartOnly", Refused: all,
		Dump: []string{"PermissionsStartOnly"}, Widens: true},
	{Name: "rootdir-start-only", Attempt: "RootDirectoryStartOnly= runs the other commands on the host's file system",
		Units: svc("", "RootDirectoryStartOnly=yes\nExecStartPre=/bin/true\n"), Directive: "RootDirectoryStartOnly", Refused: all,
		Dump: []string{"RootDirectoryStartOnly"}, Widens: true},

	// Identities.
	{Name: "user-root", Attempt: "User=root", Units: svc("", "User=root\n"), Directive: "User", Refused: all,
		Dump: []string{"User"}, Widens: true},
	{Name: "group-root", Attempt: "Group=0", Units: svc("", "Group=0\n"), Directive: "Group", Refused: all,
		Dump: []string{"Group"}, Widens: true},
	{Name: "user-host", Attempt: "User= a static host account, which DynamicUser= then reuses",
		Units: svc("", "User=messagebus\n"), Directive: "User", Refused: all, Dump: []string{"User"}, Widens: true},
	{Name: "groups-host", Attempt: "SupplementaryGroups=disk",
		Units: svc("", "SupplementaryGroups=disk\n"), Directive: "SupplementaryGroups", Refused: all,
		Dump: []string{"SupplementaryGroups"}, Widens: true},

	// Protections turned off. The profile's drop-in comes after the unit,
	// so systemd's last-wins keeps the profile's value: the policy lets
	// them through (no false positives, issue 12), and PID 1 must load the
	// baseline's value.
	{Name: "privateusers-off", Attempt: "PrivateUsers=no", Units: svc("", "PrivateUsers=no\n"), Directive: "PrivateUsers",
		Dump: []string{"PrivateUsers"}},
	{Name: "privateusers-identity", Attempt: "PrivateUsers=identity (257: the first 65536 host IDs mapped)",
		Units: svc("", "PrivateUsers=identity\n"), Dump: []string{"PrivateUsers"}, Since: 257},
	{Name: "dynamicuser-off", Attempt: "DynamicUser=no", Units: svc("", "DynamicUser=no\n"), Directive: "DynamicUser",
		Dump: []string{"DynamicUser", "User"}},
	{Name: "privatenetwork-off", Attempt: "PrivateNetwork=no", Units: svc("", "PrivateNetwork=no\n"), Directive: "PrivateNetwork",
		Dump: []string{"PrivateNetwork"}},
	{Name: "privatedevices-off", Attempt: "PrivateDevices=no", Units: svc("", "PrivateDevices=no\n"), Directive: "PrivateDevices",
		Dump: []string{"PrivateDevices", "DevicePolicy", "DeviceAllow"}},
	{Name: "privatetmp-off", Attempt: "PrivateTmp=no", Units: svc("", "PrivateTmp=no\n"), Directive: "PrivateTmp",
		Dump: []string{"PrivateTmp"}},
	{Name: "protectsystem-full", Attempt: "ProtectSystem=full", Units: svc("", "ProtectSystem=full\n"), Directive: "ProtectSystem",
		Dump: []string{"ProtectSystem"}},
	{Name: "protecthome-ro", Attempt: "ProtectHome=read-only", Units: svc("", "ProtectHome=read-only\n"), Directive: "ProtectHome",
		Dump: []string{"ProtectHome"}},
	{Name: "nonewprivs-off", Attempt: "NoNewPrivileges=no", Units: svc("", "NoNewPrivileges=no\n"), Directive: "NoNewPrivileges",
		Show: []string{"NoNewPrivileges"}},
	{Name: "keyring-shared", Attempt: "KeyringMode=shared", Units: svc("", "KeyringMode=shared\n"), Directive: "KeyringMode",
		Dump: []string{"KeyringMode"}},
	{Name: "protectproc-default", Attempt: "ProtectProc=default", Units: svc("", "ProtectProc=default\n"), Directive: "ProtectProc",
		Dump: []string{"ProtectProc"}},
	{Name: "restrict-namespaces", Attempt: "RestrictNamespaces=net user (the profile's yes resets the list)",
		Units: svc("", "RestrictNamespaces=net user\n"), Dump: []string{"RestrictNamespaces"}},
	{Name: "umask", Attempt: "UMask=0000", Units: svc("", "UMask=0000\n"), Dump: []string{"UMask"}},
	{Name: "tasks-max", Attempt: "TasksMax=infinity", Units: svc("", "TasksMax=infinity\n"), Dump: []string{"TasksMax"}},
	{Name: "mountflags-shared", Attempt: "MountFlags=shared propagates mounts to the host",
		Units: svc("", "MountFlags=shared\n"), Directive: "MountFlags", Refused: all, Show: []string{"MountFlags"}, Widens: true},
	{Name: "delegate", Attempt: "Delegate=yes hands over a writable cgroup subtree",
		Units: svc("", "Delegate=yes\n"), Directive: "Delegate", Refused: all, Dump: []string{"Delegate"}, Widens: true},
	{Name: "delegate-empty", Attempt: "Delegate= empty, which systemd reads as yes (no controllers)",
		Units: svc("", "Delegate=\n"), Directive: "Delegate", Refused: all, Dump: []string{"Delegate"}, Widens: true},

	// Lists systemd merges: narrowed to the intersection.
	{Name: "caps-widening", Attempt: "CapabilityBoundingSet= adding CAP_SYS_ADMIN",
		Units: svc("", "CapabilityBoundingSet=CAP_SYS_ADMIN CAP_NET_BIND_SERVICE\n"), Directive: "CapabilityBoundingSet",
		Dump: []string{"CapabilityBoundingSet"}, Widens: true, WidensUnder: []string{"default", "nonetwork"}}, // strict's empty line resets
	{Name: "syscalls-widening", Attempt: "SystemCallFilter= adding @mount @privileged",
		Units: svc("", "SystemCallFilter=@system-service @mount @privileged\n"), Directive: "SystemCallFilter",
		Dump: []string{"SystemCallFilter"}, Widens: true},
	{Name: "families-widening", Attempt: "RestrictAddressFamilies= adding AF_PACKET",
		Units: svc("", "RestrictAddressFamilies=AF_INET AF_PACKET\n"), Directive: "RestrictAddressFamilies",
		Show: []string{"RestrictAddressFamilies"}, Widens: true}, // the dump does not print families
	{Name: "archs-widening", Attempt: "SystemCallArchitectures= adding x86 (socketcall() escapes RestrictAddressFamilies=)",
		Units: svc("", "SystemCallArchitectures=native x86\n"), Directive: "SystemCallArchitectures",
		Dump: []string{"SystemCallArchitectures"}, Widens: true},
	{Name: "ambient-caps", Attempt: "AmbientCapabilities=CAP_SYS_ADMIN",
		Units: svc("", "AmbientCapabilities=CAP_SYS_ADMIN\n"), Directive: "AmbientCapabilities", Refused: all,
		Show: []string{"AmbientCapabilities"}, Widens: true, WidensUnder: []string{"default", "nonetwork"}}, // strict's empty line resets
	{Name: "ambient-caps-inverted", Attempt: "AmbientCapabilities=~CAP_KILL: every capability but one, the bounding set's included",
		Units: svc("", "AmbientCapabilities=~CAP_KILL\n"), Directive: "AmbientCapabilities", Refused: []string{"default", "nonetwork"},
		Dump: []string{"AmbientCapabilities"}, Show: []string{"AmbientCapabilities"}, Widens: true, WidensUnder: []string{"default", "nonetwork"}},

	// Host objects PID 1 opens, binds, creates or joins for the service.
	{Name: "root-image", Attempt: "RootImage= another image", Units: svc("", "RootImage=/var/lib/machines/host.raw\n"),
		Directive: "RootImage", Refused: all, Dump: []string{"RootImage"}, Widens: true},
	{Name: "mount-images", Attempt: "MountImages= a host image", Units: svc("", "MountImages=/var/lib/machines/host.raw:/mnt\n"),
		Directive: "MountImages", Refused: all, Dump: []string{"MountImages"}, Widens: true},
	{Name: "extension-images", Attempt: "ExtensionImages= a host image", Units: svc("", "ExtensionImages=/var/lib/extensions/host.raw\n"),
		Directive: "ExtensionImages", Refused: all, Dump: []string{"ExtensionImages"}, Widens: true},
	{Name: "bind-paths", Attempt: "BindPaths=/etc", Units: svc("", "BindPaths=/etc:/mnt/etc\n"),
		Directive: "BindPaths", Refused: all, Dump: []string{"BindPaths"}, Widens: true},
	{Name: "bind-ro-paths", Attempt: "BindReadOnlyPaths=/etc/shadow", Units: svc("", "BindReadOnlyPaths=/etc/shadow\n"),
		Directive: "BindReadOnlyPaths", Refused: all, Dump: []string{"BindReadOnlyPaths"}, Widens: true},
	{Name: "load-credential", Attempt: "LoadCredential= the host's /etc/shadow", Units: svc("", "LoadCredential=shadow:/etc/shadow\n"),
		Directive: "LoadCredential", Refused: all, Show: []string{"LoadCredential"}, Widens: true},
	{Name: "set-credential-encrypted", Attempt: "SetCredentialEncrypted= decrypted with the host's key",
		Units:     svc("", "SetCredentialEncrypted=k:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f\n"),
		Directive: "SetCredentialEncrypted", Refused: all, Show: []string{"SetCredentialEncrypted"}, Widens: true},
	{Name: "environment-file", Attempt: "EnvironmentFile=/etc/shadow", Units: svc("", "EnvironmentFile=/etc/shadow\n"),
		Directive: "EnvironmentFile", Refused: all, Dump: []string{"EnvironmentFile"}, Widens: true},
	{Name: "open-file", Attempt: "OpenFile=/etc/shadow (257)", Units: svc("", "OpenFile=/etc/shadow\n"),
		Directive: "OpenFile", Refused: all, Dump: []string{"Open File"}, Widens: true, Since: 253},
	{Name: "stdin-file", Attempt: "StandardInput=file:/etc/shadow", Units: svc("", "StandardInput=file:/etc/shadow\n"),
		Directive: "StandardInput", Refused: all, Dump: []string{"StandardInput", "StandardInputFile"}, Widens: true},
	{Name: "stdout-file", Attempt: "StandardOutput=file: a host file", Units: svc("", "StandardOutput=file:/etc/escape-stdout\n"),
		Directive: "StandardOutput", Refused: all, Dump: []string{"StandardOutput", "StandardOutputFile"}, Widens: true},
	{Name: "stdout-append", Attempt: "StandardOutput=append: a host file (wrote /etc under systemd's default profile)",
		Units: svc("", "StandardOutput=append:/etc/escape-append\n"), Directive: "StandardOutput", Refused: all,
		Dump: []string{"StandardOutput", "StandardOutputFileToAppend"}, Widens: true},
	{Name: "stderr-truncate", Attempt: "StandardError=truncate: a host file", Units: svc("", "StandardError=truncate:/etc/escape-stderr\n"),
		Directive: "StandardError", Refused: all, Dump: []string{"StandardError", "StandardErrorFileToTruncate"}, Widens: true},
	{Name: "stdin-tty", Attempt: "StandardInput=tty: the host's console", Units: svc("", "StandardInput=tty\n"),
		Directive: "StandardInput", Refused: all, Dump: []string{"StandardInput"}, Widens: true},
	{Name: "tty-path", Attempt: "TTYPath= a host terminal", Units: svc("", "TTYPath=/dev/tty1\n"),
		Directive: "TTYPath", Refused: all, Show: []string{"TTYPath"}, Widens: true},
	{Name: "tty-reset", Attempt: "TTYVTDisallocate= clears the host's console", Units: svc("", "TTYVTDisallocate=yes\n"),
		Directive: "TTYVTDisallocate", Refused: all, Show: []string{"TTYVTDisallocate"}, Widens: true},
	{Name: "utmp", Attempt: "UtmpIdentifier= writes the host's login records", Units: svc("", "UtmpIdentifier=tty1\n"),
		Directive: "UtmpIdentifier", Refused: all, Dump: []string{"UtmpIdentifier"}, Widens: true},
	{Name: "pass-environment", Attempt: "PassEnvironment= PID 1's environment", Units: svc("", "PassEnvironment=PATH\n"),
		Directive: "PassEnvironment", Refused: all, Dump: []string{"PassEnvironment"}, Widens: true},
	{Name: "device-allow", Attempt: "DeviceAllow=/dev/sda", Units: svc("", "DeviceAllow=/dev/sda rw\n"),
		Directive: "DeviceAllow", Refused: all, Dump: []string{"DeviceAllow"}, Widens: true},
	{Name: "ip-allow", Attempt: "IPAddressAllow=any (beats IPAddressDeny=any)", Units: svc("", "IPAddressAllow=any\n"),
		Directive: "IPAddressAllow", Refused: all, Show: []string{"IPAddressAllow"}, Widens: true},
	{Name: "netns-path", Attempt: "NetworkNamespacePath= the host's", Units: svc("", "NetworkNamespacePath=/proc/1/ns/net\n"),
		Directive: "NetworkNamespacePath", Refused: all, Dump: []string{"NetworkNamespacePath"}, Widens: true},
	{Name: "joins-namespace", Attempt: "JoinsNamespaceOf= a host unit", Units: svc("JoinsNamespaceOf=systemd-resolved.service\n", ""),
		Directive: "JoinsNamespaceOf", Refused: all, Dump: []string{"JoinsNamespaceOf"}, Widens: true},
	{Name: "state-dir-host", Attempt: "StateDirectory= a host directory, which PID 1 chowns to the service",
		Units: svc("", "StateDirectory=dpkg\n"), Directive: "StateDirectory", Refused: all, Dump: []string{"StateDirectory"}, Widens: true},
	{Name: "runtime-dir-host", Attempt: "RuntimeDirectory=systemd (removed again when the service stops)",
		Units: svc("", "RuntimeDirectory=systemd\n"), Directive: "RuntimeDirectory", Refused: all, Dump: []string{"RuntimeDirectory"}, Widens: true},
	{Name: "x64bus", Attempt: "RuntimeDirectory=\\x64bus: the image's own name as written, /run/dbus as PID 1 reads it",
		Units: svc("", "RuntimeDirectory=\\x64bus\n"), Directive: "RuntimeDirectory", Refused: all, Dump: []string{"RuntimeDirectory"}, Widens: true},
	{Name: "logs-dir-host", Attempt: "LogsDirectory=@N@:journal (a symlink named after a host directory)",
		Units: svc("", "LogsDirectory=@N@:journal\n"), Directive: "LogsDirectory", Refused: all, Dump: []string{"LogsDirectory"}, Widens: true},
	{Name: "config-dir-host", Attempt: "ConfigurationDirectory=ssh", Units: svc("", "ConfigurationDirectory=ssh\n"),
		Directive: "ConfigurationDirectory", Refused: all, Dump: []string{"ConfigurationDirectory"}, Widens: true},
	{Name: "pidfile-host", Attempt: "PIDFile= of a host daemon: PID 1 adopts (and on stop kills) that process",
		Units: svc("", "Type=forking\nPIDFile=/run/sshd.pid\n"), Directive: "PIDFile", Refused: all, Dump: []string{"PIDFile"}, Widens: true},
	{Name: "sockets-host", Attempt: "Sockets= a host unit's listening sockets", Units: svc("", "Sockets=systemd-journald.socket\n"),
		Directive: "Sockets", Refused: all, Dump: []string{"TriggeredBy"}, Widens: true},
	{Name: "slice-host", Attempt: "Slice= outside system.slice", Units: svc("", "Slice=user.slice\n"),
		Directive: "Slice", Refused: all, Dump: []string{"Slice"}, Widens: true},
	{Name: "cpu-fifo", Attempt: "CPUSchedulingPolicy=fifo (PID 1 sets it before RestrictRealtime= applies)",
		Units: svc("", "CPUSchedulingPolicy=fifo\nCPUSchedulingPriority=99\n"), Directive: "CPUSchedulingPolicy", Refused: all,
		Dump: []string{"CPUSchedulingPolicy"}, Widens: true},
	{Name: "cpu-rr-number", Attempt: "CPUSchedulingPolicy=02: SCHED_RR by its number",
		Units: svc("", "CPUSchedulingPolicy=02\nCPUSchedulingPriority=99\n"), Directive: "CPUSchedulingPolicy", Refused: all,
		Dump: []string{"CPUSchedulingPolicy"}, Widens: true},
	{Name: "io-realtime-number", Attempt: "IOSchedulingClass=0x1: the real-time class by its number",
		Units: svc("", "IOSchedulingClass=0x1\n"), Directive: "IOSchedulingClass", Refused: all,
		Dump: []string{"IOSchedulingClass"}, Widens: true},
	{Name: "nice", Attempt: "Nice=-20", Units: svc("", "Nice=-20\n"), Directive: "Nice", Refused: all, Dump: []string{"Nice"}, Widens: true},
	{Name: "oom-shield", Attempt: "OOMScoreAdjust=-1000", Units: svc("", "OOMScoreAdjust=-1000\n"), Directive: "OOMScoreAdjust",
		Refused: all, Dump: []string{"OOMScoreAdjust"}, Widens: true},
	{Name: "selinux", Attempt: "SELinuxContext= an unconfined label", Units: svc("", "SELinuxContext=system_u:system_r:unconfined_t:s0\n"),
		Directive: "SELinuxContext", Refused: all, Show: []string{"SELinuxContext"}, Widens: true},

	// The host itself and its units.
	{Name: "failure-action", Attempt: "FailureAction=reboot-force", Units: svc("FailureAction=reboot-force\n", ""),
		Directive: "FailureAction", Refused: all, Dump: []string{"Failure Action"}, Widens: true},
	{Name: "success-action", Attempt: "SuccessAction=poweroff", Units: svc("SuccessAction=poweroff\n", ""),
		Directive: "SuccessAction", Refused: all, Dump: []string{"Success Action"}, Widens: true},
	{Name: "start-limit-action", Attempt: "StartLimitAction=reboot", Units: svc("StartLimitAction=reboot\n", ""),
		Directive: "StartLimitAction", Refused: all, Show: []string{"StartLimitAction"}, Widens: true},
	{Name: "conflicts-host", Attempt: "Conflicts= a host service", Units: svc("Conflicts=ssh.service\n", ""),
		Directive: "Conflicts", Refused: all, Dump: []string{"Conflicts"}, Widens: true},
	{Name: "before-host", Attempt: "Before= a host service", Units: svc("Before=ssh.service\n", ""),
		Directive: "Before", Refused: all, Dump: []string{"Before"}, Widens: true},
	{Name: "wants-host", Attempt: "Wants= a host service", Units: svc("Wants=getty@tty1.service\n", ""),
		Directive: "Wants", Refused: all, Dump: []string{"Wants"}, Widens: true},
	{Name: "wants-shutdown", Attempt: "Wants=shutdown.target (stops every host service)", Units: svc("Wants=shutdown.target\n", ""),
		Directive: "Wants", Refused: all, Dump: []string{"Wants"}, Widens: true},
	{Name: "onfailure-host", Attempt: "OnFailure=reboot.target", Units: svc("OnFailure=reboot.target\n", ""),
		Directive: "OnFailure", Refused: all, Dump: []string{"OnFailure"}, Widens: true},
	{Name: "isolate-on-failure", Attempt: "OnFailureJobMode=isolate: the image's failure stops every other host unit",
		Units: withHelper(svc("OnFailure=@N@-helper.service\nOnFailureJobMode=isolate\n", "")), Directive: "OnFailureJobMode", Refused: all,
		Dump: []string{"OnFailureJobMode"}, Widens: true},
	{Name: "refuse-manual-stop", Attempt: "RefuseManualStop=yes: the admin cannot stop it", Units: svc("RefuseManualStop=yes\n", ""),
		Directive: "RefuseManualStop", Refused: all, Dump: []string{"RefuseManualStop"}, Widens: true},
	{Name: "ignore-on-isolate", Attempt: "IgnoreOnIsolate=yes: it keeps running in rescue mode", Units: svc("IgnoreOnIsolate=yes\n", ""),
		Directive: "IgnoreOnIsolate", Refused: all, Dump: []string{"IgnoreOnIsolate"}, Widens: true},
	{Name: "survive-final-kill", Attempt: "SurviveFinalKillSignal=yes: it outlives the host's shutdown", Units: svc("SurviveFinalKillSignal=yes\n", ""),
		Directive: "SurviveFinalKillSignal", Refused: all, Dump: []string{"SurviveFinalKillSignal"}, Widens: true, Since: 255},
	{Name: "kill-mode-none", Attempt: "KillMode=none: its processes outlive a stop", Units: svc("", "KillMode=none\n"),
		Directive: "KillMode", Refused: all, Dump: []string{"KillMode"}, Widens: true},
	// SendSIGKILL=no is no escape: SIGTERM still reaches every process,
	// and one that ignores it keeps only its sandbox (issue 12: not
	// refused). KillMode=none, where nothing is told to stop, still is.
	{Name: "nft-set", Attempt: "NFTSet= puts the service into a host firewall set", Units: svc("", "NFTSet=cgroup:inet:filter:allowed\n"),
		Directive: "NFTSet", Refused: all, Show: []string{"NFTSet"}, Widens: true, Since: 254},
	{Name: "oomd-avoid", Attempt: "ManagedOOMPreference=avoid shields it from systemd-oomd", Units: svc("", "ManagedOOMPreference=avoid\n"),
		Directive: "ManagedOOMPreference", Refused: all, Dump: []string{"ManagedOOMPreference"}, Widens: true},
	{Name: "stop-propagation", Attempt: "PropagatesStopTo= a host service", Units: svc("PropagatesStopTo=ssh.service\n", ""),
		Directive: "PropagatesStopTo", Refused: all, Dump: []string{"PropagatesStopTo"}, Widens: true},

	// .socket, .timer and .path units: PID 1 acts for them on the host.
	{Name: "socket-exec", Attempt: ".socket ExecStartPre= runs on the host, unsandboxed",
		Units: sock("ExecStartPre=/bin/touch /etc/escape-socket-exec\n"), Directive: "ExecStartPre", Refused: all,
		Dump: []string{"ExecStartPre"}, Widens: true},
	{Name: "socket-exec-stop-pre", Attempt: ".socket ExecStopPre= runs on the host, unsandboxed",
		Units: sock("ExecStopPre=/bin/true\n"), Directive: "ExecStopPre", Refused: all, Dump: []string{"ExecStopPre"}, Widens: true},
	{Name: "socket-symlinks", Attempt: ".socket Symlinks= in the host's /etc", Units: sock("Symlinks=/etc/escape-symlink\n"),
		Directive: "Symlinks", Refused: all, Show: []string{"Symlinks"}, Widens: true},
	{Name: "socket-host-path", Attempt: "ListenStream= on a host path (PID 1 unlinks what is there first)",
		Units: sock("ListenStream=/etc/escape.sock\n"), Directive: "ListenStream", Refused: all, Dump: []string{"ListenStream"}, Widens: true},
	{Name: "socket-fifo", Attempt: "ListenFIFO= a FIFO in /etc/profile.d, read by every login shell",
		Units: sock("ListenFIFO=/etc/profile.d/zz-escape.sh\n"), Directive: "ListenFIFO", Refused: all, Dump: []string{"ListenFIFO"}, Widens: true},
	{Name: "socket-special", Attempt: "ListenSpecial= the host's console: PID 1 opens it for the service",
		Units: sock("ListenSpecial=/dev/console\n"), Directive: "ListenSpecial", Refused: all, Dump: []string{"ListenSpecial"}, Widens: true},
	{Name: "socket-netlink", Attempt: "ListenNetlink= a host netlink socket", Units: sock("ListenNetlink=kobject-uevent 1\n"),
		Directive: "ListenNetlink", Refused: all, Dump: []string{"ListenNetlink"}, Widens: true},
	{Name: "socket-mqueue", Attempt: "ListenMessageQueue= a host message queue", Units: sock("ListenMessageQueue=/socket-mqueue\n"),
		Directive: "ListenMessageQueue", Refused: all, Dump: []string{"ListenMessageQueue"}, Widens: true},
	{Name: "socket-network", Attempt: "ListenStream= an IP port under a profile without network",
		Units: sock("ListenStream=0.0.0.0:8080\n"), Directive: "ListenStream", Profiles: offline, Refused: offline,
		Dump: []string{"ListenStream"}, Widens: true},
	{Name: "socket-privileged-port", Attempt: "ListenStream=22: PID 1 binds it as root before the host's sshd starts",
		Units: sock("ListenStream=22\n"), Directive: "ListenStream", Profiles: []string{"default"}, Refused: []string{"default"},
		Dump: []string{"ListenStream"}, Widens: true},
	// systemd reads a port as strtoul with base 0 does.
	{Name: "socket-hex-port", Attempt: "ListenDatagram=0x35: port 53, the host's DNS server's, written in hex",
		Units: sock("ListenDatagram=0x35\n"), Directive: "ListenDatagram", Profiles: []string{"default"}, Refused: []string{"default"},
		Dump: []string{"ListenDatagram"}, Widens: true},
	{Name: "socket-signed-port", Attempt: "ListenStream=[::]:+22",
		Units: sock("ListenStream=[::]:+22\n"), Directive: "ListenStream", Profiles: []string{"default"}, Refused: []string{"default"},
		Dump: []string{"ListenStream"}, Widens: true},
	{Name: "socket-vsock-port", Attempt: "ListenStream=vsock::22: the port systemd-ssh-generator gives sshd in a VM",
		Units: sock("ListenStream=vsock::22\n"), Directive: "ListenStream", Profiles: []string{"default"}, Refused: []string{"default"},
		Dump: []string{"ListenStream"}, Widens: true},
	{Name: "socket-reuse-port", Attempt: "ReusePort=yes shares a host daemon's SO_REUSEPORT port",
		Units: sock("ReusePort=yes\n"), Directive: "ReusePort", Refused: all, Show: []string{"ReusePort"}, Widens: true},
	{Name: "socket-host-service", Attempt: ".socket Service= a host service", Units: sock("Service=ssh.service\n"),
		Directive: "Service", Refused: all, Dump: []string{"Triggers"}, Widens: true},
	{Name: "socket-transparent", Attempt: "Transparent=yes (IP_TRANSPARENT needs CAP_NET_ADMIN)",
		Units: sock("Transparent=yes\n"), Directive: "Transparent", Refused: all, Dump: []string{"Transparent"}, Widens: true},
	{Name: "condition-host-glob", Attempt: "ConditionPathExistsGlob=/home/*/.ssh/id_*: PID 1 tells the image which users have keys",
		Units: svc("ConditionPathExistsGlob=|!/home/*/.ssh/id_*\n", ""), Directive: "ConditionPathExistsGlob", Refused: all,
		Dump: []string{"ConditionPathExistsGlob"}, Widens: true},
	{Name: "assert-host-path", Attempt: "AssertFileNotEmpty=/etc/shadow-",
		Units: svc("AssertFileNotEmpty=/etc/shadow-\n", ""), Directive: "AssertFileNotEmpty", Refused: all,
		Dump: []string{"AssertFileNotEmpty"}, Widens: true},
	{Name: "mounts-for-host", Attempt: "RequiresMountsFor=/media/backup: PID 1 mounts the admin's noauto backup disk",
		Units: svc("RequiresMountsFor=/media/backup\n", ""), Directive: "RequiresMountsFor", Refused: all,
		Dump: []string{"RequiresMountsFor"}, Widens: true},
	{Name: "bus-name-adopt", Attempt: "Type=forking BusName=org.freedesktop.DBus: PID 1 adopts the bus daemon as main process when the name changes hands",
		Units: svc("", "Type=forking\nBusName=org.freedesktop.DBus\nTimeoutStartSec=infinity\n"), Directive: "BusName", Refused: all,
		Dump: []string{"BusName"}, Widens: true},
	{Name: "path-mkdir", Attempt: ".path MakeDirectory= on the host", Units: pathUnit("MakeDirectory=yes\n"),
		Directive: "MakeDirectory", Refused: all, Show: []string{"MakeDirectory"}, Widens: true},
	{Name: "timer-host-unit", Attempt: ".timer Unit=reboot.target", Units: timer("Unit=reboot.target\n"),
		Directive: "Unit", Refused: all, Dump: []string{"Triggers"}, Widens: true},
	{Name: "timer-wake", Attempt: ".timer WakeSystem=yes", Units: timer("WakeSystem=yes\n"),
		Directive: "WakeSystem", Refused: all, Dump: []string{"WakeSystem"}, Widens: true},

	// Ranking above the host's services: the cgroup and rlimit forms of
	// Nice=-20 and OOMScoreAdjust=-1000.
	{Name: "cpu-weight", Attempt: "CPUWeight=10000 (a hundred times a host service's share)", Units: svc("", "CPUWeight=10000\n"),
		Directive: "CPUWeight", Refused: all, Dump: []string{"CPUWeight"}, Widens: true},
	{Name: "cpu-weight-hex", Attempt: "CPUWeight=0x2710 (systemd reads hex: 10000)", Units: svc("", "CPUWeight=0x2710\n"),
		Directive: "CPUWeight", Refused: all, Dump: []string{"CPUWeight"}, Widens: true},
	{Name: "startup-cpu-weight", Attempt: "StartupCPUWeight=10000 while the host boots", Units: svc("", "StartupCPUWeight=10000\n"),
		Directive: "StartupCPUWeight", Refused: all, Dump: []string{"StartupCPUWeight"}, Widens: true},
	{Name: "io-weight", Attempt: "IOWeight=10000", Units: svc("", "IOWeight=10000\n"),
		Directive: "IOWeight", Refused: all, Dump: []string{"IOWeight"}, Widens: true},
	{Name: "startup-io-weight", Attempt: "StartupIOWeight=10000", Units: svc("", "StartupIOWeight=10000\n"),
		Directive: "StartupIOWeight", Refused: all, Dump: []string{"StartupIOWeight"}, Widens: true},
	{Name: "cpu-shares", Attempt: "CPUShares=262144 (the cgroup v1 form, mapped onto CPUWeight=)", Units: svc("", "CPUShares=262144\n"),
		Directive: "CPUShares", Refused: all, Dump: []string{"CPUShares"}, Widens: true},
	{Name: "io-device-weight", Attempt: "IODeviceWeight= 10000 on one disk", Units: svc("", "IODeviceWeight=/dev/sda 10000\n"),
		Directive: "IODeviceWeight", Refused: all, Dump: []string{"IODeviceWeight"}, Widens: true},
	{Name: "memory-min", Attempt: "MemoryMin=infinity: the kernel reclaims every host service's memory first", Units: svc("", "MemoryMin=infinity\n"),
		Directive: "MemoryMin", Refused: all, Dump: []string{"MemoryMin"}, Widens: true},
	{Name: "memory-low", Attempt: "MemoryLow=infinity", Units: svc("", "MemoryLow=infinity\n"),
		Directive: "MemoryLow", Refused: all, Dump: []string{"MemoryLow"}, Widens: true},
	{Name: "startup-memory-low", Attempt: "StartupMemoryLow=infinity while the host boots (253)", Units: svc("", "StartupMemoryLow=infinity\n"),
		Directive: "StartupMemoryLow", Refused: all, Dump: []string{"StartupMemoryLow"}, Widens: true, Since: 253},
	{Name: "memlock", Attempt: "LimitMEMLOCK=infinity: the service may pin all of the host's memory", Units: svc("", "LimitMEMLOCK=infinity\n"),
		Directive: "LimitMEMLOCK", Refused: all, Dump: []string{"LimitMEMLOCK", "LimitMEMLOCKSoft"}, Widens: true},

	// Passing for another service in the journal.
	{Name: "log-namespace", Attempt: "LogNamespace= pulls in the host unit systemd-journald@host.socket", Units: svc("", "LogNamespace=host\n"),
		Directive: "LogNamespace", Refused: all, Dump: []string{"LogNamespace", "Requires"}, Widens: true},
	{Name: "log-extra-portable", Attempt: "LogExtraFields=PORTABLE= another image's name", Units: svc("", "LogExtraFields=PORTABLE=other.raw\n"),
		Directive: "LogExtraFields", Refused: all, Dump: []string{"LogExtraFields"}, Widens: true},
	{Name: "log-extra-identifier", Attempt: "LogExtraFields=SYSLOG_IDENTIFIER=sshd (journalctl -t sshd shows the image's lines)",
		Units: svc("", "LogExtraFields=SYSLOG_IDENTIFIER=sshd\n"), Directive: "LogExtraFields", Refused: all, Dump: []string{"LogExtraFields"}, Widens: true},
	{Name: "syslog-identifier", Attempt: "SyslogIdentifier=sshd", Units: svc("", "SyslogIdentifier=sshd\n"),
		Directive: "SyslogIdentifier", Refused: all, Show: []string{"SyslogIdentifier"}, Widens: true},

	// .path watches PID 1 keeps on host paths the sandbox hides.
	{Name: "path-changed-host", Attempt: "PathChanged=/etc/shadow: told when the host's passwords change", Units: pathUnit("PathChanged=/etc/shadow\n"),
		Directive: "PathChanged", Refused: all, Dump: []string{"PathChanged"}, Widens: true},
	{Name: "path-glob-home", Attempt: "PathExistsGlob=/home/*/.ssh/id_*: which users have keys", Units: pathUnit("PathExistsGlob=/home/*/.ssh/id_*\n"),
		Directive: "PathExistsGlob", Refused: all, Dump: []string{"PathExistsGlob"}, Widens: true},
	{Name: "path-glob-run", Attempt: "PathExistsGlob=/run/path-glob-run-*: a pattern past the image's own /run names", Units: pathUnit("PathExistsGlob=/run/@N@-*\n"),
		Directive: "PathExistsGlob", Refused: all, Dump: []string{"PathExistsGlob"}, Widens: true},
	{Name: "path-modified-host", Attempt: "PathModified=/etc/passwd", Units: pathUnit("PathModified=/etc/passwd\n"),
		Directive: "PathModified", Refused: all, Dump: []string{"PathModified"}, Widens: true},
	{Name: "path-exists-host", Attempt: "PathExists=/etc/nologin", Units: pathUnit("PathExists=/etc/nologin\n"),
		Directive: "PathExists", Refused: all, Dump: []string{"PathExists"}, Widens: true},
	{Name: "dir-not-empty-host", Attempt: "DirectoryNotEmpty=/var/spool/cron/crontabs: who has a crontab", Units: pathUnit("DirectoryNotEmpty=/var/spool/cron/crontabs\n"),
		Directive: "DirectoryNotEmpty", Refused: all, Dump: []string{"DirectoryNotEmpty"}, Widens: true},

	// What PID 1 reads as separate lines must be checked as such.
	{Name: "cr-line", Attempt: "a lone CR hides Conflicts= in Description=", Units: svc("Description=x\rConflicts=ssh.service\n", ""),
		Directive: "Conflicts", Refused: all, Dump: []string{"Conflicts"}, Widens: true},
	{Name: "nul-line", Attempt: "a NUL hides User= in Environment=", Units: svc("", "Environment=A=1\x00User=messagebus\n"),
		Directive: "User", Refused: all, Dump: []string{"User"}, Widens: true},
	{Name: "bom", Attempt: "a byte-order mark before [Unit]", Units: svcRaw("\xef\xbb\xbf" + serviceHead + "Conflicts=ssh.service\n" + serviceBody),
		Directive: "Conflicts", Refused: all, Dump: []string{"Conflicts"}, Widens: true},

	// The image's own drop-ins and links are not the image's units: the
	// generator copies unit files only.
	{Name: "image-dropin", Attempt: "a foo.service.d/ drop-in and a .wants link shipped in the image",
		Units: svc("", ""),
		Files: map[string]string{
			"usr/lib/systemd/system/@N@.service.d/50-escape.conf":  "[Service]\nUser=root\nPrivateUsers=no\nDynamicUser=no\nBindPaths=/etc\nExecStartPre=+/bin/true\n",
			"etc/systemd/system/@N@.service.d/50-escape.conf":      "[Service]\nCapabilityBoundingSet=CAP_SYS_ADMIN\n",
			"usr/lib/systemd/system/@N@.service.wants/ssh.service": "[Service]\nExecStart=/bin/false\n",
		},
		Dump: []string{"User", "PrivateUsers", "DynamicUser", "CapabilityBoundingSet", "DropIn Path"}},

	// Paths the generator writes.
	{Name: "percent-path", Attempt: "specifiers in the image's path (%n%H)", Units: svc("", ""),
		ImagePath: "/srv/%n%H/percent-path",
		Want:      []string{"RootDirectory: /srv/%n%H/percent-path", "Source Path: /srv/%n%H/percent-path"}},
	{Name: "newline-path", Attempt: "a newline in the image's path", Units: svc("", ""),
		ImagePath: "/srv/a\nRootDirectory=/\n/newline-path", Reason: "control characters", Refused: all},
}
