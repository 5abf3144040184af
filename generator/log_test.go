package generator

import (
	"bytes"
	"regexp"
	"testing"
)

// On a real boot the generator's lines reach the journal through the
// kernel log, each a record "<PRIORITY>portable-generator[PID]: TEXT". At
// the default level a skipped image is one record at warning priority and
// an attached one none (quiet on success) but its warnings (a typo in its
// settings file), at every run; SYSTEMD_LOG_LEVEL=debug adds the
// attachment at debug.
func TestKmsgRecords(t *testing.T) {
	reports := []Report{
		{Name: "foo", State: StateAttached, Path: "/var/lib/portables/foo.raw", Profile: "default", Units: []string{"foo.service"},
			Warnings: []string{"/etc/systemd/portable/foo.portable:2: unknown key Enabled= ignored"}},
		{Name: "bar", State: StateSkipped, Path: "/var/lib/portables/bar.raw", Reason: "no os-release in the image"},
	}
	for _, tc := range []struct {
		level string
		want  string
	}{
		{"", `^<4>portable-generator\[\d+\]: foo: /var/lib/portables/foo\.raw: /etc/systemd/portable/foo\.portable:2: unknown key Enabled= ignored\n` +
			`<4>portable-generator\[\d+\]: bar: /var/lib/portables/bar\.raw: skipped: no os-release in the image\n$`},
		{"debug", `^<7>portable-generator\[\d+\]: foo: /var/lib/portables/foo\.raw: attached foo\.service with profile default\n` +
			`<4>portable-generator\[\d+\]: foo: /var/lib/portables/foo\.raw: /etc/systemd/portable/foo\.portable:2: unknown key Enabled= ignored\n` +
			`<4>portable-generator\[\d+\]: bar: /var/lib/portables/bar\.raw: skipped: no os-release in the image\n$`},
	} {
		t.Setenv("SYSTEMD_LOG_LEVEL", tc.level)
		var kmsg, stderr bytes.Buffer
		log := NewLogger()
		log.Kmsg, log.Stderr = &kmsg, &stderr
		LogReports(log, reports)
		if !regexp.MustCompile(tc.want).Match(kmsg.Bytes()) {
			t.Errorf("SYSTEMD_LOG_LEVEL=%q: the kernel log got:\n%s", tc.level, kmsg.String())
		}
	}
}
