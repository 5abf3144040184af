//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// bootOptions say what a container boots.
type bootOptions struct {
	// tree is the OS booted: "/" for this machine's own, or a debootstrap
	// tree. It is the lower layer of an overlay and never written.
	tree string
	// setup edits the container's root (a host path) before its first
	// boot, after the harness made it a clean machine.
	setup func(root string) error
	// noPortables leaves /var/lib/portables to the container instead of
	// binding the host directory the tests drop images into.
	noPortables bool
}

// container is one systemd booted in systemd-nspawn. Its root is an overlay
// of the OS tree with a tmpfs upper layer that lives as long as the
// container, so /etc and /var survive a reboot (reboot) and vanish with it
// (destroy).
type container struct {
	opts      bootOptions
	generator string
	dir       string // work directory on the host
	merged    string // the container's root on the host
	portables string // host directory bound at /var/lib/portables
	nspawn    *exec.Cmd
	exited    chan struct{} // closed when nspawn has exited
	leader    int           // the container's PID 1, as the host sees it
	console   *syncBuffer
	version   int // systemd version of the container's PID 1
}

// syncBuffer is the console log, written by nspawn's output copier while
// the tests may read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// integInit is the container's first process. GPT images need the kernel's
// partition nodes (/dev/loopNpM), and those appear only in a devtmpfs, so
// it mounts the host's devtmpfs over nspawn's /dev, keeps nspawn's console,
// pts, shm and mqueue, and execs systemd. The container has a private
// network with a veth pair besides loopback, so a service's network
// namespace can be told apart from the container's.
const integInit = `#!/bin/sh
set -e
mount --make-rprivate /
mkdir -p /run/integ-dev
mount --bind /dev /run/integ-dev
mount -t devtmpfs devtmpfs /dev
for d in console pts shm mqueue; do
	[ -e /run/integ-dev/$d ] || continue
	if [ -d /run/integ-dev/$d ]; then mkdir -p /dev/$d; else touch /dev/$d; fi
	mount --bind /run/integ-dev/$d /dev/$d
done
umount -l /run/integ-dev
ip link add pg-veth0 type veth peer name pg-veth1 2>/dev/null || true
exec /lib/systemd/systemd "$@"
`

// boot makes a container for the OS tree with our generator installed
// (bound in; none when generator is "") and boots it.
func boot(generator string, o bootOptions) (*container, error) {
	dir, err := os.MkdirTemp("", "pg-integration-")
	if err != nil {
		return nil, err
	}
	c := &container{opts: o, generator: generator, dir: dir, merged: filepath.Join(dir, "merged"),
		portables: filepath.Join(dir, "portables"), console: &syncBuffer{}}
	if err := c.prepare(); err != nil {
		c.destroy()
		return nil, err
	}
	if err := c.start(); err != nil {
		return c, err
	}
	return c, nil
}

// prepare mounts the overlay and makes the root a clean machine: its own
// machine-id, no portable or attached state, no admin enablements from the
// tree (so booting multi-user.target starts only the OS's static units and
// what the tests enable), and the init above.
func (c *container) prepare() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ov := filepath.Join(c.dir, "ov")
	for _, d := range []string{ov, c.merged, c.portables} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if out, err := run(ctx, "mount", "-t", "tmpfs", "tmpfs", ov); err != nil {
		return fmt.Errorf("mount tmpfs: %v: %s", err, out)
	}
	os.MkdirAll(filepath.Join(ov, "upper"), 0o755)
	os.MkdirAll(filepath.Join(ov, "work"), 0o755)
	if out, err := run(ctx, "mount", "-t", "overlay", "overlay", "-o",
		"lowerdir="+c.opts.tree+",upperdir="+ov+"/upper,workdir="+ov+"/work", c.merged); err != nil {
		return fmt.Errorf("mount overlay: %v: %s", err, out)
	}
	root := c.merged
	if err := os.WriteFile(filepath.Join(root, "etc/machine-id"), nil, 0o444); err != nil {
		return err
	}
	for _, p := range []string{"etc/systemd/system.attached", "etc/portables", "etc/systemd/portable",
		"etc/systemd/portable-generator.conf", "etc/systemd/portable-generator.conf.d",
		"etc/systemd/system/multi-user.target.wants", "etc/systemd/system/timers.target.wants", "var/lib/portables",
		"etc/systemd/system/getty.target.wants", "etc/systemd/system/getty.target", "etc/systemd/system/systemd-logind.service"} {
		if err := os.RemoveAll(filepath.Join(root, p)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "var/lib/portables"), 0o700); err != nil {
		return err
	}
	// No logins: the gettys find no terminal in the container and restart
	// in a loop, and logind only costs boot time.
	for _, u := range []string{"getty.target", "systemd-logind.service"} {
		if err := os.Symlink("/dev/null", filepath.Join(root, "etc/systemd/system", u)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(root, "usr/local/sbin/integ-init"), []byte(integInit), 0o755); err != nil {
		return err
	}
	if c.opts.setup != nil {
		return c.opts.setup(root)
	}
	return nil
}

// start boots PID 1 and waits until it has reached multi-user.target.
func (c *container) start() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{"-q", "-D", c.merged, "--register=no", "--keep-unit", "--console=passive", "--private-network",
		"--bind=/dev/loop-control",
	}
	if c.generator != "" { // "": the test installs it itself (the package)
		args = append(args, "--bind-ro="+c.generator+":/usr/lib/systemd/system-generators/portable-generator",
			"--bind-ro="+c.generator+":/usr/local/bin/portable-generator")
	}
	if !c.opts.noPortables {
		args = append(args, "--bind="+c.portables+":/var/lib/portables")
	}
	for i := 0; i < 16; i++ {
		node := fmt.Sprintf("/dev/loop%d", i)
		if _, err := os.Stat(node); err != nil {
			run(ctx, "mknod", node, "b", "7", strconv.Itoa(i))
		}
		args = append(args, "--bind="+node)
	}
	args = append(args, "--kill-signal=SIGRTMIN+3", "/usr/local/sbin/integ-init", "systemd.unit=multi-user.target")
	c.nspawn = exec.Command("systemd-nspawn", args...)
	c.nspawn.Stdout, c.nspawn.Stderr = c.console, c.console
	c.leader = 0
	if err := c.nspawn.Start(); err != nil {
		return err
	}
	c.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(c.nspawn, c.exited)
	// The container's init is the nspawn child that is no longer nspawn
	// (nspawn forks helpers of its own first); drive it with nsenter.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && c.leader == 0; time.Sleep(50 * time.Millisecond) {
		out, _ := run(ctx, "pgrep", "-P", strconv.Itoa(c.nspawn.Process.Pid))
		for _, f := range strings.Fields(out) {
			comm, _ := os.ReadFile("/proc/" + f + "/comm")
			if name := strings.TrimSpace(string(comm)); name == "systemd" || name == "integ-init" {
				c.leader, _ = strconv.Atoi(f)
			}
		}
	}
	if c.leader == 0 {
		return fmt.Errorf("container did not start: %s", c.console)
	}
	// PID 1 needs a moment before its bus exists: retry until it answers.
	var out string
	var err error
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, err = c.exec(ctx, "systemctl", "is-system-running", "--wait")
		if err == nil || strings.Contains(out, "degraded") {
			break
		}
	}
	if err != nil && !strings.Contains(out, "degraded") {
		return fmt.Errorf("boot: %v: %s\nconsole:\n%s", err, out, c.console)
	}
	v, _ := c.exec(ctx, "systemctl", "--version")
	m := regexp.MustCompile(`^systemd (\d+)`).FindStringSubmatch(v)
	if m == nil {
		return fmt.Errorf("systemctl --version: %q", v)
	}
	c.version, _ = strconv.Atoi(m[1])
	return nil
}

// exec runs a command inside the container.
func (c *container) exec(ctx context.Context, args ...string) (string, error) {
	return run(ctx, "nsenter", append([]string{"-t", strconv.Itoa(c.leader), "-a", "--"}, args...)...)
}

// shutdown stops PID 1 in order and waits for nspawn; the root stays.
func (c *container) shutdown() {
	if c.nspawn == nil || c.exited == nil {
		return
	}
	select {
	case <-c.exited:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c.leader != 0 {
		c.exec(ctx, "systemctl", "exit", "0")
	}
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		c.nspawn.Process.Kill()
		<-c.exited
	}
}

// reboot shuts the container down and boots it again on the same root,
// with the same portables directory.
func (c *container) reboot(t *testing.T) {
	t.Helper()
	c.shutdown()
	if err := c.start(); err != nil {
		t.Fatalf("reboot: %v", err)
	}
}

// destroy shuts the container down and removes its root.
func (c *container) destroy() {
	c.shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run(ctx, "umount", c.merged)
	run(ctx, "umount", filepath.Join(c.dir, "ov"))
	os.RemoveAll(c.dir)
}

func (c *container) must(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.exec(ctx, args...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

// sh runs a shell command line in the container, ignoring its status.
func (c *container) sh(script string) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, _ := c.exec(ctx, "sh", "-c", script)
	return strings.TrimSpace(out)
}

func (c *container) show(t *testing.T, unit, prop string) string {
	t.Helper()
	return c.must(t, "systemctl", "show", "-P", prop, unit)
}

// poll retries f until it succeeds or the time is up.
func poll(t *testing.T, what string, timeout time.Duration, f func() error) {
	t.Helper()
	if err := pollErr(timeout, f); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// pollErr calls f until it returns nil or timeout has passed, and returns
// its last error.
func pollErr(timeout time.Duration, f func() error) error {
	var err error
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = f(); err == nil {
			return nil
		}
	}
	return err
}
