//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portable-generator/portable-generator/examples/imagebuild"
)

// debianExample holds the admin's files of the README's "Running a
// distribution's package as a portable service".
const debianExample = examplesDir + "/debian"

// redisTree is where the Debian 12 tree with redis-server is cached, as
// `just debian-image` caches it.
const redisTree = "/var/cache/portable-generator/bookworm-redis-server"

// TestDistributionPackage: Debian 12's redis-server, exactly as Debian ships it
// (debootstrap from the configured mirror), attached under the default
// profile with only the README's settings file and drop-in, started, and
// answering PING with PONG from its sandbox.
func TestDistributionPackage(t *testing.T) {
	out, err := exec.Command("bash", "debian-tree.sh", redisTree, "bookworm", "redis-server").Output()
	if err != nil {
		t.Fatalf("integration/debian-tree.sh %s bookworm redis-server: %v", redisTree, err)
	}
	tree := strings.TrimSpace(string(out))
	img, err := imagebuild.Pack(tree, imagebuild.Squashfs, filepath.Join(ct.portables, "redis-server.raw"))
	if err != nil {
		t.Fatal(err)
	}
	install := map[string]string{
		"redis-server.portable":                "etc/systemd/portable/redis-server.portable",
		"redis-server.service.d/override.conf": "etc/systemd/system/redis-server.service.d/override.conf",
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ct.exec(ctx, "systemctl", "stop", "redis-server.service")
		os.Remove(img.Path)
		for _, dst := range install {
			os.Remove(filepath.Join(ct.merged, dst))
		}
		ct.exec(ctx, "rm", "-rf", "/etc/systemd/system/redis-server.service.d", "/var/lib/private/redis", "/var/lib/redis")
		ct.exec(ctx, "systemctl", "daemon-reload")
		ct.exec(ctx, "systemctl", "reset-failed", "redis-server.service")
	})

	// Without the admin's files, every refusal is named at once.
	ct.must(t, "systemctl", "daemon-reload")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inspect, _ := ct.exec(ctx, "portable-generator", "inspect", "redis-server")
	for _, want := range []string{"skipped", "User=redis", "Group=redis", "RuntimeDirectory=redis", "PIDFile=/run/redis/redis-server.pid",
		"RuntimeDirectory=redis-%i", "Claim=redis"} {
		if !strings.Contains(inspect, want) {
			t.Errorf("without the admin's files, inspect does not name %q:\n%s", want, inspect)
		}
	}

	for src, dst := range install {
		b, err := os.ReadFile(filepath.Join(debianExample, src))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(ct.merged, dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ct.must(t, "systemctl", "daemon-reload")
	if got := ct.show(t, "redis-server.service", "FragmentPath"); got != "/run/systemd/generator/redis-server.service" {
		t.Fatalf("redis-server.service: FragmentPath %q; list:\n%s", got, ct.sh("portable-generator list"))
	}
	ct.must(t, "systemctl", "start", "redis-server.service")
	pid := mainPID(t, "redis-server.service", "redis-server")
	// Debian's /usr/bin/redis-server is a link to redis-check-rdb.
	if _, err := os.Stat(filepath.Join(ct.merged, "usr/bin/redis-server")); err == nil {
		t.Fatal("the container itself has /usr/bin/redis-server: the test proves nothing")
	}
	if out := ct.sh("stat -L -c %F /proc/" + pid + "/root/usr/bin/redis-check-rdb"); out != "regular file" {
		t.Errorf("redis does not run from the image: /proc/%s/root/usr/bin/redis-check-rdb: %s", pid, out)
	}
	checkSandbox(t, pid)
	if uid := ct.sh("stat -c %u /proc/" + pid); uid == "0" {
		t.Errorf("redis runs as root")
	}

	// RESP over the loopback address, from the container's shell.
	redis := func(cmds ...string) string {
		t.Helper()
		script := `exec 3<>/dev/tcp/127.0.0.1/6379 || exit 1
printf '%s\r\n' "$@" >&3
for _ in "$@"; do IFS= read -r -t 5 line <&3 || exit 1; printf '%s\n' "${line%$'\r'}"; done`
		var answer string
		poll(t, "redis answers "+strings.Join(cmds, ", "), 10*time.Second, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, err := ct.exec(ctx, append([]string{"bash", "-c", script, "redis"}, cmds...)...)
			answer = strings.TrimSpace(out)
			if err != nil {
				return fmt.Errorf("%v: %s\n%s", err, out, ct.sh("systemctl status --no-pager -n 20 redis-server.service"))
			}
			return nil
		})
		return answer
	}
	if got := redis("PING"); got != "+PONG" {
		t.Fatalf("PING: %q", got)
	}
	// Its data goes to its StateDirectory= on the host.
	if got := redis("SET portable generator", "SAVE"); got != "+OK\n+OK" {
		t.Errorf("SET, SAVE: %q", got)
	}
	if out := ct.sh("stat -c %F /var/lib/private/redis/dump.rdb"); out != "regular file" {
		t.Errorf("no dump.rdb in /var/lib/private/redis: %s", out)
	}
	poll(t, "redis's log in the journal, with PORTABLE=", 10*time.Second, func() error {
		if j := ct.sh("journalctl -q -o cat PORTABLE=redis-server.raw _PID=" + pid); !strings.Contains(j, "Ready to accept connections") {
			return fmt.Errorf("journal: %q", j)
		}
		return nil
	})
}
