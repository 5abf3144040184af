//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/integration/security/escapes"
)

// The host namespace on a running PID 1, for what `systemd --test` cannot
// show (generator/escape_test.go judges the rest offline): images of the
// escape corpus that claim what the container, a real Debian, already holds
// (an alias in /etc, /run/dbus, the journal's dev-log socket, the
// messagebus account, /var/lib/dpkg). Each is dropped in under the default
// profile, whose policy finds the names the image's own (its prefix), so
// only the host check stands: the image is skipped naming the holder, none of its units come from our
// output, and the host's holding is as it was. Then a control does by hand
// what our output would have done (a drop-in on the alias, a unit naming a
// held directory, socket or account), to show on this PID 1 that the claim
// was real.

// heldOnTheHost is one such claim.
type heldOnTheHost struct {
	image string // the corpus case
	// holders: the skip line names one of them (else one of the case's):
	// a real host holds a prefix by many units, and names any of them.
	holders []string
	// prepare gives the host what a real one has but the tree may lack; undo
	// takes it away again.
	prepare, undo string
	// state prints the host's holding: the same before and after.
	state string
	// control are hand-made units (path in the container: content), the
	// unit started, and a shell test that holds once PID 1 acted on the
	// claim.
	control map[string]string
	start   string
	escaped string
	paths   []string // the control's leftovers
}

// timesyncAlias is stock Debian 12's alias of timesyncd; trees without
// timesyncd get a stand-in with the same alias.
const timesyncAlias = "/etc/systemd/system/dbus-org.freedesktop.timesync1.service"

var heldClaims = []heldOnTheHost{
	{image: "dbus-org.freedesktop.timesync1",
		prepare: `[ -e ` + timesyncAlias + ` ] || { printf '[Unit]\nDescription=stand-in for timesyncd\n[Service]\nExecStart=/bin/sleep infinity\nUser=nobody\n' > /usr/lib/systemd/system/pg-timesyncd.service; ln -s /usr/lib/systemd/system/pg-timesyncd.service ` + timesyncAlias + `; }`,
		undo:    `[ ! -e /usr/lib/systemd/system/pg-timesyncd.service ] || rm -f ` + timesyncAlias + ` /usr/lib/systemd/system/pg-timesyncd.service`,
		state:   `systemctl show -p Id -p Names -p FragmentPath -p DropInPaths -p RootDirectory -p ExecStart -p User dbus-org.freedesktop.timesync1.service`,
		// Our drop-in in the alias's directory is the host unit's drop-in.
		control: map[string]string{"/etc/systemd/system/dbus-org.freedesktop.timesync1.service.d/20-portable.conf": "[Service]\nRootDirectory=/var/lib/portables/dbus-org.freedesktop.timesync1\n"},
		escaped: `systemctl show -P RootDirectory dbus-org.freedesktop.timesync1.service | grep -q portables && ! systemctl show -P Id dbus-org.freedesktop.timesync1.service | grep -q '^dbus-org'`,
		paths:   []string{"/etc/systemd/system/dbus-org.freedesktop.timesync1.service.d"}},
	{image: "dbus", holders: []string{`prefix "dbus" belongs to the host`, "/run/dbus"},
		state: `stat -c '%n %i %U %a %F' /run/dbus /run/dbus/system_bus_socket`,
		// RuntimeDirectory= takes the host's directory, and removes it on stop.
		prepare: "mkdir -p /run/pg-rt-victim && echo data > /run/pg-rt-victim/file",
		control: map[string]string{"/etc/systemd/system/pg-rt-control.service": "[Service]\nType=oneshot\nDynamicUser=yes\nRuntimeDirectory=pg-rt-victim\nExecStart=/bin/true\n"},
		start:   "pg-rt-control.service", escaped: "! test -e /run/pg-rt-victim", paths: []string{"/run/pg-rt-victim"}},
	{image: "systemd", holders: []string{`prefix "systemd" belongs to the host`, "/run/systemd"},
		state: `stat -c '%n %i %F' /run/systemd/journal/dev-log; readlink /dev/log`,
		// PID 1 removes what is at a listener's path to bind its socket.
		prepare: "echo victim > /run/pg-sock-victim",
		control: map[string]string{
			"/etc/systemd/system/pg-sock-control.socket":  "[Socket]\nListenDatagram=/run/pg-sock-victim\n",
			"/etc/systemd/system/pg-sock-control.service": "[Service]\nExecStart=/bin/sleep 300\n",
		},
		start: "pg-sock-control.socket", escaped: "test -S /run/pg-sock-victim", paths: []string{"/run/pg-sock-victim"}},
	{image: "messagebus",
		state: `id messagebus; systemctl show -P LoadState messagebus.service`,
		// DynamicUser= reuses the static account of the name.
		control: map[string]string{"/etc/systemd/system/pg-acct-control.service": "[Service]\nDynamicUser=yes\nUser=messagebus\nExecStart=/bin/sleep 300\n"},
		start:   "pg-acct-control.service",
		escaped: `pid=$(systemctl show -P MainPID pg-acct-control.service); [ "$pid" != 0 ] && [ "$(stat -c %u /proc/$pid)" = "$(id -u messagebus)" ]`},
	{image: "lsb-alias",
		// systemd-sysv-generator makes every other name of a script's
		// Provides: line an alias of its service.
		prepare: `printf '#!/bin/sh\n### BEGIN INIT INFO\n#  provides: mailer $mail-transport-agent lsb-alias\n### END INIT INFO\nexit 0\n' > /etc/init.d/mailer && chmod 755 /etc/init.d/mailer`,
		undo:    "rm -f /etc/init.d/mailer",
		state:   `systemctl show -p Id -p Names -p SourcePath -p FragmentPath -p DropInPaths lsb-alias.service`,
		// A unit of the name in a directory above the generator's late one
		// (ours is such a directory) takes the alias from the script.
		control: map[string]string{"/etc/systemd/system/lsb-alias.service": "[Service]\nExecStart=/bin/sleep 300\n"},
		escaped: `[ "$(systemctl show -P Id lsb-alias.service)" = lsb-alias.service ] && [ "$(systemctl show -P Id mailer.service)" = mailer.service ]`,
		paths:   []string{"/etc/systemd/system/lsb-alias.service"}},
	// The tree's own activation file for networkd (disabled: no unit holds
	// the name it activates); the skip may name it or networkd's Alias=.
	{image: "dbus-org.freedesktop.network1",
		holders: []string{"SystemdService= of /usr/share/dbus-1/system-services/org.freedesktop.network1.service",
			"Alias= of /usr/lib/systemd/system/systemd-networkd.service", "Alias= of /lib/systemd/system/systemd-networkd.service"},
		prepare: `grep -qx 'SystemdService=dbus-org.freedesktop.network1.service' /usr/share/dbus-1/system-services/org.freedesktop.network1.service && [ "$(systemctl show -P LoadState dbus-org.freedesktop.network1.service)" = not-found ]`,
		state:   `systemctl show -p Id -p LoadState -p ActiveState -p FragmentPath dbus-org.freedesktop.network1.service`,
		undo:    "systemctl stop dbus-org.freedesktop.network1.service",
		// A client of the bus name: the bus has PID 1 start the unit of the
		// name, whoever provides it.
		control: map[string]string{"/etc/systemd/system/dbus-org.freedesktop.network1.service": "[Service]\nExecStart=/bin/sleep 300\n"},
		escaped: `busctl --timeout=1 call org.freedesktop.network1 /org/freedesktop/network1 org.freedesktop.DBus.Peer Ping >/dev/null 2>&1; [ "$(systemctl show -P ActiveState dbus-org.freedesktop.network1.service)" = active ]`,
		paths:   []string{"/etc/systemd/system/dbus-org.freedesktop.network1.service"}},
	{image: "dpkg", holders: []string{`prefix "dpkg" belongs to the host`, "/var/lib/dpkg"},
		state: `stat -c '%n %i %u %g %a' /var/lib/dpkg /var/lib/dpkg/status`,
		// StateDirectory= chowns the host's directory to the service.
		prepare: "mkdir -p /var/lib/pg-victim && echo data > /var/lib/pg-victim/file",
		control: map[string]string{"/etc/systemd/system/pg-state-control.service": "[Service]\nDynamicUser=yes\nStateDirectory=pg-victim\nExecStart=/bin/sleep 300\n"},
		start:   "pg-state-control.service", escaped: `test "$(stat -L -c %u /var/lib/pg-victim/file)" != 0`,
		paths: []string{"/var/lib/pg-victim", "/var/lib/private/pg-victim"}},
}

func TestHostHoldingsOnTheHost(t *testing.T) {
	byName := map[string]escapes.Case{}
	for _, c := range escapes.Cases {
		byName[c.Name] = c
	}
	for _, h := range heldClaims {
		c, ok := byName[h.image]
		if !ok {
			t.Fatalf("no corpus case %s", h.image)
		}
		t.Run(c.Name, func(t *testing.T) {
			var controls []string
			for p := range h.control {
				controls = append(controls, p)
			}
			escapeCleanup(t, []string{c.Name}, nil, append(h.paths, controls...)...)
			t.Cleanup(func() {
				if h.start != "" {
					ct.sh("systemctl stop " + h.start + " " + strings.TrimSuffix(h.start, ".socket") + ".service; systemctl reset-failed")
				}
				if h.undo != "" {
					ct.sh(h.undo)
				}
			})
			if h.prepare != "" {
				ct.must(t, "sh", "-c", h.prepare)
			}
			ct.must(t, "systemctl", "daemon-reload")
			before := ct.sh(h.state)
			escapeImage(t, c, filepath.Join(ct.portables, c.Name))
			// The default profile, under which the policy finds each of
			// these images' names its own: the host check alone stands.
			escapeSettings(t, []escapes.Case{c}, "default", false)
			line := listLine(t, c.Name)
			holders := h.holders
			if holders == nil {
				holders = c.Holders
			}
			named := false
			for _, holder := range holders {
				named = named || strings.Contains(line, c.Expand(holder))
			}
			if !strings.Contains(line, " skipped ") || !named {
				t.Errorf("the image is not skipped naming one of %q:\n%s", holders, line)
			}
			for _, u := range c.LoadableUnits() {
				from := ct.show(t, u, "FragmentPath") + " " + ct.show(t, u, "DropInPaths")
				// Ours, not the other generators' (.early, .late).
				if strings.Contains(from, "/run/systemd/generator/") {
					t.Errorf("PID 1 loads %s from our output: %s", u, from)
				}
			}
			if after := ct.sh(h.state); after != before {
				t.Errorf("the host's holding changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			// The control: what PID 1 does with the claim when nothing
			// stops it.
			os.RemoveAll(filepath.Join(ct.portables, c.Name))
			writeFiles(t, ct.merged, h.control)
			ct.must(t, "systemctl", "daemon-reload")
			if h.start != "" {
				ct.exec(context.Background(), "systemctl", "start", h.start)
			}
			poll(t, "the control reaching the host", 10*time.Second, func() error {
				if out, err := ct.exec(context.Background(), "sh", "-c", h.escaped); err != nil {
					return fmt.Errorf("%s: %v %s", h.escaped, err, out)
				}
				return nil
			})
		})
	}
}

// listLine is the image's line of `portable-generator list`.
func listLine(t *testing.T, name string) string {
	t.Helper()
	for _, l := range strings.Split(ct.must(t, "portable-generator", "list"), "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	t.Fatalf("portable-generator list has no line for %s", name)
	return ""
}
