package policy

import (
	"errors"
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

func TestRefusals(t *testing.T) {
	def, _ := profiles.Builtin("default", 0)
	profile := parse(t, string(def))
	image := []string{"app.service", "app.socket", "app-helper.service"}
	for _, tc := range []struct {
		name, unit, body, directive string
	}{
		// Commands that run outside the sandbox with full privileges.
		{"plus prefix", "app.service", "[Service]\nExecStart=+/usr/bin/app", "ExecStart"},
		{"bang prefix", "app.service", "[Service]\nExecStartPre=-!/usr/bin/prep", "ExecStartPre"},
		{"double bang", "app.service", "[Service]\nExecStop=!!/usr/bin/stop", "ExecStop"},
		{"permissions start only", "app.service", "[Service]\nPermissionsStartOnly=yes\nExecStart=/a", "PermissionsStartOnly"},
		{"root user", "app.service", "[Service]\nUser=root", "User"},
		{"root group by number", "app.service", "[Service]\nGroup=0", "Group"},
		// Turning the profile's protections off.
		{"private users off", "app.service", "[Service]\nPrivateUsers=no", "PrivateUsers"},
		{"dynamic user off", "app.service", "[Service]\nDynamicUser=false", "DynamicUser"},
		{"protect system weaker", "app.service", "[Service]\nProtectSystem=full", "ProtectSystem"},
		// Host resources PID 1 opens or binds on the service's behalf.
		{"root image", "app.service", "[Service]\nRootImage=/var/lib/machines/host.raw", "RootImage"},
		{"bind host path", "app.service", "[Service]\nBindPaths=/etc:/mnt", "BindPaths"},
		{"host credential", "app.service", "[Service]\nLoadCredential=shadow:/etc/shadow", "LoadCredential"},
		{"environment file", "app.service", "[Service]\nEnvironmentFile=/etc/secrets", "EnvironmentFile"},
		{"output to host file", "app.service", "[Service]\nStandardOutput=append:/etc/escape", "StandardOutput"},
		{"input from host file", "app.service", "[Service]\nStandardInput=file:/etc/shadow", "StandardInput"},
		{"device", "app.service", "[Service]\nDeviceAllow=/dev/sda rw", "DeviceAllow"},
		{"ambient caps", "app.service", "[Service]\nAmbientCapabilities=CAP_SYS_ADMIN", "AmbientCapabilities"},
		{"ip allow", "app.service", "[Service]\nIPAddressAllow=any", "IPAddressAllow"},
		{"netns", "app.service", "[Service]\nNetworkNamespacePath=/run/netns/host", "NetworkNamespacePath"},
		{"joins namespace", "app.service", "[Unit]\n[Service]\nJoinsNamespaceOf=sshd.service", "JoinsNamespaceOf"},
		{"reboots the host", "app.service", "[Unit]\nFailureAction=reboot-force", "FailureAction"},
		{"conflicts with host unit", "app.service", "[Unit]\nConflicts=sshd.service", "Conflicts"},
		{"wants host unit", "app.service", "[Unit]\nWants=getty@tty1.service", "Wants"},
		// .socket Exec lines run on the host; Symlinks= writes there.
		{"socket exec", "app.socket", "[Socket]\nExecStartPre=/usr/bin/touch /etc/x", "ExecStartPre"},
		{"socket symlinks", "app.socket", "[Socket]\nSymlinks=/etc/evil", "Symlinks"},
		{"socket activates host service", "app.socket", "[Socket]\nService=sshd.service", "Service"},
		{"path makes directories", "app.path", "[Path]\nMakeDirectory=yes\nPathExists=/x", "MakeDirectory"},
		{"timer starts host unit", "app.timer", "[Timer]\nUnit=reboot.target", "Unit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check(tc.unit, parse(t, tc.body), image, "default", profile, nil)
			var v *Violation
			if !errors.As(err, &v) {
				t.Fatalf("not refused (err %v)", err)
			}
			if v.Directive != tc.directive || v.Unit != tc.unit || v.Profile != "default" {
				t.Errorf("violation %+v, want directive %s", v, tc.directive)
			}
			if !strings.Contains(err.Error(), tc.unit) || !strings.Contains(err.Error(), tc.directive) || !strings.Contains(err.Error(), "default") {
				t.Errorf("message does not name unit, directive and profile: %v", err)
			}
			// The admin can allow the directive for this image...
			if _, err := Check(tc.unit, parse(t, tc.body), image, "default", profile, []string{tc.directive}); err != nil {
				t.Errorf("AllowDirectives=%s still refused: %v", tc.directive, err)
			}
			// ...and trusted checks nothing.
			if _, err := Check(tc.unit, parse(t, tc.body), image, "trusted", profile, nil); err != nil {
				t.Errorf("trusted refused: %v", err)
			}
		})
	}
}

// Ordinary services pass: dependencies on their own units and on the
// well-known targets, non-root users, tightening settings, '-' and '@'
// prefixes, output to the journal.
func TestOrdinaryUnitsPass(t *testing.T) {
	def, _ := profiles.Builtin("strict", 0)
	profile := parse(t, string(def))
	for name, body := range map[string]string{
		"app.service": "[Unit]\nWants=network-online.target app-helper.service\nAfter=network-online.target sshd.service\n" +
			"[Service]\nUser=app\nExecStartPre=-/usr/bin/prep\nExecStart=@/usr/bin/app app\nStandardOutput=journal\n" +
			"ProtectSystem=strict\nPrivateNetwork=yes\nStateDirectory=app\nFailureAction=none\n",
		"app.socket": "[Socket]\nListenStream=8080\nService=app.service\n",
		"app.timer":  "[Timer]\nOnCalendar=daily\nUnit=app-helper.service\n",
	} {
		if narrow, err := Check(name, parse(t, body), []string{"app.service", "app.socket", "app-helper.service"}, "strict", profile, nil); err != nil || narrow != nil {
			t.Errorf("%s: %v, narrow %q", name, err, narrow)
		}
	}
}

// A unit's list settings are merged with the profile's by systemd; the
// narrowed lines make the effective value the intersection.
func TestNarrowing(t *testing.T) {
	def, _ := profiles.Builtin("default", 0)
	profile := parse(t, string(def))
	unit := parse(t, "[Service]\nCapabilityBoundingSet=CAP_SYS_ADMIN CAP_NET_BIND_SERVICE\n"+
		"RestrictAddressFamilies=AF_INET AF_PACKET\nSystemCallFilter=@system-service @mount\nSystemCallFilter=~@debug\n")
	narrow, err := Check("app.service", unit, nil, "default", profile, nil)
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
	} {
		if !strings.Contains(got, want) {
			t.Errorf("narrowed drop-in lacks %q:\n%s", want, got)
		}
	}
	// A deny-only unit list narrows by removal.
	unit = parse(t, "[Service]\nCapabilityBoundingSet=~CAP_KILL\n")
	narrow, _ = Check("app.service", unit, nil, "default", profile, nil)
	if !strings.Contains(string(narrow), "CapabilityBoundingSet=CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_NET_BIND_SERVICE CAP_SETGID CAP_SETUID\n") {
		t.Errorf("deny-only narrowing:\n%s", narrow)
	}
	// Disjoint address families leave none.
	unit = parse(t, "[Service]\nRestrictAddressFamilies=AF_PACKET\n")
	narrow, _ = Check("app.service", unit, nil, "default", profile, nil)
	if !strings.Contains(string(narrow), "RestrictAddressFamilies=\nRestrictAddressFamilies=none\n") {
		t.Errorf("disjoint families:\n%s", narrow)
	}
}
