package unitfile

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/systemdtest"
)

// syntaxCases are unit files on whose syntax a reader could go wrong, as
// the contents of a target: what systemd loads as its Description= shows
// how it read them.
var syntaxCases = map[string]string{
	"plain":                                 "[Unit]\nDescription=plain\n",
	"CRLF":                                  "[Unit]\r\nDescription=crlf\r\n",
	"lone CR":                               "[Unit]\rDescription=cr\rDescription=cr2",
	"LFCR":                                  "[Unit]\n\rDescription=lfcr\n\r",
	"NUL ends a line":                       "[Unit]\nDescription=before\x00after\n",
	"NUL then newline":                      "[Unit]\nDescription=nul\x00\nDescription=next\n",
	"BOM":                                   "\xef\xbb\xbf[Unit]\nDescription=bom\n",
	"BOM after a comment":                   "#c\n\xef\xbb\xbf[Unit]\nDescription=bom2\n",
	"second BOM":                            "\xef\xbb\xbf[Unit]\n\xef\xbb\xbfDescription=bom3\n",
	"continuation":                          "[Unit]\nDescription=a \\\n  b\n",
	"continuation without blank":            "[Unit]\nDescription=a\\\nb\n",
	"comment inside a continuation":         "[Unit]\nDescription=a\\\n#c\n;d\nb\n",
	"continuation at the end":               "[Unit]\nDescription=eof\\",
	"continuation then blank line":          "[Unit]\nDescription=x\\\n\nDescription=y\n",
	"escaped backslash at the end":          "[Unit]\nDescription=a\\\\\nDescription=b\n",
	"three backslashes":                     "[Unit]\nDescription=a\\\\\\\nb\n",
	"blank after the backslash":             "[Unit]\nDescription=a\\ \nDescription=b\n",
	"blanks around key and value":           "[Unit]\n  Description  =  spaced  \n",
	"tabs":                                  "[Unit]\n\tDescription\t=\ttabbed\t\n",
	"last assignment wins":                  "[Unit]\nDescription=first\nDescription=second\n",
	"empty resets":                          "[Unit]\nDescription=first\nDescription=\n",
	"outside a section":                     "Description=outside\n[Unit]\n",
	"lower-case section":                    "[unit]\nDescription=lower\n",
	"unknown section":                       "[Unit]\nDescription=known\n[X-Other]\nDescription=other\n",
	"section repeated":                      "[Unit]\nDescription=one\n[Install]\n[Unit]\nDescription=two\n",
	"unterminated header":                   "[Unit\nDescription=x\n",
	"junk after header":                     "[Unit] x\nDescription=junk\n",
	"blanks inside header":                  "[ Unit ]\nDescription=inner\n",
	"empty header":                          "[]\n[Unit]\nDescription=empty-header\n",
	"brackets in header":                    "[Un[it]\nDescription=x\n",
	"quote in header":                       "[Un\"it]\nDescription=x\n",
	"single quote in header":                "[Un'it]\nDescription=x\n",
	"backslash in header":                   "[Un\\it]\nDescription=x\n",
	"control character in header":           "[Un\x01it]\nDescription=x\n",
	"DEL in header":                         "[Un\x7fit]\nDescription=x\n",
	"tab in header":                         "[Un\tit]\nDescription=x\n",
	"invalid UTF-8":                         "[Unit]\nDescription=caf\xe9\n",
	"invalid UTF-8 in a comment":            "[Unit]\n# caf\xe9\nDescription=ok\n",
	"invalid UTF-8 in an ignored line":      "[Unit]\ncaf\xe9\nDescription=ok\n",
	"a noncharacter":                        "[Unit]\nDescription=x\xef\xb7\x90\n",
	"valid UTF-8":                           "[Unit]\nDescription=café ☕\n",
	"empty key":                             "[Unit]\n=x\nDescription=ok\n",
	"no equals sign":                        "[Unit]\nDescription\nDescription=ok\n",
	"equals signs in the value":             "[Unit]\nDescription=a=b=c\n",
	"key in other case":                     "[Unit]\ndescription=lower-key\n",
	"comment after the value":               "[Unit]\nDescription=v # not a comment\n",
	"semicolon comment":                     "[Unit]\n;Description=no\nDescription=yes\n",
	"indented comment":                      "[Unit]\n   # Description=no\nDescription=yes\n",
	"quotes kept":                           "[Unit]\nDescription=\"quoted\" 'single'\n",
	"continuation of a header":              "[Unit\\\n]\nDescription=cont-header\n",
	"continuation joins two keys":           "[Unit]\nDescription=a\\\nDescription=b\n",
	"comment continued":                     "[Unit]\n#c\\\nDescription=after-comment\n",
	"empty lines and blanks":                "\n\n  \n[Unit]\n\n\t\nDescription=ok\n\n",
	"value of only blanks":                  "[Unit]\nDescription=x\nDescription=   \n",
	"backslash-CR continuation":             "[Unit]\nDescription=a\\\rb\n",
	"carriage return inside a continuation": "[Unit]\nDescription=a\\\nb\rDescription=c\n",
}

// knownDivergences are the cases on which Parse and systemd disagree
// today, each with systemd's rule (conf-parser.c). The test fails when one
// of them stops disagreeing, so that this list only shrinks.
// TODO(policy): follow these rules in Parse and empty the list.
var knownDivergences = map[string]string{
	// A section header is '[' ... ']' whose name has no control
	// character, quote, backslash or DEL (string_is_safe); the name may be
	// empty or hold brackets (then an unknown section, ignored).
	"brackets in header":          "systemd loads it",
	"empty header":                "systemd loads it",
	"quote in header":             "systemd refuses the unit",
	"single quote in header":      "systemd refuses the unit",
	"backslash in header":         "systemd refuses the unit",
	"control character in header": "systemd refuses the unit",
	"DEL in header":               "systemd refuses the unit",
	"tab in header":               "systemd refuses the unit",
	// systemd's UTF-8 test also refuses the noncharacters U+FDD0-U+FDEF
	// and U+xFFFE, U+xFFFF (unichar_is_valid).
	"a noncharacter": "systemd refuses the unit",
}

// The unit syntax parser against the real thing: every case is a target
// loaded by systemd 252 and 257 in test mode. A file we refuse must be one
// systemd does not load; a file we read must load, with the Description=
// we read last in [Unit] (systemd's default, the unit's name, when none).
func TestSyntaxAgainstSystemd(t *testing.T) {
	names := make([]string, 0, len(syntaxCases))
	for name := range syntaxCases {
		names = append(names, name)
	}
	sort.Strings(names)
	var contents []string
	for _, name := range names {
		contents = append(contents, syntaxCases[name])
	}
	base, units, top := writeUnits(t, "pgsyntax", ".target", contents)
	for _, j := range systemdtest.All(t) {
		t.Run(fmt.Sprint(j.Version), func(t *testing.T) {
			dump := j.Load(t, base, []string{"units"}, top)
			for i, name := range names {
				disagreement := disagree(dump[units[i]], units[i], syntaxCases[name])
				why, known := knownDivergences[name]
				switch {
				case known && disagreement == "":
					t.Errorf("%s: Parse now agrees with systemd %d: remove it from knownDivergences", name, j.Version)
				case known:
					t.Logf("%s: known divergence (%s): %s", name, why, disagreement)
				case disagreement != "":
					t.Errorf("%s: systemd %d: %s", name, j.Version, disagreement)
				}
			}
		})
	}
}

// disagree says how Parse's reading of a unit file differs from what
// systemd loaded, "" when it does not.
func disagree(theirs systemdtest.Unit, name, content string) string {
	state := strings.Join(theirs["Unit Load State"], " ")
	f, err := Parse([]byte(content))
	switch {
	case err != nil && state == "loaded":
		return fmt.Sprintf("we refuse it (%v), systemd loads it (Description %q)", err, theirs["Description"])
	case err != nil:
		return ""
	case state != "loaded":
		return fmt.Sprintf("systemd does not load it (Unit Load State %q), we read it", state)
	}
	want, ok := f.Last("Unit", "Description")
	if !ok || want == "" {
		want = name // systemd's default
	}
	if got := strings.Join(theirs["Description"], "\n"); got != want {
		return fmt.Sprintf("we read Description %q, systemd loaded %q", want, got)
	}
	return ""
}
