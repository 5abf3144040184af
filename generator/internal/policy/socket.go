package policy

import (
	"strconv"
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
			// PID 1 binds as root: at boot, sockets come before services,
			// so the image would take a port a host daemon expects (a DNS
			// server's 53, sshd's 22, on IP or AF_VSOCK).
			if port, ok := listenPort(v); ok && port < 1024 {
				return "binds privileged port " + strconv.Itoa(port) + " (" + v + "), which the host keeps for its own services"
			}
		}
	case "ReusePort":
		if isTrue(v) {
			return "shares its port with host services that set SO_REUSEPORT, taking part of their connections"
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

// listenPort reads the port of an IP or AF_VSOCK listener: "80",
// "0.0.0.0:80", "[::]:80", "[fe80::1%eth0]:80", "vsock:2:22", the port read
// as systemd reads it (strtoul with base 0: "0x16" and "026" are 22, "+22"
// too). AF_VSOCK keeps ports below 1024 for privileged binders as IP does
// (systemd-ssh-generator listens on vsock port 22). ok is false for
// anything else.
func listenPort(v string) (int, bool) {
	p := v
	if i := strings.LastIndexByte(v, ':'); i >= 0 {
		p = v[i+1:]
	}
	n, ok := cNumber(p)
	return int(n), ok && n >= 0 && n <= 65535
}
