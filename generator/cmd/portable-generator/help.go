package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

const program = "portable-generator"

// writeHelp prints the overview: every verb and mode, every option.
func writeHelp(w io.Writer) {
	fmt.Fprintf(w, "%s [OPTIONS...] VERB ...\n\n", program)
	fmt.Fprintln(w, "Attach portable service images by their presence: a systemd generator, and the")
	fmt.Fprintln(w, "commands that show what it decides.")
	fmt.Fprintln(w, "\nVerbs:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, v := range verbs {
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimPrefix(v.synopsis, "[OPTIONS] "), v.summary)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nOptions (before or after the verb):")
	writeOptions(w, options)
	fmt.Fprintf(w, "\n'%s VERB --help' describes one verb. See the %s(8) and\n", program, program)
	fmt.Fprintf(w, "%s.conf(5) man pages for the rules and the settings.\n", program)
}

// writeVerbHelp prints one verb's synopsis, description, options and exit
// status.
func writeVerbHelp(w io.Writer, v *verb) {
	fmt.Fprintf(w, "%s %s\n\n", program, v.synopsis)
	fmt.Fprintln(w, wrap(v.about, 78))
	var opts []option
	for _, o := range options {
		if v.accepts(o.name) || o.name == "help" {
			opts = append(opts, o)
		}
	}
	fmt.Fprintln(w, "\nOptions:")
	writeOptions(w, opts)
	fmt.Fprintln(w, "\nExit status:")
	fmt.Fprintln(w, wrap(v.exitStatus, 78))
	fmt.Fprintf(w, "\nSee the %s(8) man page.\n", program)
}

func writeOptions(w io.Writer, opts []option) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, o := range opts {
		fmt.Fprintf(tw, "  %s\t%s\n", optionSpelling(o), o.help)
	}
	tw.Flush()
}

// optionSpelling is how help and the man page show an option:
// "-h --help", "--root=DIR", "--json[=MODE]".
func optionSpelling(o option) string {
	s := "--" + o.name
	switch {
	case o.arg != "" && o.optionalArg:
		s += "[=" + o.arg + "]"
	case o.arg != "":
		s += "=" + o.arg
	}
	if o.short != 0 {
		s = "-" + string(o.short) + " " + s
	}
	return s
}

// wrap fills text into lines of at most width bytes, indented by two.
func wrap(text string, width int) string {
	var b strings.Builder
	line := 2
	b.WriteString("  ")
	for i, word := range strings.Fields(text) {
		if i > 0 && line+1+len(word) > width {
			b.WriteString("\n  ")
			line = 2
		} else if i > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += len(word)
	}
	return b.String()
}
