package policy

import (
	"strings"

	"github.com/portable-generator/portable-generator/generator/internal/unitfile"
)

// PID 1 creates a .socket unit's listeners itself, on the host, and hands
// them to the sandboxed service: before binding a socket path it removes
// whatever file is there, it creates a FIFO where it is told, and it opens
// ListenSpecial= files (any regular file) for the service. So listener paths
// must be the image's own, below /run.
func socketRule(c *unitCheck, a unitfile.Assignment) string {
	if c.typ != ".socket" || a.Section != "Socket" {
		return ""
	}
	v := a.Value
	switch a.Key {
	case "Symlinks":
		return "creates symlinks on the host"
	case "ListenSpecial":
		return "makes PID 1 open a host file (" + v + ") and hand it to the service"
	case "ListenNetlink":
		return "hands the service a netlink socket of the host"
	case "ListenMessageQueue":
		return "hands the service a message queue of the host"
	case "ListenUSBFunction":
		return "hands the service a host USB function"
	case "ListenFIFO":
		if !c.ownRunPath(v) {
			return "creates FIFO " + v + " on the host, outside the image's own /run directory"
		}
	case "ListenStream", "ListenDatagram", "ListenSequentialPacket":
		switch {
		case strings.HasPrefix(v, "/"):
			if !c.ownRunPath(v) {
				return "binds socket " + v + " on the host, outside the image's own /run directory (PID 1 first removes any file there)"
			}
		case strings.HasPrefix(v, "@"):
			if !c.ownName(v[1:]) {
				return "binds host abstract socket " + v + ", whose name is not the image's own"
			}
		default:
			if private, _ := c.profile.Last("Service", "PrivateNetwork"); isTrue(private) {
				return "gives the service a socket on the host's network (" + v + "), which the profile keeps it off"
			}
		}
	case "Transparent":
		if isTrue(v) {
			return "makes PID 1 set IP_TRANSPARENT, which needs CAP_NET_ADMIN the service does not have"
		}
	case "Mark":
		return "makes PID 1 set a firewall mark, which needs CAP_NET_ADMIN the service does not have"
	case "SmackLabel", "SmackLabelIPIn", "SmackLabelIPOut":
		return "picks the host's security label for the socket"
	}
	return ""
}
