package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
	"github.com/portable-generator/portable-generator/profiles"
)

func parse(t *testing.T, s string) *unitfile.File {
	t.Helper()
	f, err := unitfile.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func profile(t *testing.T, name string) *unitfile.File {
	t.Helper()
	b, ok := profiles.Builtin(name, 0)
	if !ok {
		t.Fatalf("no profile %s", name)
	}
	return parse(t, string(b))
}

var appImage = Image{Units: []string{"app.service", "app.socket", "app-helper.service", "app@.service"}, Prefixes: []string{"app"}}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, unit, body, directive string
		profiles                    []string // nil: default, nonetwork and strict
	}{
		// Commands that run outside the sandbox with full privileges.
		{"plus prefix", "app.service", "[Service]\nExecStart=+/usr/bin/app", "ExecStart", nil},
		{"bang prefix", "app.service", "[Service]\nExecStartPre=-!/usr/bin/prep", "ExecStartPre", nil},
		{"double bang", "app.service", "[Service]\nExecStop=!!/usr/bin/stop", "ExecStop", nil},
		{"a privileged vsock port", "app.socket", "[Socket]\nListenStream=vsock:2:80", "ListenStream", []string{"default"}},
		{"a privileged port in hex", "app.socket", "[Socket]\nListenStream=0x16", "ListenStream", []string{"default"}},
		{"a condition on a host path", "app.service", "[Unit]\nConditionPathExists=!/root/.ssh/authorized_keys", "ConditionPathExists", nil},
		{"an assertion on a host glob", "app.service", "[Unit]\nAssertPathExistsGlob=/var/lib/app*/x", "AssertPathExistsGlob", nil},
		{"a bus name without Type=dbus", "app.service", "[Service]\nType=forking\nBusName=org.freedesktop.DBus", "BusName", nil},
		{"plus after a semicolon", "app.service", "[Service]\nExecStartPre=/bin/true ; +/bin/sh -c evil", "ExecStartPre", nil},
		// PID 1 reads the prefixes after C-unescaping the first word.
		{"escaped plus", "app.service", "[Service]\nExecStart=\\x2b/usr/bin/app", "ExecStart", nil},
		{"octal bang after a dash", "app.service", "[Service]\nExecStartPost=-\\041/bin/true", "ExecStartPost", nil},
		{"escaped plus after a semicolon", "app.service", "[Service]\nExecStartPre=/bin/true ; \\u002b/bin/sh", "ExecStartPre", nil},
		{"permissions start only", "app.service", "[Service]\nPermissionsStartOnly=yes\nExecStart=/a", "PermissionsStartOnly", nil},
		{"root directory start only", "app.service", "[Service]\nRootDirectoryStartOnly=yes", "RootDirectoryStartOnly", nil},
		// Host identities.
		{"root user", "app.service", "[Service]\nUser=root", "User", nil},
		{"root group by number", "app.service", "[Service]\nGroup=0", "Group", nil},
		{"a host user", "app.service", "[Service]\nUser=messagebus", "User", nil},
		{"a host user by number", "app.service", "[Service]\nUser=1000", "User", nil},
		{"a host group", "app.service", "[Service]\nSupplementaryGroups=app disk", "SupplementaryGroups", nil},
		{"an instance-named user", "app@.service", "[Service]\nUser=%i", "User", nil},
		{"an unescaped instance after an own name", "app@.service", "[Service]\nUser=app-%I", "User", nil},
		{"an instance that could be ..", "app@.service", "[Service]\nPIDFile=/run/app/%i/x.pid", "PIDFile", nil},
		{"an instance glued to dots", "app@.service", "[Service]\nRuntimeDirectory=app/%i.", "RuntimeDirectory", nil},
		{"an instance before the own name", "app@.service", "[Service]\nStateDirectory=%iapp", "StateDirectory", nil},
		// What the profile does not override.
		{"shared mounts", "app.service", "[Service]\nMountFlags=shared", "MountFlags", nil},
		{"delegation by an empty line", "app.service", "[Service]\nDelegate=", "Delegate", nil},
		{"delegation", "app.service", "[Service]\nDelegate=yes", "Delegate", nil},
		{"real-time scheduling", "app.service", "[Service]\nCPUSchedulingPolicy=fifo", "CPUSchedulingPolicy", nil},
		{"real-time I/O", "app.service", "[Service]\nIOSchedulingClass=realtime", "IOSchedulingClass", nil},
		{"negative nice in hex", "app.service", "[Service]\nNice=-0x10", "Nice", nil},
		{"oom shield", "app.service", "[Service]\nOOMScoreAdjust=-1000", "OOMScoreAdjust", nil},
		// Host resources PID 1 opens, binds or creates on the service's behalf.
		{"root image", "app.service", "[Service]\nRootImage=/var/lib/machines/host.raw", "RootImage", nil},
		{"root image options", "app.service", "[Service]\nRootImageOptions=root:rw", "RootImageOptions", nil},
		{"bind host path", "app.service", "[Service]\nBindPaths=/etc:/mnt", "BindPaths", nil},
		{"bind a host path beside a log socket", "app.service", "[Service]\nBindReadOnlyPaths=/dev/log /etc/shadow", "BindReadOnlyPaths", nil},
		{"bind the log socket read-write", "app.service", "[Service]\nBindPaths=/dev/log", "BindPaths", nil},
		{"bind the D-Bus socket under strict", "app.service", "[Service]\nBindReadOnlyPaths=/run/dbus/system_bus_socket", "BindReadOnlyPaths", []string{"strict"}},
		{"host credential", "app.service", "[Service]\nLoadCredential=shadow:/etc/shadow", "LoadCredential", nil},
		{"host-key credential", "app.service", "[Service]\nSetCredentialEncrypted=k: Whxqht+dQJax1aZeCGLxmiAAAAABAAAADAAAABAAAAC1lFmbWAqWZ8dCCQkAAAAAgAAAAAAAAAALACMA8AAAACAAAAAAngAg", "SetCredentialEncrypted", nil},
		{"environment file", "app.service", "[Service]\nEnvironmentFile=/etc/secrets", "EnvironmentFile", nil},
		{"open file", "app.service", "[Service]\nOpenFile=/etc/shadow", "OpenFile", nil},
		{"pass environment", "app.service", "[Service]\nPassEnvironment=PATH", "PassEnvironment", nil},
		{"output to host file", "app.service", "[Service]\nStandardOutput=append:/etc/escape", "StandardOutput", nil},
		{"errors to host file", "app.service", "[Service]\nStandardError=truncate:/etc/escape", "StandardError", nil},
		{"input from host file", "app.service", "[Service]\nStandardInput=file:/etc/shadow", "StandardInput", nil},
		{"input from the console", "app.service", "[Service]\nStandardInput=tty-force", "StandardInput", nil},
		{"output to the console", "app.service", "[Service]\nStandardOutput=journal+console", "StandardOutput", nil},
		{"console reset", "app.service", "[Service]\nTTYVTDisallocate=yes", "TTYVTDisallocate", nil},
		{"utmp records", "app.service", "[Service]\nUtmpIdentifier=tty1", "UtmpIdentifier", nil},
		{"device", "app.service", "[Service]\nDeviceAllow=/dev/sda rw", "DeviceAllow", nil},
		{"ambient caps", "app.service", "[Service]\nAmbientCapabilities=CAP_SYS_ADMIN", "AmbientCapabilities", nil},
		{"ip allow", "app.service", "[Service]\nIPAddressAllow=any", "IPAddressAllow", nil},
		{"netns", "app.service", "[Service]\nNetworkNamespacePath=/run/netns/host", "NetworkNamespacePath", nil},
		{"selinux label", "app.service", "[Service]\nSELinuxContext=system_u:system_r:unconfined_t:s0", "SELinuxContext", nil},
		{"host state directory", "app.service", "[Service]\nStateDirectory=app dpkg", "StateDirectory", nil},
		{"host runtime directory", "app.service", "[Service]\nRuntimeDirectory=systemd", "RuntimeDirectory", nil},
		{"directory escaping by ..", "app.service", "[Service]\nCacheDirectory=app/../apt", "CacheDirectory", nil},
		{"symlinked host directory", "app.service", "[Service]\nLogsDirectory=app:journal", "LogsDirectory", nil},
		{"host configuration directory", "app.service", "[Service]\nConfigurationDirectory=ssh", "ConfigurationDirectory", nil},
		{"host pid file", "app.service", "[Service]\nType=forking\nPIDFile=/run/sshd.pid", "PIDFile", nil},
		{"host sockets", "app.service", "[Service]\nSockets=systemd-journald.socket", "Sockets", nil},
		{"host slice", "app.service", "[Service]\nSlice=-.slice", "Slice", nil},
		// Acting on host units and the host itself.
		{"joins namespace", "app.service", "[Unit]\nJoinsNamespaceOf=sshd.service", "JoinsNamespaceOf", nil},
		{"reboots the host", "app.service", "[Unit]\nFailureAction=reboot-force", "FailureAction", nil},
		{"conflicts with host unit", "app.service", "[Unit]\nConflicts=sshd.service", "Conflicts", nil},
		{"conflicts with a target", "app.service", "[Unit]\nConflicts=multi-user.target", "Conflicts", nil},
		{"wants host unit", "app.service", "[Unit]\nWants=getty@tty1.service", "Wants", nil},
		{"wants an instance of a host template", "app.service", "[Unit]\nWants=app-other@1.service", "Wants", nil},
		{"wants shutdown", "app.service", "[Unit]\nWants=shutdown.target", "Wants", nil},
		{"shuts down on failure", "app.service", "[Unit]\nOnFailure=shutdown.target", "OnFailure", nil},
		{"before a host unit", "app.service", "[Unit]\nBefore=sshd.service", "Before", nil},
		{"before an early target", "app.service", "[Unit]\nDefaultDependencies=no\nBefore=sysinit.target", "Before", nil},
		{"isolates on failure", "app.service", "[Unit]\nOnFailure=app-helper.service\nOnFailureJobMode=isolate", "OnFailureJobMode", nil},
		{"flushes the host's jobs", "app.service", "[Unit]\nOnSuccess=app-helper.service\nOnSuccessJobMode=flush", "OnSuccessJobMode", nil},
		{"refuses a manual stop", "app.service", "[Unit]\nRefuseManualStop=yes", "RefuseManualStop", nil},
		{"survives isolation", "app.service", "[Unit]\nIgnoreOnIsolate=true", "IgnoreOnIsolate", nil},
		{"survives shutdown", "app.service", "[Unit]\nSurviveFinalKillSignal=yes", "SurviveFinalKillSignal", nil},
		{"kill mode none", "app.service", "[Service]\nKillMode=none", "KillMode", nil},
		{"host firewall set", "app.service", "[Service]\nNFTSet=cgroup:inet:filter:allowed", "NFTSet", nil},
		{"oomd shield", "app.service", "[Service]\nManagedOOMPreference=avoid", "ManagedOOMPreference", nil},
		{"stops a host unit", "app.service", "[Unit]\nPropagatesStopTo=sshd.service", "PropagatesStopTo", nil},
		{"required by a host unit", "app.service", "[Install]\nRequiredBy=sshd.service", "RequiredBy", nil},
		// .socket Exec lines run on the host; listeners are made by PID 1.
		{"socket exec", "app.socket", "[Socket]\nExecStartPre=/usr/bin/touch /etc/x", "ExecStartPre", nil},
		{"socket exec stop pre", "app.socket", "[Socket]\nExecStopPre=/bin/sh -c 'rm -rf /etc'", "ExecStopPre", nil},
		{"socket symlinks", "app.socket", "[Socket]\nSymlinks=/etc/evil", "Symlinks", nil},
		{"socket activates host service", "app.socket", "[Socket]\nService=sshd.service", "Service", nil},
		{"socket on a host path", "app.socket", "[Socket]\nListenStream=/etc/shadow", "ListenStream", nil},
		{"socket in another's /run", "app.socket", "[Socket]\nListenDatagram=/run/systemd/notify", "ListenDatagram", nil},
		{"socket path escaping by ..", "app.socket", "[Socket]\nListenStream=/run/app/../dbus/system_bus_socket", "ListenStream", nil},
		{"abstract socket of another", "app.socket", "[Socket]\nListenStream=@/tmp/.X11-unix/X0", "ListenStream", nil},
		{"fifo on the host", "app.socket", "[Socket]\nListenFIFO=/etc/profile.d/zz.sh", "ListenFIFO", nil},
		{"special file", "app.socket", "[Socket]\nListenSpecial=/etc/shadow", "ListenSpecial", nil},
		{"host netlink", "app.socket", "[Socket]\nListenNetlink=route", "ListenNetlink", nil},
		{"host message queue", "app.socket", "[Socket]\nListenMessageQueue=/app", "ListenMessageQueue", nil},
		{"ip socket without network", "app.socket", "[Socket]\nListenStream=0.0.0.0:80", "ListenStream", []string{"nonetwork", "strict"}},
		{"transparent socket", "app.socket", "[Socket]\nListenStream=8080\nTransparent=yes", "Transparent", []string{"default"}},
		{"privileged port", "app.socket", "[Socket]\nListenStream=[::]:443", "ListenStream", []string{"default"}},
		{"reuse port", "app.socket", "[Socket]\nListenStream=8080\nReusePort=yes", "ReusePort", []string{"default"}},
		{"a newer Exec line on a socket", "app.socket", "[Socket]\nExecReloadPost=/bin/true", "ExecReloadPost", nil},
		{"path makes directories", "app.path", "[Path]\nMakeDirectory=yes\nPathExists=/run/app/x", "MakeDirectory", nil},
		{"timer starts host unit", "app.timer", "[Timer]\nUnit=reboot.target", "Unit", nil},
		{"timer wakes the host", "app.timer", "[Timer]\nOnCalendar=daily\nWakeSystem=yes", "WakeSystem", nil},
		// What systemd reads as separate lines is checked as such.
		{"carriage return ends a line", "app.service", "[Unit]\nDescription=x\rConflicts=sshd.service\n", "Conflicts", nil},
		{"NUL ends a line", "app.service", "[Service]\nEnvironment=A=1\x00User=root\n", "User", nil},
		{"byte-order mark", "app.service", "\xef\xbb\xbf[Service]\nExecStart=+/bin/sh\n", "ExecStart", nil},
	} {
		ps := tc.profiles
		if ps == nil {
			ps = []string{"default", "nonetwork", "strict"}
		}
		for _, pn := range ps {
			t.Run(tc.name+"/"+pn, func(t *testing.T) {
				p := profile(t, pn)
				_, err := Check(tc.unit, parse(t, tc.body), appImage, pn, p)
				var v *Violation
				if !errors.As(err, &v) {
					t.Fatalf("not refused (err %v)", err)
				}
				if v.Directive != tc.directive || v.Unit != tc.unit || v.Profile != pn {
					t.Errorf("violation %+v, want directive %s", v, tc.directive)
				}
				if msg := err.Error(); !strings.Contains(msg, tc.unit) || !strings.Contains(msg, tc.directive+"=") || !strings.Contains(msg, pn) {
					t.Errorf("message does not name unit, directive and profile: %v", err)
				}
				// The admin can allow the directive for this image...
				allowed := appImage
				allowed.Allow = []string{tc.directive}
				if _, err := Check(tc.unit, parse(t, tc.body), allowed, pn, p); err != nil {
					t.Errorf("AllowDirectives=%s still refused: %v", tc.directive, err)
				}
				// ...and trusted checks nothing.
				if _, err := Check(tc.unit, parse(t, tc.body), appImage, "trusted", p); err != nil {
					t.Errorf("trusted refused: %v", err)
				}
				checkLifts(t, tc.unit, tc.body, appImage, pn, p, v)
			})
		}
	}
}

// Ordinary services pass: dependencies on their own units and on the
// well-known targets, own names for users, directories and sockets,
// tightening settings, '-' and '@' prefixes, output to the journal.
func TestOrdinaryUnitsPass(t *testing.T) {
	for _, pn := range []string{"default", "nonetwork", "strict"} {
		p := profile(t, pn)
		for name, body := range map[string]string{
			"app.service": "[Unit]\nWants=network-online.target app-helper.service\nAfter=network-online.target sshd.service\n" +
				"Before=multi-user.target\nConflicts=shutdown.target\n" +
				"[Service]\nUser=app\nGroup=app_data\nExecStartPre=-/usr/bin/prep\nExecStart=@/usr/bin/app app ; /usr/bin/next\nStandardOutput=journal\n" +
				"ProtectSystem=strict\nPrivateNetwork=yes\nStateDirectory=app app-cache/sub %p-extra\nRuntimeDirectory=app\n" +
				"PIDFile=/run/app/app.pid\nFailureAction=none\nNice=5\nSlice=system.slice\nSystemCallArchitectures=native\n" +
				"[Install]\nWantedBy=multi-user.target\nAlias=app-alias.service\n",
			"app-helper.service": "[Unit]\nPartOf=app.service\nWants=app@1.service dbus.socket\nAfter=dbus.socket\n[Service]\nExecStart=/usr/bin/helper\nSockets=app.socket\nPrivateUsers=yes\n",
			"app.socket":         "[Unit]\nBefore=sockets.target\n[Socket]\nListenStream=/run/app/api.sock\nListenStream=@app-control\nListenFIFO=/run/app.fifo\nService=app.service\n",
			"app.timer":          "[Timer]\nOnCalendar=daily\nUnit=app-helper.service\n",
			"app@.service":       "[Service]\nExecStart=/usr/bin/app %i\nStateDirectory=%N\n",
		} {
			if narrow, err := Check(name, parse(t, body), appImage, pn, p); err != nil || narrow != nil {
				t.Errorf("%s under %s: %v, narrow %q", name, pn, err, narrow)
			}
		}
	}
	// Under default, a socket-activated service may listen on the network.
	if _, err := Check("app.socket", parse(t, "[Socket]\nListenStream=0.0.0.0:8080\nListenDatagram=[::]:5353\nListenStream=vsock::8080\n"), appImage, "default", profile(t, "default")); err != nil {
		t.Error(err)
	}
}

// A unit's list settings are merged with the profile's by systemd; the
// narrowed lines make the effective value the intersection.
func TestNarrowing(t *testing.T) {
	p := profile(t, "default")
	unit := parse(t, "[Service]\nCapabilityBoundingSet=CAP_SYS_ADMIN CAP_NET_BIND_SERVICE\n"+
		"RestrictAddressFamilies=AF_INET AF_PACKET\nSystemCallFilter=@system-service @mount\nSystemCallFilter=~@debug\n"+
		"SystemCallArchitectures=native x86\n")
	narrow, err := Check("app.service", unit, appImage, "default", p)
	if err != nil {
		t.Fatal(err)
	}
	got := string(narrow)
	for _, want := range []string{
		"CapabilityBoundingSet=\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n", // CAP_SYS_ADMIN is not the profile's
		"RestrictAddressFamilies=\nRestrictAddressFamilies=AF_INET\n",          // AF_PACKET neither
		"SystemCallFilter=\nSystemCallFilter=@system-service\n",                // @mount neither
		"SystemCallFilter=~@privileged @resources\n",                           // the profile's denials stay
		"SystemCallFilter=~@debug\n",                                           // and the unit's own
		"SystemCallArchitectures=\nSystemCallArchitectures=native\n",           // x86 is not the profile's
	} {
		if !strings.Contains(got, want) {
			t.Errorf("narrowed drop-in lacks %q:\n%s", want, got)
		}
	}
	// A deny-only unit list narrows by removal.
	unit = parse(t, "[Service]\nCapabilityBoundingSet=~CAP_KILL\n")
	narrow, _ = Check("app.service", unit, appImage, "default", p)
	if !strings.Contains(string(narrow), "CapabilityBoundingSet=CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_NET_BIND_SERVICE CAP_SETGID CAP_SETUID\n") {
		t.Errorf("deny-only narrowing:\n%s", narrow)
	}
	// Disjoint address families leave none; disjoint architectures the
	// profile's.
	unit = parse(t, "[Service]\nRestrictAddressFamilies=AF_PACKET\nSystemCallArchitectures=x86\n")
	narrow, _ = Check("app.service", unit, appImage, "default", p)
	for _, want := range []string{"RestrictAddressFamilies=\nRestrictAddressFamilies=none\n", "SystemCallArchitectures=\nSystemCallArchitectures=native\n"} {
		if !strings.Contains(string(narrow), want) {
			t.Errorf("disjoint lists: lacks %q:\n%s", want, narrow)
		}
	}
}

// Own names: prefixes followed by a separator, specifiers derived from the
// unit's name only.
func TestOwnNames(t *testing.T) {
	c := &unitCheck{name: "app-web@x.service", typ: ".service", img: Image{Prefixes: []string{"app", "other-app"}}}
	for name, want := range map[string]bool{
		"app": true, "app-web": true, "app.d": true, "app@1": true, "app_data": true, "other-app": true,
		"%p": true, "%N": true, "%n": true, "%p-cache": true,
		"apple": false, "ap": false, "": false, "other": false, "%i": false, "%H": false, "app%": false, "%%p": false,
	} {
		if got := c.ownName(name); got != want {
			t.Errorf("ownName(%q) = %v, want %v", name, got, want)
		}
	}
	for p, want := range map[string]bool{
		"/run/app/x.sock": true, "/run/app.sock": true, "/run/%p/x": true,
		"/run/apple.sock": false, "/run/app/../x": false, "/run//app": false, "/run/": false, "/var/run/app.sock": false, "/run/%i/x": false,
	} {
		if got := c.ownRunPath(p); got != want {
			t.Errorf("ownRunPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// The index of rules by directive asks the same rules, in the same order,
// as asking each rule in turn: for every directive a rule names, for
// command settings no rule names, and for directives none judges.
func TestRulesJudgingAsEveryRuleWould(t *testing.T) {
	keys := []string{"ExecStartPre", "ExecReload", "ExecCondition", "ExecFutureCommand", "ExecPaths", "ExecSearchPath",
		"Description", "NoSuchDirective", "Exec*", ""}
	for _, r := range rules {
		keys = append(keys, r.keys...)
	}
	for _, k := range keys {
		if got, want := rulesJudging(k), judging(k); !slices.Equal(got, want) {
			t.Errorf("%q: rules %v, asking each: %v", k, got, want)
		}
	}
	if len(rulesJudging("ExecStart")) == 0 || len(rulesJudging("ExecFutureCommand")) == 0 {
		t.Error("no rule judges command settings")
	}
}
