// Package debian holds the admin's files that run Debian 12's redis-server
// as a portable service (README, "Running a distribution's package as a
// portable service"); integration/debian_test.go installs them as they are.
package debian

import (
	"os"
	"strings"
	"testing"
)

// The README shows these files exactly, each in the code block after the
// line that names where it goes.
func TestREADMEShowsTheFiles(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := string(readme)
	start := strings.Index(sec, "### Running a distribution's package as a portable service\n")
	if start < 0 {
		t.Fatal("the README has no section \"Running a distribution's package as a portable service\"")
	}
	sec = sec[start:]
	for _, next := range []string{"\n## ", "\n### "} {
		if end := strings.Index(sec[1:], next); end >= 0 {
			sec = sec[:end+1]
		}
	}
	for file, where := range map[string]string{
		"redis-server.portable":                "/etc/systemd/portable/redis-server.portable",
		"redis-server.service.d/override.conf": "/etc/systemd/system/redis-server.service.d/override.conf",
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(sec, "`"+where+"`:\n\n```\n"+string(b)+"```\n") {
			t.Errorf("the README's section does not show %s as %s, byte for byte", file, where)
		}
	}
}
