package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/generator/internal/host"
	"github.com/portable-generator/portable-generator/profiles"
)

// The man pages' sources, relative to this package.
const (
	manPage  = "../../../dist/man/portable-generator.8.md"
	confPage = "../../../dist/man/portable-generator.conf.5.md"
	readme   = "../../../README.md"
)

// manSection returns the definition-list terms of one "# TITLE" section of
// a go-md2man source: the lines that start a definition (the next line
// starts with ": ").
func manSection(t *testing.T, file, title string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var terms []string
	in := false
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "# ") {
			in = l == "# "+title
			continue
		}
		if in && i+1 < len(lines) && strings.HasPrefix(lines[i+1], ": ") {
			terms = append(terms, l)
		}
	}
	if len(terms) == 0 {
		t.Fatalf("%s: no section %q with definitions", file, title)
	}
	return terms
}

// sorted returns a sorted copy without duplicates.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// Every verb the command line knows has its entry under COMMANDS, and
// nothing else does; the SYNOPSIS names each.
func TestManPageVerbs(t *testing.T) {
	var documented []string
	for _, term := range manSection(t, manPage, "COMMANDS") {
		first := strings.Trim(strings.Fields(term)[0], "`*")
		if first == "NORMAL" {
			first = "generator"
		}
		documented = append(documented, first)
	}
	var known []string
	for _, v := range verbs {
		known = append(known, v.name)
	}
	if !slices.Equal(sorted(documented), sorted(known)) {
		t.Errorf("portable-generator(8) COMMANDS documents %q; the code knows %q", sorted(documented), sorted(known))
	}
	b, _ := os.ReadFile(manPage)
	synopsis, _, _ := strings.Cut(strings.SplitN(string(b), "# SYNOPSIS", 2)[1], "\n# ")
	for _, v := range verbs {
		if v.name != "generator" && !strings.Contains(synopsis, "**"+v.name+"**") {
			t.Errorf("portable-generator(8) SYNOPSIS lacks %s", v.name)
		}
	}
}

// Every option has its entry under OPTIONS, and nothing else does.
func TestManPageOptions(t *testing.T) {
	var documented []string
	dashes := regexp.MustCompile("`(-[a-z]|--[a-z-]+)`")
	for _, term := range manSection(t, manPage, "OPTIONS") {
		for _, m := range dashes.FindAllStringSubmatch(term, -1) {
			documented = append(documented, m[1])
		}
	}
	var known []string
	for _, o := range options {
		known = append(known, "--"+o.name)
		if o.short != 0 {
			known = append(known, "-"+string(o.short))
		}
	}
	if !slices.Equal(sorted(documented), sorted(known)) {
		t.Errorf("portable-generator(8) OPTIONS documents %q; the code knows %q", sorted(documented), sorted(known))
	}
}

// Every settings key the parser knows has its entry in
// portable-generator.conf(5), and nothing else does.
func TestManPageSettingsKeys(t *testing.T) {
	var documented []string
	key := regexp.MustCompile("^`([A-Za-z]+)=`")
	for _, term := range manSection(t, confPage, "["+strings.ToUpper(host.SettingsSection)+"] SECTION OPTIONS") {
		m := key.FindStringSubmatch(term)
		if m == nil {
			t.Errorf("portable-generator.conf(5): %q is not a KEY= entry", term)
			continue
		}
		documented = append(documented, m[1])
	}
	if !slices.Equal(documented, host.SettingsKeys) {
		t.Errorf("portable-generator.conf(5) documents %q; the parser knows %q (in that order)", documented, host.SettingsKeys)
	}
}

// codeBlocks returns the code blocks of a Markdown file: fenced (```) and
// indented by four spaces (the man pages' examples), without the fence or
// the indentation, each with the line it starts on.
func codeBlocks(t *testing.T, file string) map[int]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[int]string{}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		var block []string
		switch {
		case strings.HasPrefix(lines[i], "```"):
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
				block = append(block, lines[i])
			}
		case strings.HasPrefix(lines[i], "    ") && (i == 0 || strings.TrimSpace(lines[i-1]) == ""):
			for ; i < len(lines) && strings.HasPrefix(lines[i], "    "); i++ {
				block = append(block, lines[i][4:])
			}
		default:
			continue
		}
		blocks[start] = strings.Join(block, "\n") + "\n"
	}
	return blocks
}

// Every settings file the README and the man pages show is
// read by the generator as the text says: no error, no warning, and a
// profile that exists. An admin copies these; a comment after a value
// (not systemd's syntax) once made the README's example skip the image.
func TestSettingsExamplesParse(t *testing.T) {
	n := 0
	for _, file := range []string{readme, manPage, confPage} {
		for line, block := range codeBlocks(t, file) {
			if !slices.Contains(strings.Split(block, "\n"), "["+host.SettingsSection+"]") {
				continue
			}
			n++
			where := fmt.Sprintf("%s:%d", file, line)
			var s host.Settings
			if err := host.ParseSettings(&s, where, []byte(block)); err != nil {
				t.Errorf("%v\n%s", err, block)
				continue
			}
			if len(s.Warnings) > 0 {
				t.Errorf("%s: %q\n%s", where, s.Warnings, block)
			}
			if _, ok := profiles.Builtin(s.Profile, 257); s.Profile != "" && !ok {
				t.Errorf("%s: Profile=%s is no profile\n%s", where, s.Profile, block)
			}
		}
	}
	if n < 5 {
		t.Errorf("found %d settings examples; the README and the man page show more", n)
	}
}
