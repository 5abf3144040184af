package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A missing program skips the test, or fails it with PG_REQUIRE_ALL=1;
// either way the test goes no further. The test runs itself again as a
// child process (TESTENV_CHILD=1) to observe both outcomes from outside.
func TestUnavailable(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		NeedTool(t, "pg-no-such-tool")
		t.Log("reached past NeedTool")
		return
	}
	cases := []struct {
		requireAll string
		want       string // what `go test -v` prints in the child
	}{
		{"", "--- SKIP: TestUnavailable"},
		{"0", "--- SKIP: TestUnavailable"},
		{"1", "--- FAIL: TestUnavailable"},
	}
	for _, c := range cases {
		cmd := exec.Command(os.Args[0], "-test.run=^TestUnavailable$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", RequireAllVar+"="+c.requireAll)
		out, err := cmd.CombinedOutput()
		if !strings.Contains(string(out), c.want) {
			t.Errorf("%s=%q: want %q in the child's output:\n%s", RequireAllVar, c.requireAll, c.want, out)
		}
		if strings.Contains(string(out), "reached past NeedTool") {
			t.Errorf("%s=%q: the test went on past a missing tool:\n%s", RequireAllVar, c.requireAll, out)
		}
		if failed := err != nil; failed != (c.requireAll == "1") {
			t.Errorf("%s=%q: child failed = %v:\n%s", RequireAllVar, c.requireAll, failed, out)
		}
		if !strings.Contains(string(out), "pg-no-such-tool not installed") {
			t.Errorf("%s=%q: the message does not name the tool:\n%s", RequireAllVar, c.requireAll, out)
		}
	}
}

func TestTreeVar(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(TreeVar, dir)
	if got, ok := Tree(); got != dir || ok {
		t.Errorf("Tree() = %q, %v; want %q, false (no .complete)", got, ok, dir)
	}
	if err := os.WriteFile(dir+"/.complete", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, ok := Tree(); got != dir || !ok {
		t.Errorf("Tree() = %q, %v; want %q, true", got, ok, dir)
	}
}
