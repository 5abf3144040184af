package dissect

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// osReleaseSample holds 17 assignments on which systemd's env-file parser
// and ini-style parsers disagree (see the project's notes on ini.v1: 8 of
// 17 keys wrong). TestAgreesWithSystemdDissect puts it in every image it
// has systemd-dissect read.
const osReleaseSample = `# comment
NAME="Test \"Portable\" \$HOME \\ 1.0"
ANSI_COLOR="0;38;2;60;110;180"
HOME_URL="https://example.com/#anchor"
BUG_URL=https://example.com/a#b
BACKTICK="run \` + "`cmd`" + `"
SPACES_UNQUOTED=foo\ bar
LOGO=fedora-logo-icon ; trailing
SINGLE='a \n "b"'
CONCAT="a"'b'c
TRAIL=value   
KEEP_BACKSLASH="a\qb"
  INDENTED=yes
1BAD=no
ID=first
ID=last
NOEQUALS
EMPTY=
`

func TestParseOSRelease(t *testing.T) {
	got, err := ParseOSRelease([]byte(osReleaseSample))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"NAME":            `Test "Portable" $HOME \ 1.0`,
		"ANSI_COLOR":      "0;38;2;60;110;180",
		"HOME_URL":        "https://example.com/#anchor",
		"BUG_URL":         "https://example.com/a#b",
		"BACKTICK":        "run `cmd`",
		"SPACES_UNQUOTED": "foo bar",
		"LOGO":            "fedora-logo-icon ; trailing",
		"SINGLE":          `a \n "b"`,
		"CONCAT":          "abc",
		"TRAIL":           "value",
		"KEEP_BACKSLASH":  `a\qb`,
		"INDENTED":        "yes",
		"1BAD":            "no", // systemd keeps a key that is no shell name
		"ID":              "last",
		"EMPTY":           "",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func FuzzParseOSRelease(f *testing.F) {
	f.Add([]byte("ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME='x y'\n"))
	f.Add([]byte("A=\"unterminated\nB=\\\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseOSRelease(b)
		if err != nil {
			return
		}
		for k, v := range m {
			if k == "" || strings.ContainsAny(k, "\n\r") || strings.Trim(k, " \t") != k || !validUTF8(k) || !validUTF8(v) {
				t.Fatalf("key %q (value %q) accepted", k, v)
			}
		}
	})
}
