package escapes

// The host namespace (issue 11): an image may claim nothing the host
// already holds, and the generator writes nowhere but its output directory.
// Each case below gives the host what a real Debian machine has (an alias
// symlink an enablement left in /etc, the admin's own unit, an account, a
// directory, a socket, a template, a SysV script) and an image that names
// it. The image must be skipped, naming what it claims and the host's
// holder, under every profile, trusted included: the profile decides what
// the image's service may do, never whose names it gets. With the host's
// holdings hidden from the generator the same image attaches (the refusal
// is the host check's), and for HostUnits PID 1 then loads the host's unit
// differently (the hijack is real). A few cases are controls that must still
// attach: the admin's mask, the admin's drop-in, systemd's own layout of a
// DynamicUser= state directory.

// withHost are the profiles host cases are judged under.
var withHost = []string{"default", "nonetwork", "strict", "trusted"}

// hostService is a host unit file, as a package ships it.
func hostService(description, service string) HostEntry {
	return file("[Unit]\nDescription=" + description + "\n\n[Service]\n" + service)
}

// install is the baseline service with an [Install] section.
func install(section string) map[string]string {
	return map[string]string{"@N@.service": serviceHead + serviceBody + "\n[Install]\n" + section}
}

// unit is the baseline service under another name (an instance, a name of
// the host's).
func unit(name, service string) map[string]string {
	return map[string]string{name: serviceHead + serviceBody + service}
}

// victim is the admin's unit a write outside the output directory would
// replace; the tests check that every Host entry is unchanged at the end.
const victim = "[Service]\nExecStart=/usr/local/bin/nightly-report\n"

// graphicalTarget is systemd's graphical.target, Debian's default.target:
// it wants display-manager.service, which no unit on a server provides.
var graphicalTarget = file("[Unit]\nDescription=Graphical Interface\nWants=display-manager.service\n")

var hostCases = []Case{
	// 1. Names that become paths. A template's DefaultInstance= is part of
	// the enablement link's name: with '/' and '..' the link landed in the
	// host's /etc and replaced the admin's unit. From the corpus's output
	// directory (one below the test's base), "../root" is the test's host.
	{Name: "default-instance-escape", Attempt: "DefaultInstance= with / and .. puts the enablement link on the admin's unit in /etc",
		Settings: "Enable=yes\n",
		Units: map[string]string{
			"@N@.service":  serviceHead + serviceBody,
			"@N@@.service": "[Service]\nExecStart=/usr/bin/@N@-daemon %i\n\n[Install]\nWantedBy=multi-user.target\nDefaultInstance=/../../../root/etc/systemd/system/victim-one\n",
		},
		Host:     map[string]HostEntry{"etc/systemd/system/victim-one.service": file(victim)},
		Profiles: withHost, Notice: "DefaultInstance="},
	{Name: "alias-path-escape", Attempt: "Alias= with a path onto the admin's unit in /etc",
		Settings: "Enable=yes\n", Units: install("Alias=../../root/etc/systemd/system/victim-two.service\n"),
		Host:     map[string]HostEntry{"etc/systemd/system/victim-two.service": file(victim)},
		Profiles: withHost, Notice: "Alias="},
	{Name: "wantedby-escape", Attempt: "WantedBy= with a path: a .wants directory in the host's /etc",
		Settings: "Enable=yes\n", Units: install("WantedBy=../../root/etc/systemd/system/victim-three.target\n"),
		Host:     map[string]HostEntry{"etc/systemd/system/victim-three.target": file("[Unit]\nDescription=the admin's target\n")},
		Profiles: withHost, Notice: "victim-three"},

	// 2. Aliases an enablement left in /etc: systemd applies the drop-ins of
	// every name a unit has, so the image's sandbox and RootDirectory= would
	// land on the host's unit, which keeps its own ExecStart=, User= and
	// directories.
	{Name: "sshd", Attempt: "named after Debian's sshd.service -> ssh.service alias",
		Units: svc("", ""),
		Host: map[string]HostEntry{
			"usr/lib/systemd/system/ssh.service": hostService("OpenBSD Secure Shell server", "ExecStart=/usr/sbin/sshd -D\n"),
			"etc/systemd/system/sshd.service":    link("../../../usr/lib/systemd/system/ssh.service"),
		},
		HostUnits: []string{"ssh.service"}, Reason: "sshd.service", Holders: []string{"/etc/systemd/system/sshd.service"},
		Profiles: withHost, Refused: withHost},
	{Name: "dbus-org.freedesktop.timesync1", Attempt: "named after stock Debian 12's timesyncd alias: the image's binary as systemd-timesync, at boot",
		Units: svc("", ""),
		Host: map[string]HostEntry{
			"usr/lib/systemd/system/systemd-timesyncd.service": hostService("Network Time Synchronization",
				"Type=notify\nExecStart=/lib/systemd/systemd-timesyncd\nUser=systemd-timesync\nStateDirectory=systemd/timesync\n"),
			"etc/systemd/system/dbus-org.freedesktop.timesync1.service": link("../../../usr/lib/systemd/system/systemd-timesyncd.service"),
		},
		HostUnits: []string{"systemd-timesyncd.service"}, Reason: "dbus-org.freedesktop.timesync1.service",
		Holders:  []string{"/etc/systemd/system/dbus-org.freedesktop.timesync1.service"},
		Profiles: withHost, Refused: withHost},
	{Name: "portablectl-attached", Attempt: "a unit portablectl attached: our drop-ins would apply to it",
		Units:     svc("", ""),
		Host:      map[string]HostEntry{"etc/systemd/system.attached/@N@.service": hostService("attached by portablectl", "ExecStart=/usr/bin/attached\n")},
		HostUnits: []string{"@N@.service"}, Reason: "@N@.service", Holders: []string{"/etc/systemd/system.attached/@N@.service"},
		Profiles: withHost, Refused: withHost},
	{Name: "transient-held", Attempt: "a running systemd-run --unit= of the name",
		Units:     svc("", ""),
		Host:      map[string]HostEntry{"run/systemd/transient/@N@.service": hostService("/usr/bin/sleep 1d", "ExecStart=/usr/bin/sleep 1d\n")},
		HostUnits: []string{"@N@.service"}, Reason: "@N@.service", Holders: []string{"/run/systemd/transient/@N@.service"},
		Profiles: withHost, Refused: withHost},

	// 3. The admin's own unit in /etc: the image's binary would get the
	// admin's EnvironmentFile= and run as the host's backup account.
	{Name: "backup", Attempt: "named after the admin's backup.service with EnvironmentFile= and User=",
		Units: svc("", ""),
		Host: map[string]HostEntry{
			"etc/systemd/system/backup.service": hostService("nightly backup", "ExecStart=/usr/local/bin/backup\nUser=backup\nEnvironmentFile=/etc/backup.env\n"),
			"etc/backup.env":                    file("BACKUP_KEY=not-for-images\n"),
		},
		Accounts:  []string{"backup"},
		HostUnits: []string{"backup.service"}, Reason: "backup.service", Holders: []string{"/etc/systemd/system/backup.service"},
		Profiles: withHost, Refused: withHost},
	// Controls: the admin's mask keeps the image's unit masked; the
	// admin's drop-in directory adjusts the image's unit.
	{Name: "admin-masked", Attempt: "the admin masked the image's unit (control: attaches, stays masked)",
		Units: svc("", ""), Host: map[string]HostEntry{"etc/systemd/system/@N@.service": link("/dev/null")},
		Profiles: withHost, LoadState: "masked", Notice: "masked"},
	{Name: "admin-dropin", Attempt: "the admin's drop-in for the image's unit (control: attaches, with it)",
		Units: svc("", ""), Host: map[string]HostEntry{"etc/systemd/system/@N@.service.d/50-admin.conf": file("[Service]\nEnvironment=ADMIN_SAYS=hello\n")},
		Profiles: withHost, Want: []string{"Environment: ADMIN_SAYS=hello"}},

	// 4. Accounts: DynamicUser= without User= takes the unit's name, and
	// systemd reuses a static host account of that name.
	{Name: "messagebus", Attempt: "DynamicUser= without User= on messagebus.service: runs as the host's messagebus",
		Units: svc("", ""), Accounts: []string{"messagebus"}, Reason: "messagebus", Holders: []string{"account messagebus"},
		Profiles: []string{"default", "nonetwork", "strict"}, Refused: all},
	{Name: "www-data", Attempt: "DynamicUser= without User= on www-data.service",
		Units: svc("", ""), Accounts: []string{"www-data"}, Reason: "www-data", Holders: []string{"account www-data"},
		Profiles: []string{"default", "nonetwork", "strict"}, Refused: all},
	{Name: "userdb-held", Attempt: "an account defined by a userdb record, not /etc/passwd",
		Units: svc("", ""), Host: map[string]HostEntry{"etc/userdb/@N@.user": file(`{"userName":"@N@","uid":60123,"disposition":"system"}` + "\n")},
		Reason: "userdb-held", Holders: []string{"/etc/userdb/@N@.user"},
		Profiles: []string{"default", "nonetwork", "strict"}, Refused: all},
	// Named groups, in the image's namespace, that the host defines: under
	// DynamicUser= PID 1 reuses the host's group, whose files the service
	// then reaches.
	{Name: "group-held", Attempt: "Group= a host group named in the image's namespace (a userdb group record)",
		Units: svc("", "Group=@N@-data\n"), Host: map[string]HostEntry{"etc/userdb/@N@-data.group": file(`{"groupName":"@N@-data","gid":60124,"disposition":"system"}` + "\n")},
		Reason: "Group= claims group-held-data", Holders: []string{"/etc/userdb/@N@-data.group"},
		Profiles: []string{"default", "nonetwork", "strict"}, Refused: all},
	{Name: "supp-held", Attempt: "SupplementaryGroups= a host group named in the image's namespace",
		Units: svc("", "SupplementaryGroups=@N@-adm\n"), Accounts: []string{"supp-held-adm"},
		Reason: "SupplementaryGroups= claims supp-held-adm", Holders: []string{"account supp-held-adm"},
		Profiles: []string{"default", "nonetwork", "strict"}, Refused: all},

	// 5. Host names that happen to be the image's prefix, and host
	// directories and sockets the image's own names would take.
	{Name: "dbus", Attempt: "an image called dbus: RuntimeDirectory=dbus (PID 1 removed the host's /run/dbus on stop)",
		Units: map[string]string{"@N@-helper.service": "[Service]\nExecStart=/usr/bin/@N@-daemon\nRuntimeDirectory=dbus\n"},
		Host: map[string]HostEntry{
			"usr/lib/systemd/system/dbus.service": hostService("D-Bus System Message Bus", "ExecStart=/usr/bin/dbus-daemon --system\n"),
			"run/dbus/system_bus_socket":          socket(),
		},
		// The timesync case's alias and the network1 case's bus name are in
		// the dbus namespace too, as on a stock Debian 12: any may be named.
		Reason: `prefix "dbus"`, Holders: []string{"dbus.service", "dbus-org.freedesktop.timesync1.service", "dbus-org.freedesktop.network1.service"},
		Profiles: withHost, Refused: withHost},
	{Name: "systemd", Attempt: "an image called systemd: a socket on /run/systemd/journal/dev-log (the host's /dev/log)",
		Units: map[string]string{
			"@N@-logger.socket":  "[Socket]\nListenDatagram=/run/systemd/journal/dev-log\n",
			"@N@-logger.service": "[Service]\nExecStart=/usr/bin/@N@-daemon\n",
		},
		Host: map[string]HostEntry{
			"usr/lib/systemd/system/systemd-journald.service": hostService("Journal Service", "ExecStart=/lib/systemd/systemd-journald\n"),
			"run/systemd/journal/dev-log":                     socket(),
		},
		Reason:  `prefix "systemd"`,
		Holders: []string{"systemd-journald.service", "systemd-timesyncd.service"}, Profiles: withHost, Refused: withHost},
	{Name: "dpkg", Attempt: "StateDirectory=dpkg: PID 1 would chown the host's package database to the service",
		Units: svc("", ""), Host: map[string]HostEntry{"var/lib/dpkg/status": file("Package: base-files\n")},
		Reason: "/var/lib/dpkg", Holders: []string{"directory /var/lib/dpkg"}, Profiles: withHost, Refused: withHost},
	{Name: "cron", Attempt: "an image called cron on a host with cron.service",
		Units:  map[string]string{"@N@-job.service": "[Service]\nExecStart=/usr/bin/@N@-daemon\nConfigurationDirectory=cron\n"},
		Host:   map[string]HostEntry{"usr/lib/systemd/system/cron.service": hostService("Regular background program processing daemon", "ExecStart=/usr/sbin/cron -f\n")},
		Reason: `prefix "cron"`, Holders: []string{"cron.service"}, Profiles: withHost, Refused: withHost},
	{Name: "ssh", Attempt: "ConfigurationDirectory=ssh: the host's /etc/ssh (and ssh.service holds the prefix)",
		Units: map[string]string{"@N@-keys.service": "[Service]\nExecStart=/usr/bin/@N@-daemon\nConfigurationDirectory=ssh\n"},
		Host:  map[string]HostEntry{"etc/ssh/sshd_config": file("PermitRootLogin no\n")},
		// ssh.service comes with the sshd case's host.
		Holders: []string{"ssh.service", "/etc/ssh"}, Profiles: withHost, Refused: withHost},
	{Name: "runtime-held", Attempt: "RuntimeDirectory= a directory the host has in /run (removed again on stop)",
		Units: svc("", "RuntimeDirectory=@N@\n"), Host: map[string]HostEntry{"run/@N@/pid": file("4242\n")},
		Reason: "/run/@N@", Holders: []string{"directory /run/@N@"}, Profiles: withHost, Refused: withHost},
	{Name: "apt", Attempt: "CacheDirectory=apt: the host's /var/cache/apt",
		Units: svc("", "CacheDirectory=apt\n"), Host: map[string]HostEntry{"var/cache/apt/pkgcache.bin": file("")},
		Reason: "/var/cache/apt", Holders: []string{"directory /var/cache/apt"}, Profiles: withHost, Refused: withHost},
	{Name: "nginx", Attempt: "LogsDirectory=nginx: the host's /var/log/nginx",
		Units: svc("", "LogsDirectory=nginx\n"), Host: map[string]HostEntry{"var/log/nginx/access.log": file("")},
		Reason: "/var/log/nginx", Holders: []string{"directory /var/log/nginx"}, Profiles: withHost, Refused: withHost},
	{Name: "xml", Attempt: "StateDirectory=xml-\\x63ore: PID 1 unescapes it to the host's /var/lib/xml-core",
		Units: svc("", "StateDirectory=@N@-\\x63ore\n"), Host: map[string]HostEntry{"var/lib/xml-core/catalog": file("<catalog/>\n")},
		Reason: "/var/lib/xml-core", Holders: []string{"directory /var/lib/xml-core"}, Profiles: withHost, Refused: withHost},
	{Name: "socket-held", Attempt: "ListenStream= on a socket the host has in /run (PID 1 removes it to bind)",
		Units: sock("ListenStream=/run/@N@.sock\n"), Host: map[string]HostEntry{"run/@N@.sock": socket()},
		Reason: "/run/@N@.sock", Holders: []string{"socket /run/@N@.sock"}, Profiles: withHost, Refused: withHost},
	// A name granted to the image by an earlier run while the host had
	// nothing there, then made by a package installed since (the host's
	// /var/lib/php with its session files): a DynamicUser= service leaves
	// only systemd's private/ layout there, so a plain directory is the
	// host's whatever the grant says, and PID 1 would move it into private/
	// and chown it, sessions and all, to the image's user. Under trusted
	// (no DynamicUser=) the grant is what keeps the image's own plain
	// directory its own: it attaches.
	{Name: "granted-then-installed", Attempt: "StateDirectory= granted by an earlier run, now a host package's directory",
		Units: svc("", ""),
		Host: map[string]HostEntry{
			"var/lib/@N@/sessions/sess_4f2a": file("user|s:5:\"admin\";\n"),
			"run/portable-generator/state.json": file(`{"version":1,"time":"2026-01-01T00:00:00Z","systemdVersion":252,"images":[` +
				`{"name":"@N@","path":"/var/lib/portables/@N@","state":"attached","grants":["/var/lib/@N@","/var/lib/private/@N@"]}]}` + "\n"),
		},
		Reason: "/var/lib/@N@", Holders: []string{"directory /var/lib/@N@"}, Profiles: withHost, Refused: all},
	// Control: systemd's own DynamicUser= layout of the image's state
	// directory, left by its service's last start.
	{Name: "dynamic-state", Attempt: "/var/lib/NAME is systemd's DynamicUser= symlink into private/ (control: attaches)",
		Units: svc("", ""), Host: map[string]HostEntry{"var/lib/@N@": link("private/@N@"), "var/lib/private/@N@/started": file("")},
		Profiles: withHost},

	// 6. Instances of host templates replace the host's instance, which the
	// host's own links then start; SysV scripts become NAME.service.
	{Name: "getty", Attempt: "getty@tty1.service: replaces the host's login prompt, started by getty.target",
		Units: unit("getty@tty1.service", ""),
		Host: map[string]HostEntry{
			"usr/lib/systemd/system/getty@.service":                    hostService("Getty on %I", "ExecStart=-/sbin/agetty -o '-p -- \\\\u' --noclear - $TERM\n"),
			"etc/systemd/system/getty.target.wants/getty@tty1.service": link("../../../../usr/lib/systemd/system/getty@.service"),
		},
		HostUnits: []string{"getty@tty1.service"}, Reason: "getty@tty1.service", Holders: []string{"getty@.service"},
		Profiles: withHost, Refused: withHost},
	{Name: "modprobe", Attempt: "modprobe@drm.service, which the host's boot pulls in",
		Units:     unit("modprobe@drm.service", ""),
		Host:      map[string]HostEntry{"usr/lib/systemd/system/modprobe@.service": hostService("Load Kernel Module %i", "Type=oneshot\nExecStart=-/sbin/modprobe -abq %i\n")},
		HostUnits: []string{"modprobe@drm.service"}, Reason: "modprobe@drm.service", Holders: []string{"modprobe@.service"},
		Profiles: withHost, Refused: withHost},
	{Name: "user", Attempt: "user@0.service: root's service manager",
		Units:     unit("user@0.service", ""),
		Host:      map[string]HostEntry{"usr/lib/systemd/system/user@.service": hostService("User Manager for UID %i", "User=%i\nExecStart=/lib/systemd/systemd --user\n")},
		HostUnits: []string{"user@0.service"}, Reason: "user@0.service", Holders: []string{"user@.service"},
		Profiles: withHost, Refused: withHost},
	{Name: "serial-getty", Attempt: "serial-getty@ttyS0.service: the serial console's login",
		Units:     unit("serial-getty@ttyS0.service", ""),
		Host:      map[string]HostEntry{"usr/lib/systemd/system/serial-getty@.service": hostService("Serial Getty on %I", "ExecStart=-/sbin/agetty -o '-p -- \\\\u' --keep-baud 115200 - $TERM\n")},
		HostUnits: []string{"serial-getty@ttyS0.service"}, Reason: "serial-getty@ttyS0.service", Holders: []string{"serial-getty@.service"},
		Profiles: withHost, Refused: withHost},
	{Name: "sysv-held", Attempt: "/etc/init.d/NAME, which systemd-sysv-generator turns into NAME.service",
		Units: svc("", ""), Host: map[string]HostEntry{"etc/init.d/@N@": file("#!/bin/sh\n### BEGIN INIT INFO\n# Provides: @N@\n### END INIT INFO\n")},
		Reason: "@N@.service", Holders: []string{"/etc/init.d/@N@"}, Profiles: withHost, Refused: withHost},
	{Name: "legacy-app", Attempt: "/etc/init.d/NAME.sh, which systemd-sysv-generator also turns into NAME.service (the .sh dropped)",
		Units: svc("", ""), Host: map[string]HostEntry{"etc/init.d/@N@.sh": file("#!/bin/sh\n### BEGIN INIT INFO\n# Provides: @N@\n# Default-Start: 2 3 4 5\n### END INIT INFO\n")},
		Reason: "@N@.service", Holders: []string{"/etc/init.d/@N@.sh"}, Profiles: withHost, Refused: withHost},
	{Name: "lsb-alias", Attempt: "a name on a SysV script's LSB Provides: line, which systemd-sysv-generator makes an alias of the script's service",
		Units: svc("", ""), Host: map[string]HostEntry{"etc/init.d/mailer": file("#!/bin/sh\n### BEGIN INIT INFO\n#  provides: mailer $mail-transport-agent @N@\n### END INIT INFO\n")},
		Reason: "@N@.service", Holders: []string{"/etc/init.d/mailer, an alias of mailer.service"}, Profiles: withHost, Refused: withHost},

	// 7. Enable=yes aliases naming a host hook, or another image's unit.
	{Name: "alias-syslog", Attempt: "Enable=yes Alias=syslog.service: the host's syslog.socket would start the image's unit",
		Settings: "Enable=yes\n", Units: install("WantedBy=multi-user.target\nAlias=syslog.service\n"),
		Host:      map[string]HostEntry{"usr/lib/systemd/system/syslog.socket": file("[Unit]\nDescription=Syslog Socket\n\n[Socket]\nListenDatagram=/run/systemd/journal/syslog\n")},
		HostUnits: []string{"syslog.socket", "syslog.service"}, Profiles: withHost, Notice: "Alias=syslog.service"},
	{Name: "alias-display-manager", Attempt: "Enable=yes Alias=display-manager.service, which graphical.target wants",
		Settings: "Enable=yes\n", Units: install("Alias=display-manager.service\n"),
		Host:      map[string]HostEntry{"usr/lib/systemd/system/graphical.target": graphicalTarget},
		HostUnits: []string{"graphical.target", "display-manager.service"}, Profiles: withHost, Notice: "Alias=display-manager.service"},
	// The same hook taken by name: no host unit is called
	// display-manager.service, but graphical.target (Debian's default.target)
	// wants it, so PID 1 would start the image's unit at every boot, without
	// Enable=yes.
	{Name: "display", Attempt: "a unit named display-manager.service, which graphical.target pulls in at boot",
		Units:     unit("display-manager.service", ""),
		Host:      map[string]HostEntry{"usr/lib/systemd/system/graphical.target": graphicalTarget},
		HostUnits: []string{"display-manager.service"}, Reason: "display-manager.service",
		Holders:  []string{"Wants= of /usr/lib/systemd/system/graphical.target"},
		Profiles: withHost, Refused: withHost},
	// The bus's hook: a D-Bus activation file names the unit the bus asks
	// PID 1 to start for a client of its bus name. Debian's systemd ships
	// the file for networkd, whose alias of that name exists only once the
	// admin enables networkd: until then no unit holds the name, and the
	// image's unit would be started by any `networkctl`.
	{Name: "dbus-org.freedesktop.network1", Attempt: "named after the unit D-Bus activates for org.freedesktop.network1 while networkd is disabled",
		Units: svc("", ""),
		Host: map[string]HostEntry{"usr/share/dbus-1/system-services/org.freedesktop.network1.service": file(
			"[D-BUS Service]\nName=org.freedesktop.network1\nExec=/bin/false\nUser=root\nSystemdService=@N@.service\n")},
		Reason:   "@N@.service",
		Holders:  []string{"SystemdService= of /usr/share/dbus-1/system-services/org.freedesktop.network1.service"},
		Profiles: withHost, Refused: withHost},
	// The alias a host package's unit takes once enabled (ssh's
	// sshd.service, redis-server's redis.service): the package's name
	// before the admin enables it, and the bus's, whose activation files
	// name such aliases.
	{Name: "vendor-alias", Attempt: "named after the Alias= of a host package's unit that is not enabled yet",
		Units: svc("", ""),
		Host: map[string]HostEntry{"usr/lib/systemd/system/mailerd.service": hostService("mail transfer agent",
			"ExecStart=/usr/sbin/mailerd\n\n[Install]\nWantedBy=multi-user.target\nAlias=@N@.service\n")},
		Reason:   "@N@.service",
		Holders:  []string{"Alias= of /usr/lib/systemd/system/mailerd.service"},
		Profiles: withHost, Refused: withHost},
	// A bus name a host service watches: PID 1 refuses to load a second
	// service that watches a name a loaded one watches ("Two services
	// allocated for the same bus name"), so the image's service, loaded
	// first (Enable=yes, or any reload that loads it), would keep the
	// host's from loading at all.
	{Name: "busname-held", Attempt: "BusName= of a host service, to keep the host's service from loading",
		Units: svc("", "Type=dbus\nBusName=org.example.Mailer\n"),
		Host: map[string]HostEntry{"usr/lib/systemd/system/mailer.service": hostService("mail transfer agent",
			"Type=dbus\nBusName=org.example.Mailer\nExecStart=/usr/sbin/mailerd\n")},
		Reason:   "org.example.Mailer",
		Holders:  []string{"BusName= of /usr/lib/systemd/system/mailer.service"},
		Profiles: withHost, Refused: withHost},
	// The same in the admin's own unit file.
	{Name: "busname-admin", Attempt: "BusName= of a service the admin wrote in /etc, to keep it from loading",
		Units: svc("", "Type=dbus\nBusName=org.example.Backup\n"),
		Host: map[string]HostEntry{"etc/systemd/system/backupd.service": hostService("the admin's backup daemon",
			"Type=dbus\nBusName=org.example.Backup\nExecStart=/usr/local/sbin/backupd\n")},
		Reason:   "org.example.Backup",
		Holders:  []string{"BusName= of /etc/systemd/system/backupd.service"},
		Profiles: withHost, Refused: withHost},
	// A directory of the image's own name that the host has: PID 1 would
	// mount whatever the admin keeps there (a noauto backup disk) when
	// the service starts.
	{Name: "mounted", Attempt: "RequiresMountsFor= its own name below /var/cache, where the host has a directory of that name",
		Units:    svc("RequiresMountsFor=/var/cache/@N@\n", ""),
		Host:     map[string]HostEntry{"var/cache/mounted/archive.tar": file("the admin's\n")},
		Reason:   "/var/cache/mounted",
		Holders:  []string{"directory /var/cache/mounted"},
		Profiles: withHost, Refused: withHost},
	// An instance of another image's template: PID 1 loads a unit file of
	// the instance's own name before the template, so the instance the
	// other image's links (or anyone) start would be this image's unit.
	{Name: "tmpl", Attempt: "a unit named like an instance of another image's template, to take that instance",
		Units: unit("tmpl.victim@one.service", ""),
		Host: map[string]HostEntry{
			"var/lib/portables/tmpl.victim/usr/lib/os-release":                          file("ID=corpus\nVERSION_ID=1\n"),
			"var/lib/portables/tmpl.victim/usr/lib/systemd/system/tmpl.victim@.service": file("[Unit]\nDescription=the victim image's %i\n\n[Service]\nExecStart=/usr/bin/victim %i\n"),
		},
		Reason:   "tmpl.victim@",
		Others:   map[string][]string{"tmpl.victim@one.service": {"Description: the victim image's one", "Unit Load State: loaded"}},
		Profiles: withHost, Refused: withHost},
	// Units systemd's generators write into our output directory while we
	// run: the last writer of a name wins.
	{Name: "sshd-unix-local", Attempt: "systemd-ssh-generator's sshd-unix-local.socket (257), written beside ours",
		Units: sock(""), Host: map[string]HostEntry{"usr/lib/systemd/system-generators/systemd-ssh-generator": file("#!/bin/sh\n")},
		Reason: "sshd-unix-local.", Holders: []string{"the output of /usr/lib/systemd/system-generators/systemd-ssh-generator"},
		Profiles: withHost, Refused: withHost},
	{Name: "kernel", Attempt: "systemd-run-generator's kernel-command-line.service, for systemd.run= on the kernel command line",
		Units: unit("kernel-command-line.service", ""), Host: map[string]HostEntry{"usr/lib/systemd/system-generators/systemd-run-generator": file("#!/bin/sh\n")},
		Reason: "kernel-command-line.service", Holders: []string{"systemd-run-generator"},
		Profiles: withHost, Refused: withHost},
	// The generator's own units: the image's drop-ins would apply to ours
	// (KeepUnit, which keeps the grants across reboots, would run in the
	// image), or ours would replace its unit. (Under trusted the corpus has
	// units that need KeepUnit: PID 1 loads ours.)
	{Name: "portable-generator-state", Attempt: "named after the generator's own portable-generator-state.service",
		Units: svc("", ""), Reason: "portable-generator-state.service", Refused: all},
	{Name: "alias-thief", Attempt: "Enable=yes Alias= another image's unit, to switch that image off",
		Settings: "Enable=yes\n", Units: install("Alias=alias-thief-victim.service\n"),
		Host: map[string]HostEntry{
			"var/lib/portables/alias-thief-victim/usr/lib/os-release":                                file("ID=corpus\nVERSION_ID=1\n"),
			"var/lib/portables/alias-thief-victim/usr/lib/systemd/system/alias-thief-victim.service": file("[Unit]\nDescription=the victim image\n\n[Service]\nExecStart=/usr/bin/victim\n"),
		},
		Reason:   "alias-thief-victim.service",
		Others:   map[string][]string{"alias-thief-victim.service": {"Description: the victim image", "Unit Load State: loaded"}},
		Profiles: withHost, Refused: withHost},
}
