//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// container is one booted systemd in systemd-nspawn.
type container struct {
	dir       string // work directory on the host
	merged    string // the container's root on the host
	portables string // host directory bound at /var/lib/portables
	nspawn    *exec.Cmd
	leader    int
	console   *bytes.Buffer
}

func run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// boot starts the host OS in a container with our generator installed.
func boot(generator string) (*container, error) {
	dir, err := os.MkdirTemp("", "pg-integration-")
	if err != nil {
		return nil, err
	}
	c := &container{dir: dir, merged: filepath.Join(dir, "merged"), portables: filepath.Join(dir, "portables"), console: &bytes.Buffer{}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ov := filepath.Join(dir, "ov")
	for _, d := range []string{ov, c.merged, c.portables} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if out, err := run(ctx, "mount", "-t", "tmpfs", "tmpfs", ov); err != nil {
		return nil, fmt.Errorf("mount tmpfs: %v: %s", err, out)
	}
	os.MkdirAll(filepath.Join(ov, "upper"), 0o755)
	os.MkdirAll(filepath.Join(ov, "work"), 0o755)
	if out, err := run(ctx, "mount", "-t", "overlay", "overlay", "-o",
		"lowerdir=/,upperdir="+ov+"/upper,workdir="+ov+"/work", c.merged); err != nil {
		return nil, fmt.Errorf("mount overlay: %v: %s", err, out)
	}
	// A clean machine: its own machine-id, no attached or portable state
	// from the host, and a target that starts only what the tests need.
	os.WriteFile(filepath.Join(c.merged, "etc/machine-id"), nil, 0o444)
	os.RemoveAll(filepath.Join(c.merged, "etc/systemd/system.attached"))
	os.RemoveAll(filepath.Join(c.merged, "etc/portables"))
	os.WriteFile(filepath.Join(c.merged, "etc/systemd/system/integ.target"),
		[]byte("[Unit]\nDescription=portable-generator integration\nRequires=basic.target\nAfter=basic.target\nWants=dbus.socket systemd-journald.service\n"), 0o644)
	// GPT images need the kernel's partition nodes (/dev/loopNpM), and
	// those appear only in a devtmpfs, so
	// the container's init mounts the host's devtmpfs over nspawn's /dev,
	// keeps nspawn's console, pts, shm and mqueue, and execs systemd.
	init := "#!/bin/sh\nset -e\nmount --make-rprivate /\nmkdir -p /run/integ-dev\nmount --bind /dev /run/integ-dev\nmount -t devtmpfs devtmpfs /dev\n" +
		"for d in console pts shm mqueue; do [ -e /run/integ-dev/$d ] || continue; [ -d /run/integ-dev/$d ] && mkdir -p /dev/$d || touch /dev/$d; mount --bind /run/integ-dev/$d /dev/$d; done\n" +
		"umount -l /run/integ-dev\nexec /lib/systemd/systemd \"$@\"\n"
	if err := os.WriteFile(filepath.Join(c.merged, "usr/local/sbin/integ-init"), []byte(init), 0o755); err != nil {
		return nil, err
	}
	args := []string{"-q", "-D", c.merged, "--register=no", "--keep-unit", "--console=passive",
		"--bind=/dev/loop-control",
		"--bind-ro=" + generator + ":/usr/lib/systemd/system-generators/portable-generator",
		"--bind-ro=" + generator + ":/usr/local/bin/portable-generator",
		"--bind=" + c.portables + ":/var/lib/portables",
	}
	for i := 0; i < 16; i++ {
		node := fmt.Sprintf("/dev/loop%d", i)
		if _, err := os.Stat(node); err != nil {
			run(ctx, "mknod", node, "b", "7", strconv.Itoa(i))
		}
		args = append(args, "--bind="+node)
	}
	args = append(args, "--kill-signal=SIGRTMIN+3", "/usr/local/sbin/integ-init", "systemd.unit=integ.target")
	c.nspawn = exec.Command("systemd-nspawn", args...)
	c.nspawn.Stdout, c.nspawn.Stderr = c.console, c.console
	if err := c.nspawn.Start(); err != nil {
		return nil, err
	}
	// The container's init is the nspawn child; drive it with nsenter.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out, _ := run(ctx, "pgrep", "-P", strconv.Itoa(c.nspawn.Process.Pid))
		if pid, err := strconv.Atoi(strings.TrimSpace(out)); err == nil {
			c.leader = pid
			break
		}
	}
	if c.leader == 0 {
		c.stop()
		return nil, fmt.Errorf("container did not start: %s", c.console)
	}
	// PID 1 needs a moment before its bus exists: retry until it answers.
	var out string
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, err = c.exec(ctx, "systemctl", "is-system-running", "--wait")
		if err == nil || strings.Contains(out, "degraded") {
			return c, nil
		}
	}
	return c, fmt.Errorf("boot: %v: %s\nconsole:\n%s", err, out, c.console)
}

// exec runs a command inside the container.
func (c *container) exec(ctx context.Context, args ...string) (string, error) {
	return run(ctx, "nsenter", append([]string{"-t", strconv.Itoa(c.leader), "-a", "--"}, args...)...)
}

func (c *container) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c.leader != 0 {
		c.exec(ctx, "systemctl", "exit", "0")
	}
	done := make(chan error, 1)
	go func() { done <- c.nspawn.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		c.nspawn.Process.Kill()
		<-done
	}
	run(ctx, "umount", c.merged)
	run(ctx, "umount", filepath.Join(c.dir, "ov"))
	os.RemoveAll(c.dir)
}

// poll retries f until it succeeds or the time is up.
func poll(t *testing.T, what string, timeout time.Duration, f func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = f(); err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, err)
}
