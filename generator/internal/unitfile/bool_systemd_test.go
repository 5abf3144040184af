package unitfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/boolean"
	"github.com/portable-generator/portable-generator/internal/systemdtest"
)

// boolean.Parse against the real thing: every spelling of boolSpellings is
// the value of two boolean settings of one service, loaded by systemd 252
// and 257 in test mode. PrivateNetwork= defaults to no and SendSIGKILL= to
// yes, so the dump tells true (yes, yes), false (no, no) and a value
// systemd rejects (the defaults: no, yes) apart.
func TestParseBoolAgainstSystemd(t *testing.T) {
	spellings := boolSpellings()
	var contents []string
	for _, s := range spellings {
		contents = append(contents, "[Service]\nExecStart=/bin/true\nPrivateNetwork="+s+"\nSendSIGKILL="+s+"\n")
	}
	base, names, top := writeUnits(t, "pgbool", ".service", contents)
	for _, j := range systemdtest.All(t) {
		t.Run(fmt.Sprint(j.Version), func(t *testing.T) {
			dump := j.Load(t, base, []string{"units"}, top)
			for i, s := range spellings {
				u := dump[names[i]]
				pn, kill := u["PrivateNetwork"], u["SendSIGKILL"]
				if len(pn) != 1 || len(kill) != 1 {
					t.Fatalf("%q: PrivateNetwork %q, SendSIGKILL %q in the dump", s, pn, kill)
				}
				var theirs string
				switch pn[0] + " " + kill[0] {
				case "yes yes":
					theirs = "true"
				case "no no":
					theirs = "false"
				case "no yes":
					theirs = "rejected"
				default:
					t.Fatalf("%q: PrivateNetwork=%s SendSIGKILL=%s: not one value", s, pn[0], kill[0])
				}
				ours := "rejected"
				if v, ok := boolean.Parse(s); ok {
					ours = fmt.Sprint(v)
				}
				if ours != theirs {
					t.Errorf("boolean.Parse(%q): %s, systemd %d: %s", s, ours, j.Version, theirs)
				}
			}
		})
	}
}

// boolSpellings are the values compared: each word systemd knows in
// several cases, the words cut short or grown, other numbers, words of
// other tools and languages, blanks inside, and letters that only look
// like ASCII or fold to it in Unicode. A value cannot start or end in a
// blank in a unit file (the line is trimmed), nor end in a backslash.
func boolSpellings() []string {
	words := []string{"1", "yes", "y", "true", "t", "on", "0", "no", "n", "false", "f", "off"}
	var out []string
	for _, w := range words {
		alternating := []byte(w)
		for i := range alternating {
			if i%2 == 1 {
				alternating[i] = strings.ToUpper(string(alternating[i]))[0]
			}
		}
		out = append(out, w, strings.ToUpper(w), strings.ToUpper(w[:1])+w[1:], string(alternating), w+"s", w+"1")
		if len(w) > 1 {
			out = append(out, w[:len(w)-1], w[1:], w[:1]+" "+w[1:])
		}
	}
	out = append(out, "2", "-1", "01", "00", "10", "+1", "1.0", "0x1", "enable", "disable", "enabled", "ja", "nein", "oui",
		"yes no", "yes\tno", "yeſ", "ｙｅｓ", "ON\u00a0x", "\u212Aon", "tru\u0435", "İ")
	seen := map[string]bool{}
	var uniq []string
	for _, s := range out {
		if !seen[s] {
			seen[s] = true
			uniq = append(uniq, s)
		}
	}
	return uniq
}

// writeUnits writes one unit of each content, named PREFIX-N.SUFFIX, into
// the directory "units" of a new world-readable base (systemd --test runs
// as nobody), with a target that wants them all. It returns the base, the
// units' names and the target's.
func writeUnits(t *testing.T, prefix, suffix string, contents []string) (base string, names []string, top string) {
	t.Helper()
	base, err := os.MkdirTemp("", prefix+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, c := range contents {
		names = append(names, fmt.Sprintf("%s-%d%s", prefix, i, suffix))
		writeWorldReadable(t, filepath.Join(base, "units", names[i]), c)
	}
	top = prefix + "-all.target"
	writeWorldReadable(t, filepath.Join(base, "units", top), "[Unit]\nWants="+strings.Join(names, " ")+"\n")
	return base, names, top
}

func writeWorldReadable(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
