package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An image with several refused lines is named with all of them, each with
// what lifts it, wherever an admin looks: the generator's log line (one
// line), inspect and inspect --json; list gives the count and the first.
func TestEveryRefusalShown(t *testing.T) {
	root := testRoot(t)
	if err := os.WriteFile(filepath.Join(root, "var/lib/portables/foo/usr/lib/systemd/system/foo.service"),
		[]byte("[Service]\nExecStartPre=+/bin/true\nExecStart=/bin/true\nUser=messagebus\nEnvironmentFile=/etc/secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := []string{"--root=" + root, "--systemd-version=252"}
	// Each refused line and every way named to lift it.
	lifts := []string{
		"ExecStartPre=+/bin/true", "AllowDirectives=ExecStartPre", `holding "[Service]\nExecStartPre="`,
		"User=messagebus", "AllowDirectives=User", "Claim=messagebus", `holding "[Service]\nUser="`,
		"EnvironmentFile=/etc/secret", "AllowDirectives=EnvironmentFile", `holding "[Service]\nEnvironmentFile="`,
	}

	_, _, log := call(append(opts, t.TempDir())...)
	var lines []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "foo: /var/lib/portables/foo: skipped: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("the generator logged %d lines for foo, want one:\n%s", len(lines), log)
	}
	for _, want := range append([]string{"skipped: 3 lines refused: unit foo.service: ExecStartPre="}, lifts...) {
		if !strings.Contains(lines[0], want) {
			t.Errorf("the log line lacks %q:\n%s", want, lines[0])
		}
	}

	_, out, _ := call(append([]string{"inspect", "foo"}, opts...)...)
	for _, want := range append([]string{"foo: skipped\n", "3 lines refused"}, lifts...) {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}

	_, out, _ = call(append([]string{"list"}, opts...)...)
	var row string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "foo ") {
			row = l
		}
	}
	if !strings.Contains(row, "3 lines refused (see inspect), the first: unit foo.service: ExecStartPre=+/bin/true ") ||
		strings.Contains(row, "User=messagebus") || strings.Contains(row, "EnvironmentFile") {
		t.Errorf("list row: %q, want the count and the first refusal only", row)
	}

	_, out, _ = call(append([]string{"inspect", "--json", "foo"}, opts...)...)
	var got struct {
		Entries []struct {
			Refusals []struct {
				Unit, Directive, Value, Allow, Claim, Dropin string
				Line                                         int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Entries) != 1 {
		t.Fatalf("inspect --json: %v\n%s", err, out)
	}
	type refusal struct {
		directive, allow, claim, dropin string
		line                            int
	}
	want := []refusal{
		{"ExecStartPre", "AllowDirectives=ExecStartPre", "", "[Service]\nExecStartPre=\n", 2},
		{"User", "AllowDirectives=User", "Claim=messagebus", "[Service]\nUser=\n", 4},
		{"EnvironmentFile", "AllowDirectives=EnvironmentFile", "", "[Service]\nEnvironmentFile=\n", 5},
	}
	r := got.Entries[0].Refusals
	if len(r) != len(want) {
		t.Fatalf("inspect --json: %d refusals, want %d:\n%s", len(r), len(want), out)
	}
	for i, w := range want {
		if g := (refusal{r[i].Directive, r[i].Allow, r[i].Claim, r[i].Dropin, r[i].Line}); g != w || r[i].Unit != "foo.service" {
			t.Errorf("inspect --json refusal %d: %+v, want %+v", i, r[i], w)
		}
	}
}
