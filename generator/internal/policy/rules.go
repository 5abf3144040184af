package policy

import (
	"slices"
	"strconv"
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
	"github.com/portable-generator/portable-generator/internal/boolean"
)

// execSection reports whether a section carries an execution context:
// [Service], and [Socket] (for its own Exec lines).
func execSection(s string) bool { return s == "Service" || s == "Socket" }

// forbidden directives act on the host or replace the sandbox's root. when,
// if set, limits the refusal to some values.
var forbidden = map[string]struct {
	why  string
	when func(string) bool
}{
	"RootDirectory":           {why: "replaces the image root"},
	"RootImage":               {why: "replaces the image root"},
	"RootImageOptions":        {why: "changes how the image is mounted"},
	"RootVerity":              {why: "makes PID 1 read a host file as the image's verity data"},
	"RootHashSignature":       {why: "makes PID 1 read a host file", when: isPath},
	"RootEphemeral":           {why: "makes PID 1 copy the image on the host", when: isTrue},
	"RootDirectoryStartOnly":  {why: "runs the commands besides ExecStart= on the host's file system", when: isTrue},
	"MountImages":             {why: "mounts host images"},
	"ExtensionImages":         {why: "mounts host images"},
	"ExtensionDirectories":    {why: "mounts host directories"},
	"BindPaths":               {why: "binds host paths into the service"},
	"BindReadOnlyPaths":       {why: "binds host paths into the service"},
	"MountFlags":              {why: "propagates the service's mounts to the host", when: func(v string) bool { return v == "shared" }},
	"LoadCredential":          {why: "reads host files as credentials"},
	"LoadCredentialEncrypted": {why: "reads host files as credentials"},
	"ImportCredential":        {why: "imports host credentials"},
	"SetCredentialEncrypted":  {why: "decrypts with the host's credential key"},
	"EnvironmentFile":         {why: "makes PID 1 read a host file"},
	"OpenFile":                {why: "makes PID 1 open a host file and hand it to the service"},
	"PassEnvironment":         {why: "passes PID 1's environment to the service"},
	"DeviceAllow":             {why: "opens host devices"},
	"Delegate":                {why: "hands the service a writable part of the host's cgroup tree", when: func(v string) bool { return !isFalse(v) }},
	"IPAddressAllow":          {why: "overrides the profile's IPAddressDeny="},
	"NetworkNamespacePath":    {why: "joins a host network namespace"},
	"IPCNamespacePath":        {why: "joins a host IPC namespace"},
	"PermissionsStartOnly":    {why: "runs commands without the sandbox", when: isTrue},
	"PAMName":                 {why: "opens a PAM session on the host"},
	"TTYPath":                 {why: "opens a host terminal"},
	"TTYReset":                {why: "resets the host's console", when: isTrue},
	"TTYVHangup":              {why: "hangs up the host's console", when: isTrue},
	"TTYVTDisallocate":        {why: "clears the host's console", when: isTrue},
	"UtmpIdentifier":          {why: "writes the host's login records"},
	"SELinuxContext":          {why: "picks the host's security label for the service"},
	"AppArmorProfile":         {why: "picks the host's security label for the service"},
	"SmackProcessLabel":       {why: "picks the host's security label for the service"},
	"USBFunctionDescriptors":  {why: "makes PID 1 read a host file"},
	"USBFunctionStrings":      {why: "makes PID 1 read a host file"},
	// "~" inverts the list: ~CAP_KILL is every capability but one, those
	// of the bounding set included.
	"AmbientCapabilities": {why: "grants capabilities"},
	"NFTSet":              {why: "adds the service to a host firewall set"},
}

func forbiddenRule(c *unitCheck, a unitfile.Assignment) string {
	f, ok := forbidden[a.Key]
	if !ok || !execSection(a.Section) || (f.when != nil && !f.when(a.Value)) {
		return ""
	}
	if a.Key == "BindReadOnlyPaths" && c.profileBinds(a.Value) {
		return ""
	}
	return f.why
}

// logSockets are the journal's sockets: what BindLogSockets=yes binds
// (systemd's namespace.c), and /dev/log, the host's link to dev-log.
var logSockets = []string{"/dev/log", "/run/systemd/journal/dev-log", "/run/systemd/journal/socket", "/run/systemd/journal/stdout"}

// profileBinds reports whether every host path a BindReadOnlyPaths= line
// binds is one the profile already binds read-only into the service
// (BindReadOnlyPaths=/dev/log:/run/systemd/journal/dev-log in a Debian
// unit): bound again, anywhere in the service's own mount namespace, it
// gives the service nothing of the host's it does not have.
func (c *unitCheck) profileBinds(v string) bool {
	var given []string
	for _, line := range c.profile.Values("Service", "BindReadOnlyPaths") {
		words, err := unitfile.SplitWords(line)
		if err != nil {
			continue
		}
		for _, w := range words {
			src, _, _ := strings.Cut(strings.TrimPrefix(w, "-"), ":")
			given = append(given, src)
		}
	}
	if on, _ := c.profile.Last("Service", "BindLogSockets"); isTrue(on) || slices.Contains(given, "/dev/log") {
		given = append(given, logSockets...)
	}
	words, err := unitfile.SplitWords(v)
	if err != nil || strings.Contains(v, `\`) {
		return false
	}
	for _, w := range words {
		src, _, _ := strings.Cut(strings.TrimPrefix(w, "-"), ":")
		if !slices.Contains(given, src) {
			return false
		}
	}
	return len(words) > 0
}

// actions may stop, reboot or power off the host.
var actions = []string{"FailureAction", "SuccessAction", "StartLimitAction", "JobTimeoutAction", "JobRunningTimeoutAction"}

// jobModes are the modes an OnFailure=/OnSuccess= job may use: "isolate"
// would stop every host unit the image's does not pull in, "flush" cancel
// every queued host job.
var jobModes = []string{"fail", "replace", "replace-irreversibly", "ignore-dependencies", "ignore-requirements"}

func actionRule(c *unitCheck, a unitfile.Assignment) string {
	switch {
	case a.Section == "Unit" && slices.Contains(actions, a.Key) && a.Value != "none":
		return "acts on the host (" + a.Value + ")"
	case a.Key == "RebootArgument" && (a.Section == "Unit" || a.Section == "Service"):
		return "sets the host's reboot argument"
	case a.Section == "Unit" && (a.Key == "OnFailureJobMode" || a.Key == "OnSuccessJobMode") && !slices.Contains(jobModes, a.Value):
		return "acts on the host's other units (job mode " + a.Value + ")"
	case a.Section == "Unit" && a.Key == "RefuseManualStop" && isTrue(a.Value):
		return "keeps the admin from stopping it"
	case a.Section == "Unit" && a.Key == "IgnoreOnIsolate" && isTrue(a.Value):
		return "keeps it running when the host isolates (rescue, emergency)"
	case a.Section == "Unit" && a.Key == "SurviveFinalKillSignal" && isTrue(a.Value):
		return "keeps its processes alive through the host's shutdown"
	case a.Section == "Service" && a.Key == "KillMode" && a.Value == "none":
		// Unlike SendSIGKILL=no (SIGTERM still goes to every process, and
		// a service that ignores it keeps only what the sandbox gave it),
		// no process is told to stop: the admin loses the stop itself.
		return "leaves its processes running when it is stopped"
	}
	return ""
}

func execRule(c *unitCheck, a unitfile.Assignment) string {
	if !unitfile.IsCommand(a.Key) {
		return ""
	}
	switch {
	case a.Section == "Socket":
		return "runs on the host, outside the image and its sandbox"
	case a.Section == "Service" && privilegedCommand(a.Value):
		return "uses a '+' or '!' prefix, which runs the command outside the sandbox"
	}
	return ""
}

// privilegedCommand reports whether any command of an Exec line (systemd
// takes several, separated by a lone ';') has a '+' (full privileges) or
// '!' (no user switch; '!!' also no ambient-capability fallback) prefix.
// PID 1 reads the prefix characters after C-unescaping the command's first
// word: ExecStart=\x2b/bin/sh is a '+' command. A first word that does not
// unescape makes PID 1 ignore the line; it is judged as written, and a
// line that does not split by its first word alone.
func privilegedCommand(v string) bool {
	if _, err := unitfile.SplitWords(v); err != nil {
		return privilegedPrefix(v)
	}
	first := true
	for _, w := range unitfile.SplitWordsKeepingEscapes(v) {
		if w == ";" || w == `\;` {
			first = true
			continue
		}
		if first {
			if u, ok := cunescape(w); ok && privilegedPrefix(u) || privilegedPrefix(w) {
				return true
			}
		}
		first = false
	}
	return false
}

// privilegedPrefix reports whether a command's prefix characters hold '+'
// or '!'.
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

// identityRule keeps the service a fresh dynamic user: root is refused, and
// so is any name that is not the image's own, because DynamicUser= reuses a
// static host account or group of that name (messagebus, www-data, disk).
func identityRule(c *unitCheck, a unitfile.Assignment) string {
	if !execSection(a.Section) || (a.Key != "User" && a.Key != "Group" && a.Key != "SupplementaryGroups") {
		return ""
	}
	words, err := unitfile.SplitWords(a.Value)
	if err != nil {
		return "cannot be read (" + err.Error() + ")"
	}
	for _, w := range words {
		switch {
		case w == "root" || w == "0":
			return "runs as root"
		case isNumber(w):
			return "names host account " + w + " by number"
		case !c.ownName(w):
			return "names account " + w + ", which is not the image's own: DynamicUser= would run the service as the host's " + w + " if it exists"
		}
	}
	return ""
}

// execDirectories are created (and chowned to the service's user) by PID 1
// on the host, below /var/lib, /var/cache, /var/log, /run and /etc.
var execDirectories = []string{"StateDirectory", "CacheDirectory", "LogsDirectory", "RuntimeDirectory", "ConfigurationDirectory"}

func ownNamesRule(c *unitCheck, a unitfile.Assignment) string {
	if !execSection(a.Section) {
		return ""
	}
	switch {
	case slices.Contains(execDirectories, a.Key):
		for _, parts := range directoryNames(a.Value) {
			// "source:symlink" names two directories.
			for _, d := range parts {
				if !c.ownRelativePath(d) {
					return "names host directory " + d + ", which is not the image's own: PID 1 would create it on the host and hand it to the service"
				}
			}
		}
	case a.Key == "PIDFile" && a.Section == "Service":
		if !c.ownRunPath(a.Value) {
			return "names " + a.Value + ", which is not below the image's own /run directory: PID 1 would adopt (and later kill) whatever host process it names"
		}
	}
	return ""
}

func outputRule(c *unitCheck, a unitfile.Assignment) string {
	if !execSection(a.Section) || (a.Key != "StandardInput" && a.Key != "StandardOutput" && a.Key != "StandardError") {
		return ""
	}
	v := a.Value
	for _, p := range []string{"file:", "append:", "truncate:"} {
		if strings.HasPrefix(v, p) {
			return "makes PID 1 open a host file (" + v + ")"
		}
	}
	if strings.HasPrefix(v, "tty") || strings.HasSuffix(v, "+console") {
		return "connects the service to the host's console (" + v + ")"
	}
	return ""
}

// priorityRule: PID 1 applies these before the sandbox, so RestrictRealtime=
// and the profile's @resources denial do not stop them.
func priorityRule(c *unitCheck, a unitfile.Assignment) string {
	if !execSection(a.Section) {
		return ""
	}
	v := strings.ToLower(a.Value)
	switch a.Key {
	case "CPUSchedulingPolicy":
		// systemd takes the policy's number too: 1 is SCHED_FIFO, 2
		// SCHED_RR ("01", "+2", "0x1" alike).
		if n, ok := cNumber(v); v == "fifo" || v == "rr" || ok && (n == 1 || n == 2) {
			return "gives the service real-time scheduling (" + a.Value + ")"
		}
	case "IOSchedulingClass":
		if n, ok := cNumber(v); v == "realtime" || ok && n == 1 {
			return "gives the service real-time I/O priority"
		}
	case "ManagedOOMPreference":
		if v == "avoid" || v == "omit" {
			return "shields the service from systemd-oomd (" + a.Value + ")"
		}
	case "Nice", "OOMScoreAdjust":
		// systemd reads numbers in any base ("-0x10"): the sign decides.
		if strings.HasPrefix(a.Value, "-") {
			return "puts the service before host processes (" + a.Key + "=" + a.Value + ")"
		}
	}
	return ""
}

// cNumber reads a number as strtol with base 0 does (a sign, then
// decimal, 0x hexadecimal or 0 octal), the way systemd reads the numbers
// some of its names also take.
func cNumber(v string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimLeft(v, " \t\n"), "+"), 0, 64)
	return n, err == nil
}

// isTrue and isFalse read a boolean as systemd does (package boolean);
// a value that is neither is neither.
func isTrue(v string) bool {
	b, ok := boolean.Parse(v)
	return ok && b
}

func isFalse(v string) bool {
	b, ok := boolean.Parse(v)
	return ok && !b
}

func isPath(v string) bool { return strings.HasPrefix(v, "/") }

func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}
