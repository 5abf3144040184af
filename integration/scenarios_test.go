//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
)

// TestUpgrade: counter_1 runs; counter_2 is added, reload and restart run
// version 2; removing counter_2 brings back 1; the StateDirectory= count
// survives every step.
func TestUpgrade(t *testing.T) {
	fresh(t)
	dropImage(t, "counter", imagebuild.Squashfs, "1", "upgrade")
	ct.must(t, "systemctl", "daemon-reload")
	if l := startedLine(t, "start", 1); !strings.Contains(l, "version=1 ") {
		t.Fatalf("first start: %s", l)
	}
	v2 := dropImage(t, "counter", imagebuild.Squashfs, "2", "upgrade")
	ct.must(t, "systemctl", "daemon-reload")
	if l := startedLine(t, "restart", 2); !strings.Contains(l, "version=2 ") {
		t.Errorf("after adding counter_2.raw: %s", l)
	}
	os.Remove(v2.Path)
	ct.must(t, "systemctl", "daemon-reload")
	if l := startedLine(t, "restart", 3); !strings.Contains(l, "version=1 ") {
		t.Errorf("after removing counter_2.raw: %s", l)
	}
}

// TestShadowAndMask: an image in /etc/portables shadows one in
// /var/lib/portables; a /dev/null symlink masks the name.
func TestShadowAndMask(t *testing.T) {
	fresh(t)
	dropImage(t, "counter", imagebuild.Squashfs, "1", "from-var")
	// /etc/portables is meant for symlinks: link to an image placed in
	// the container's /srv.
	if err := os.MkdirAll(filepath.Join(ct.merged, "srv/images"), 0o755); err != nil {
		t.Fatal(err)
	}
	buildImage(t, "counter", imagebuild.Squashfs, "9", "from-etc", filepath.Join(ct.merged, "srv/images/counter_9.raw"))
	ct.must(t, "mkdir", "-p", "/etc/portables")
	ct.must(t, "ln", "-sf", "/srv/images/counter_9.raw", "/etc/portables/counter_9.raw")
	ct.must(t, "systemctl", "daemon-reload")
	if l := startedLine(t, "start", 1); !strings.Contains(l, "build=from-etc") {
		t.Errorf("/etc/portables does not shadow /var/lib/portables: %s", l)
	}
	if list := ct.must(t, "portable-generator", "list"); !strings.Contains(list, "shadowed") {
		t.Errorf("list does not show the shadowed image:\n%s", list)
	}
	ct.must(t, "systemctl", "stop", "counter.service")
	ct.must(t, "ln", "-sf", "/dev/null", "/etc/portables/counter.raw")
	ct.must(t, "systemctl", "daemon-reload")
	if got := ct.show(t, "counter.service", "LoadState"); got != "not-found" {
		t.Errorf("masked image still loads: %s", got)
	}
}

// interfaces lists the network interfaces a process sees.
func interfaces(t *testing.T, pid string) []string {
	t.Helper()
	var names []string
	for _, l := range strings.Split(ct.must(t, "cat", "/proc/"+pid+"/net/dev"), "\n")[2:] {
		if name := strings.TrimSpace(strings.SplitN(l, ":", 2)[0]); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// TestProfiles: the per-image profile (Profile= in NAME.portable) is what
// PID 1 applies. The default profile shares the container's network (its
// veth pair); nonetwork and strict leave only loopback; trusted runs the
// image unconfined, as root, in the host's user namespace.
func TestProfiles(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		fresh(t)
		dropImage(t, "counter", imagebuild.Squashfs, "1", "default")
		ct.must(t, "systemctl", "daemon-reload")
		startedLine(t, "start", 1)
		pid := mainPID(t, "counter.service", "counter")
		if names := interfaces(t, pid); !contains(names, "pg-veth0") {
			t.Errorf("the default profile hides the container's network: %v", names)
		}
		checkSandbox(t, pid)
	})
	for _, profile := range []string{"nonetwork", "strict"} {
		t.Run(profile, func(t *testing.T) {
			fresh(t)
			dropImage(t, "counter", imagebuild.Squashfs, "1", profile)
			settings(t, "counter", "Profile="+profile+"\n")
			ct.must(t, "systemctl", "daemon-reload")
			startedLine(t, "start", 1)
			pid := mainPID(t, "counter.service", "counter")
			if names := interfaces(t, pid); len(names) != 1 || names[0] != "lo" {
				t.Errorf("%s service sees interfaces %v, want only lo", profile, names)
			}
			if got := ct.show(t, "counter.service", "PrivateNetwork"); got != "yes" {
				t.Errorf("PrivateNetwork=%s", got)
			}
			checkSandbox(t, pid)
			if profile == "strict" {
				if got := ct.show(t, "counter.service", "TasksMax"); got != "4" {
					t.Errorf("strict: TasksMax=%s", got)
				}
				if got := ct.sh("grep CapEff /proc/" + pid + "/status"); got != "CapEff:\t0000000000000000" {
					t.Errorf("strict: %s", got)
				}
			}
		})
	}
	t.Run("nonetwork-socket", func(t *testing.T) {
		// Without a network of its own, a socket-activated service still
		// answers: PID 1 listens and hands it the socket. The admin has to
		// allow the socket on the host's network for that.
		fresh(t)
		dropImage(t, "greeter", imagebuild.Squashfs, "1", "nonetwork")
		settings(t, "greeter", "Profile=nonetwork\nAllowDirectives=ListenStream\n")
		ct.must(t, "systemctl", "daemon-reload")
		ct.must(t, "systemctl", "start", "greeter.socket")
		if out, err := httpGet(t, "http://127.0.0.1:8080/"); err != nil || !strings.Contains(out, "build=nonetwork") {
			t.Fatalf("greeter under nonetwork: %v: %s", err, out)
		}
		pid := mainPID(t, "greeter.service", "greeter")
		if names := interfaces(t, pid); len(names) != 1 || names[0] != "lo" {
			t.Errorf("nonetwork greeter sees interfaces %v", names)
		}
	})
	t.Run("trusted", func(t *testing.T) {
		fresh(t)
		dropImage(t, "counter", imagebuild.Squashfs, "1", "trusted")
		settings(t, "counter", "Profile=trusted\n")
		ct.must(t, "systemctl", "daemon-reload")
		// (An empty system call filter shows as "~", an empty deny list.)
		for prop, want := range map[string]string{"DynamicUser": "no", "PrivateUsers": "no", "NoNewPrivileges": "no",
			"SystemCallFilter": "~", "RestrictNamespaces": "no", "BindPaths": "/run:/run:rbind"} {
			if got := ct.show(t, "counter.service", prop); got != want {
				t.Errorf("trusted: %s=%q, want %q", prop, got, want)
			}
		}
		if ct.version >= 254 {
			// From 254 on PID 1 stages the host's os-release under
			// /run/host in the service's root, which BindPaths=/run makes
			// the container's /run/host, read-only under nspawn: the
			// service fails with 226/NAMESPACE. systemd's own trusted
			// profile, attached by portablectl, fails the same way here.
			t.Logf("start not attempted on systemd %d: nspawn's /run/host is read-only", ct.version)
			return
		}
		ct.must(t, "systemctl", "start", "counter.service")
		// No DynamicUser=: the state directory is not under private/.
		line := counterLineIn(t, "/var/lib/counter", 1)
		if !strings.Contains(line, " uid=0") {
			t.Errorf("trusted: not root: %s", line)
		}
		pid := mainPID(t, "counter.service", "counter")
		runsFromImage(t, pid, "counter")
		if n, base := seccompFilters(t, pid), seccompFilters(t, "1"); n != base {
			t.Errorf("trusted: %d system call filters, PID 1 (nspawn's) has %d", n, base)
		}
		if uidMap := ct.must(t, "cat", "/proc/"+pid+"/uid_map"); !strings.Contains(uidMap, "4294967295") {
			t.Errorf("trusted: in a user namespace: %q", uidMap)
		}
		if names := interfaces(t, pid); !contains(names, "pg-veth0") {
			t.Errorf("trusted: no network: %v", names)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
