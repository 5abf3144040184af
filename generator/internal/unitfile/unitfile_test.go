package unitfile

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []Assignment
	}{
		{
			name: "comments, blanks, CRLF and spaces around =",
			in:   "# comment\n; also\n[Unit]\r\nDescription = A thing \r\n\n[Service]\nExecStart=/bin/x\n",
			want: []Assignment{
				{"Unit", "Description", "A thing", 4, ""},
				{"Service", "ExecStart", "/bin/x", 7, ""},
			},
		},
		{
			// systemd.syntax(7): comment lines inside a continuation are skipped,
			// and the backslash turns into a space.
			name: "continuation with an inner comment",
			in:   "[Service]\nExecStart=/bin/echo \\\n# not here\n  --flag \\\n  --last\n",
			want: []Assignment{{"Service", "ExecStart", "/bin/echo    --flag    --last", 2, ""}},
		},
		{
			name: "an escaped backslash does not continue",
			in:   "[Service]\nEnvironment=A=\\\\\nUser=x\n",
			want: []Assignment{{"Service", "Environment", "A=\\\\", 2, ""}, {"Service", "User", "x", 3, ""}},
		},
		{
			name: "a # after the start of a line is part of the value",
			in:   "[Unit]\nDocumentation=https://example.com/#anchor ; not a comment\n",
			want: []Assignment{{"Unit", "Documentation", "https://example.com/#anchor ; not a comment", 2, ""}},
		},
		{
			name: "empty assignments are kept (they reset lists)",
			in:   "[Service]\nExecStart=\nExecStart=/bin/y\n",
			want: []Assignment{{"Service", "ExecStart", "", 2, ""}, {"Service", "ExecStart", "/bin/y", 3, ""}},
		},
		{
			// systemd's read_line ends a line at '\n', '\r' or NUL; "\r\n"
			// and "\n\r" are one line end, "\n\n" two.
			name: "a lone carriage return and a NUL end lines",
			in:   "[Unit]\nDescription=x\rConflicts=y.service\n[Service]\nEnvironment=A=1\x00User=root\n\rGroup=g\n",
			want: []Assignment{
				{"Unit", "Description", "x", 2, ""}, {"Unit", "Conflicts", "y.service", 3, ""},
				{"Service", "Environment", "A=1", 5, ""}, {"Service", "User", "root", 6, ""}, {"Service", "Group", "g", 7, ""},
			},
		},
		{
			name: "a continuation across CRLF",
			in:   "[Service]\r\nExecStart=/bin/true \\\r\n  --x\r\nUser=u\r\n",
			want: []Assignment{{"Service", "ExecStart", "/bin/true    --x", 2, ""}, {"Service", "User", "u", 4, ""}},
		},
		{
			// systemd drops the first byte-order mark found at a line start;
			// a second one stays part of the key (which systemd then does
			// not know).
			name: "byte-order marks",
			in:   "\xef\xbb\xbf[Service]\nUser=a\n\xef\xbb\xbfGroup=b\n",
			want: []Assignment{{"Service", "User", "a", 2, ""}, {"Service", "\ufeffGroup", "b", 3, ""}},
		},
		{
			name: "lines systemd ignores",
			in:   "Before=section.service\n[Unit]\nno equals sign\n",
			want: nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, f.Assignments); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseProblems(t *testing.T) {
	f, err := Parse([]byte("Before=x\n[Unit]\nbogus\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Problems) != 2 {
		t.Errorf("got problems %q, want 2", f.Problems)
	}
}

func TestParseRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"unterminated section": "[Unit\nA=b\n",
		"over-long line":       "[Service]\nEnvironment=" + strings.Repeat("x", MaxLine) + "\n",
		"invalid UTF-8":        "[Unit]\nDescription=a\xffb\n",
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Long lines below the limit are fine (go-systemd stops at 2048 bytes).
	if _, err := Parse([]byte("[Service]\nEnvironment=" + strings.Repeat("x", 100000) + "\n")); err != nil {
		t.Errorf("100 kB line: %v", err)
	}
}

func TestValuesAndWords(t *testing.T) {
	f, err := Parse([]byte("[Install]\nWantedBy=a.target b.target\nWantedBy=\nWantedBy=c.target \"d e.target\"\nAlias=x.service\nAlias=y.service\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Words("Install", "WantedBy")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"c.target", "d e.target"}, got); diff != "" {
		t.Errorf("WantedBy (-want +got)\n%s", diff)
	}
	if v, ok := f.Last("Install", "Alias"); !ok || v != "y.service" {
		t.Errorf("Last(Alias) = %q, %v", v, ok)
	}
}

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "a b\tc", want: []string{"a", "b", "c"}},
		{in: `'a b' "c d"e`, want: []string{"a b", "c de"}},
		{in: `a\ b`, want: []string{"a b"}},
		{in: `"unbalanced`, bad: true},
		{in: `trailing\`, bad: true},
		{in: "", want: nil},
	} {
		got, err := SplitWords(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err = %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%q (-want +got)\n%s", tc.in, diff)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("[Unit]\nDescription=x\n[Service]\nExecStart=/bin/a \\\n# c\n b\n"))
	f.Add([]byte("[Install]\nWantedBy=\"a b\" c\\\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := Parse(data)
		if err != nil {
			return
		}
		for _, a := range u.Assignments {
			if a.Section == "" || a.Key == "" {
				t.Fatalf("assignment without section or key: %+v", a)
			}
			SplitWords(a.Value)
		}
	})
}
