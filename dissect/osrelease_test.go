package dissect

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The cases are the ones systemd's env-file parser and ini-style parsers
// disagree on (see the project's notes on ini.v1: 8 of 17 keys wrong).
func TestParseOSRelease(t *testing.T) {
	in := `# comment
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
	got, err := ParseOSRelease([]byte(in))
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
		for k := range m {
			if !validEnvName(k) {
				t.Fatalf("invalid key %q accepted", k)
			}
		}
	})
}
