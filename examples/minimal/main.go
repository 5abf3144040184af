// Command minimal is the runtime of the example base image "minimal",
// which apps attach to as small extension images (the shape of systemd's
// own portable-services tests): one binary in the base, each app's unit
// and data in its extension.
//
// `minimal APP [VALUE]` prints what the service sees through the layers
// (the base's MARKER and IMAGE_VERSION, the app's /opt/APP/message from
// its system extension, /etc/APP/message from a configuration extension)
// and, given VALUE, writes it to $STATE_DIRECTORY/foo, as the test apps
// do, and the line to $STATE_DIRECTORY/seen, so both are seen on the host
// after the service is gone.
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: minimal APP [VALUE]")
		os.Exit(2)
	}
	app := os.Args[1]
	line := fmt.Sprintf("%s marker=%s base=%s message=%s conf=%s", app,
		osRelease("MARKER"), osRelease("IMAGE_VERSION"), read("/opt/"+app+"/message"), read("/etc/"+app+"/message"))
	if len(os.Args) > 2 {
		dir := os.Getenv("STATE_DIRECTORY")
		if dir == "" {
			fmt.Fprintln(os.Stderr, "minimal: STATE_DIRECTORY is not set (run it with StateDirectory=)")
			os.Exit(1)
		}
		line += " state=" + os.Args[2]
		// foo holds the value, as the apps of systemd's tests write it;
		// seen the whole line, for a test to read without the journal.
		for name, content := range map[string]string{"foo": os.Args[2], "seen": line} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content+"\n"), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "minimal:", err)
				os.Exit(1)
			}
		}
	}
	fmt.Println(line)
}

// read returns a file's first line, "-" when there is none.
func read(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "-"
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return first
}

// osRelease reads one field of the base image's os-release.
func osRelease(key string) string {
	f, err := os.Open("/usr/lib/os-release")
	if err != nil {
		return "-"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), key+"="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return "-"
}
