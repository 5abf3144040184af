//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
)

// TestDemo is `just demo`: the whole workflow narrated for a person, in a
// real systemd booted in systemd-nspawn. It runs only with PG_DEMO=1.
func TestDemo(t *testing.T) {
	if os.Getenv("PG_DEMO") != "1" {
		t.Skip("the demo runs with PG_DEMO=1 (just demo)")
	}
	fresh(t)
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

	say("Build the example image (examples/greeter: a static Go HTTP server, its .socket, a .timer-driven check) as squashfs, and drop it in:")
	img := dropImage(t, "greeter", imagebuild.Squashfs, "1", "demo")
	show("ls", "-l", "/var/lib/portables")

	say("systemctl daemon-reload: the generator reads the image without mounting it and writes its units")
	show("systemctl", "daemon-reload")
	show("portable-generator", "list")
	show("find", "/run/systemd/generator", "-path", "*greeter*")
	show("cat", "/run/systemd/generator/greeter.service.d/20-portable.conf")

	say("systemctl start greeter.socket: PID 1 listens on port 8080; the service is not running yet")
	show("systemctl", "start", "greeter.socket")
	show("systemctl", "is-active", "greeter.service")

	say("A connection starts greeter.service from the image, and it answers:")
	fmt.Println("$ greeter check http://127.0.0.1:8080/")
	out, err := httpGet(t, "http://127.0.0.1:8080/")
	fmt.Println(out)
	if err != nil {
		t.Fatalf("greeter did not answer: %v", err)
	}
	pid := mainPID(t, "greeter.service", "greeter")
	show("systemctl", "status", "--no-pager", "greeter.service")
	show("journalctl", "--no-pager", "-o", "cat", "PORTABLE=greeter_1.raw")

	say("Its sandbox, as PID 1 applies it (default profile):")
	show("systemctl", "show", "-p", "RootImage,DynamicUser,PrivateUsers,ProtectSystem,PrivateDevices,RestrictAddressFamilies,CapabilityBoundingSet", "greeter.service")
	show("grep", "-E", "^(Uid|Seccomp|NoNewPrivs):", "/proc/"+pid+"/status")
	show("sh", "-c", "systemd-analyze security greeter.service | tail -1")

	say("Remove the image and reload: the units are gone, nothing left behind")
	show("systemctl", "stop", "greeter.socket", "greeter.service")
	os.Remove(img.Path)
	show("systemctl", "daemon-reload")
	show("systemctl", "show", "-p", "Id,LoadState", "greeter.socket", "greeter.service")
	show("sh", "-c", "ls /run/systemd/generator | grep -c greeter || true")
	say("Done.")
}
