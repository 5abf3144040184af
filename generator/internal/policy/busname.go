package policy

import "github.com/portable-generator/portable-generator/generator/internal/unitfile"

// A service with BusName= that is not Type=dbus, and has no main PID yet
// (Type=forking before its daemon is known, Type=oneshot between its
// commands; TimeoutStartSec=infinity keeps it so), takes the owner of its
// bus name for its main PID whenever the name changes hands, whatever
// process that is, with no check that it is the service's: BusName=
// org.freedesktop.DBus and a restart of the bus made PID 1 supervise the
// host's dbus-daemon as the image's main process (systemd 252, in the
// container), and stopping the service then kills it. Under Type=dbus PID 1
// only waits for the name, and the other types know their main PID.

func busNameRule(c *unitCheck, a unitfile.Assignment) string {
	if a.Section != "Service" || c.typ != ".service" {
		return ""
	}
	switch typ, _ := lastOf("Service", "Type", c.unit); typ {
	case "forking", "oneshot":
		return "makes PID 1 take whichever process owns bus name " + a.Value + " for the service's main process (Type=" + typ + "), and kill it when the service stops"
	}
	return ""
}
