// Command counter is an example portable service: it counts its own starts
// in $STATE_DIRECTORY/count (a StateDirectory= under DynamicUser, so the
// count survives restarts and image upgrades), prints who and what it is,
// and waits for SIGTERM.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	dir := os.Getenv("STATE_DIRECTORY")
	if dir == "" {
		fmt.Fprintln(os.Stderr, "counter: STATE_DIRECTORY is not set (run it with StateDirectory=)")
		os.Exit(1)
	}
	countFile := filepath.Join(dir, "count")
	n := 0
	if b, err := os.ReadFile(countFile); err == nil {
		n, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	n++
	if err := os.WriteFile(countFile, []byte(strconv.Itoa(n)+"\n"), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "counter:", err)
		os.Exit(1)
	}
	line := fmt.Sprintf("counter version=%s build=%s start=%d uid=%d", osRelease("VERSION_ID"), osRelease("BUILD_ID"), n, os.Getuid())
	fmt.Println(line)
	os.WriteFile(filepath.Join(dir, "started"), []byte(line+"\n"), 0o600)
	if len(os.Args) > 1 && os.Args[1] == "--oneshot" {
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}

// osRelease reads one field of the image's own os-release.
func osRelease(key string) string {
	f, err := os.Open("/usr/lib/os-release")
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), key+"="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}
