//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDemo is `just demo`: the whole workflow narrated for a person, in a
// real systemd booted in systemd-nspawn. It runs only with PG_DEMO=1.
func TestDemo(t *testing.T) {
	if os.Getenv("PG_DEMO") != "1" {
		t.Skip("the demo runs with PG_DEMO=1 (just demo)")
	}
	say := func(format string, args ...any) { fmt.Printf("\n\033[1m==> "+format+"\033[0m\n", args...) }
	show := func(args ...string) string {
		fmt.Printf("$ %s\n", strings.Join(args, " "))
		out, _ := ct.exec(context.Background(), args...)
		fmt.Print(out)
		return out
	}
	say("A real systemd is running in a container (systemd-nspawn), with portable-generator installed:")
	show("systemctl", "--version")
	show("ls", "-l", "/usr/lib/systemd/system-generators/portable-generator")

	say("Build the example image (examples/counter, a static Go binary in a squashfs image) and drop it in:")
	img := makeImage(t, counterTree(t, "1", "demo"), "squashfs", "counter_1.raw")
	cleanup(t, img)
	show("ls", "-l", "/var/lib/portables")

	say("systemctl daemon-reload: the generator reads the image without mounting it and writes its units")
	show("systemctl", "daemon-reload")
	show("portable-generator", "list")
	show("find", "/run/systemd/generator", "-path", "*counter*")

	say("systemctl start counter.service: it runs from the image")
	startedLine(t, "start", 1)
	show("systemctl", "status", "--no-pager", "counter.service")
	show("journalctl", "--no-pager", "-o", "cat", "PORTABLE=counter_1.raw")

	say("Its sandbox, as PID 1 applies it (default profile):")
	show("systemctl", "show", "-p", "RootImage,DynamicUser,PrivateUsers,ProtectSystem,PrivateDevices,RestrictAddressFamilies,CapabilityBoundingSet", "counter.service")
	pid := strings.TrimSpace(show("systemctl", "show", "-P", "MainPID", "counter.service"))
	show("grep", "-E", "^(Uid|Seccomp|NoNewPrivs):", "/proc/"+pid+"/status")
	show("sh", "-c", "systemd-analyze security counter.service | tail -1")

	say("Remove the image and reload: the unit is gone, nothing left behind")
	show("systemctl", "stop", "counter.service")
	os.Remove(img)
	show("systemctl", "daemon-reload")
	show("systemctl", "show", "-p", "LoadState", "counter.service")
	show("sh", "-c", "ls /run/systemd/generator | grep -c counter || true")
	show("losetup", "-a")
	time.Sleep(100 * time.Millisecond)
	say("Done.")
}
