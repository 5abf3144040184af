package policy

import (
	"errors"
	"testing"
)

// The rules of ranking.go, journal.go and pathwatch.go: what would put the
// image ahead of host services, speak for another service in the journal,
// or watch host paths.
func TestHostShareRefusals(t *testing.T) {
	for _, tc := range []struct{ unit, body, directive string }{
		{"app.service", "[Service]\nCPUWeight=10000", "CPUWeight"},
		{"app.service", "[Service]\nCPUWeight=0x2710", "CPUWeight"}, // systemd reads hex: 10000
		{"app.service", "[Service]\nCPUWeight=+200", "CPUWeight"},
		{"app.service", "[Service]\nStartupCPUWeight=101", "StartupCPUWeight"},
		{"app.service", "[Service]\nIOWeight=10000", "IOWeight"},
		{"app.service", "[Service]\nStartupIOWeight=1000", "StartupIOWeight"},
		{"app.service", "[Service]\nCPUShares=262144", "CPUShares"},
		{"app.service", "[Service]\nBlockIOWeight=1000", "BlockIOWeight"},
		{"app.service", "[Service]\nIODeviceWeight=/dev/sda 10000", "IODeviceWeight"},
		{"app.service", "[Service]\nIODeviceLatencyTargetSec=/dev/sda 1ms", "IODeviceLatencyTargetSec"},
		{"app.service", "[Service]\nMemoryMin=infinity", "MemoryMin"},
		{"app.service", "[Service]\nMemoryLow=50%", "MemoryLow"},
		{"app.service", "[Service]\nStartupMemoryLow=1G", "StartupMemoryLow"},
		{"app.service", "[Service]\nLimitMEMLOCK=infinity", "LimitMEMLOCK"},
		{"app.service", "[Service]\nLimitMEMLOCK=8M:infinity", "LimitMEMLOCK"},
		{"app.service", "[Service]\nLimitMEMLOCK=9M", "LimitMEMLOCK"},
		{"app.service", "[Service]\nLimitMEMLOCK=1.5G", "LimitMEMLOCK"},
		{"app.service", "[Service]\nLogNamespace=host", "LogNamespace"},
		{"app.service", "[Service]\nLogNamespace=%i", "LogNamespace"},
		{"app.service", "[Service]\nLogExtraFields=PORTABLE=other.raw", "LogExtraFields"},
		{"app.service", "[Service]\nLogExtraFields=A=1 PORTABLE_NAME_AND_VERSION=debian_12", "LogExtraFields"},
		{"app.service", "[Service]\nLogExtraFields=\"PORT\"ABLE=x", "LogExtraFields"},         // quotes join
		{"app.service", "[Service]\nLogExtraFields=PORT\\x41BLE=x", "LogExtraFields"},         // systemd unescapes
		{"app.service", "[Service]\nLogExtraFields=PORT%pABLE=x", "LogExtraFields"},           // and expands
		{"app.service", "[Service]\nLogExtraFields=SYSLOG_IDENTIFIER=sshd", "LogExtraFields"}, // -t sshd
		{"app.service", "[Service]\nSyslogIdentifier=sshd", "SyslogIdentifier"},
		{"app.service", "[Service]\nSyslogIdentifier=%H", "SyslogIdentifier"},
		{"app.path", "[Path]\nPathChanged=/etc/shadow", "PathChanged"},
		{"app.path", "[Path]\nPathExistsGlob=/home/*/.ssh/id_*", "PathExistsGlob"},
		{"app.path", "[Path]\nPathExistsGlob=/run/app-*", "PathExistsGlob"}, // another image's /run/app-web
		{"app.path", "[Path]\nPathExistsGlob=/run/*/app", "PathExistsGlob"},
		{"app.path", "[Path]\nPathModified=/etc/passwd", "PathModified"},
		{"app.path", "[Path]\nPathExists=/run/app/../dbus/pid", "PathExists"},
		{"app.path", "[Path]\nDirectoryNotEmpty=/var/spool/cron/crontabs", "DirectoryNotEmpty"},
	} {
		for _, pn := range []string{"default", "nonetwork", "strict"} {
			_, err := Check(tc.unit, parse(t, tc.body), appImage, pn, profile(t, pn))
			var v *Violation
			if !errors.As(err, &v) || v.Directive != tc.directive {
				t.Errorf("%s under %s: got %v, want a refusal of %s=", tc.body, pn, err, tc.directive)
				continue
			}
			allowed := appImage
			allowed.Allow = []string{tc.directive}
			if _, err := Check(tc.unit, parse(t, tc.body), allowed, pn, profile(t, pn)); err != nil {
				t.Errorf("%s under %s with AllowDirectives=%s: %v", tc.body, pn, tc.directive, err)
			}
		}
	}
}

// What stays within systemd's defaults, the image's own names and its own
// /run directory passes.
func TestHostShareAllowed(t *testing.T) {
	for _, tc := range []struct{ unit, body string }{
		{"app.service", "[Service]\nCPUWeight=idle\nStartupCPUWeight=20\nIOWeight=100\nStartupIOWeight=1\nCPUShares=512\nBlockIOWeight=10\n"},
		{"app.service", "[Service]\nIODeviceWeight=/dev/sda 50\nMemoryMin=0\nMemoryLow=0%\nStartupMemoryLow=0K\n"},
		{"app.service", "[Service]\nLimitMEMLOCK=8M\nLimitMEMLOCK=64K:8388608\nLimitMEMLOCK=0\n"},
		{"app.service", "[Service]\nMemoryMax=1G\nMemoryHigh=infinity\nLimitNOFILE=65536\n"}, // limits, not protections
		{"app.service", "[Service]\nLogNamespace=app\nSyslogIdentifier=app-web\nSyslogIdentifier=%N\n"},
		{"app.service", "[Service]\nLogExtraFields=APP_ROLE=web SYSLOG_IDENTIFIER=app-web \"NOTE=a b\"\n"},
		{"app.path", "[Path]\nPathExists=/run/app/trigger\nPathExistsGlob=/run/app/in/*.job\nPathChanged=/run/app.flag\n" +
			"PathModified=/run/%p/conf\nDirectoryNotEmpty=/run/app/queue\nUnit=app.service\n"},
	} {
		for _, pn := range []string{"default", "nonetwork", "strict"} {
			if _, err := Check(tc.unit, parse(t, tc.body), appImage, pn, profile(t, pn)); err != nil {
				t.Errorf("%q under %s: %v", tc.body, pn, err)
			}
		}
	}
}
