package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// An option is one --NAME the command line knows. The table below is the
// one place options are defined: parsing, --help, the man page test and the
// completion test all read it.
type option struct {
	name  string // without the dashes
	short byte   // a one-letter alias, or 0
	// arg is the value's placeholder ("DIR"); "" for a switch.
	arg string
	// optionalArg: the value may be left out (--json alone means pretty).
	optionalArg bool
	help        string
}

var options = []option{
	{name: "help", short: 'h', help: "Show this help, or the help of VERB, and exit"},
	{name: "version", help: "Show the version and exit"},
	{name: "root", arg: "DIR", help: "Read everything from the tree under DIR, as if it were /"},
	{name: "systemd-version", arg: "N", help: "Render for systemd version N instead of the installed one"},
	{name: "json", arg: "MODE", optionalArg: true, help: "Print JSON: pretty (the default), short, or off"},
	{name: "dry-run", help: "Print what would be done instead of doing it"},
}

func lookupOption(name string) *option {
	for i := range options {
		if options[i].name == name {
			return &options[i]
		}
	}
	return nil
}

// A verb is a command the first operand names. Generator mode and
// --dry-run have no verb of their own; they are entries of this table
// too (mode set), so that --help and the documentation treat every way
// of calling the program alike.
type verb struct {
	name     string
	mode     bool   // no word on the command line: generator mode, --dry-run
	synopsis string // what follows the program name
	summary  string // one line for --help
	about    string // the paragraph of VERB --help
	options  []string
	// minArgs and maxArgs bound the operands (maxArgs -1: any number).
	minArgs, maxArgs int
	run              func(*invocation) int
	// exitStatus is the paragraph on exit codes of VERB --help.
	exitStatus string
}

// Options every verb but dissect accepts: the tree and the systemd to
// plan for.
var hostOptions = []string{"root", "systemd-version"}

// verbs is filled in init: the run functions refer back to the table (for
// help), which Go's initialisation order does not allow in a literal.
var verbs []verb

func init() {
	verbs = []verb{{
		name: "list", synopsis: "[OPTIONS] list [--json[=MODE]]",
		summary: "List every image found and what became of it",
		about: "Lists every image in the search directories: attached, shadowed, superseded, masked or skipped, " +
			"with the reason; then what the last run (the boot's or a reload's: what the service manager " +
			"loaded) decided, where that differs.",
		options: append([]string{"json"}, hostOptions...), maxArgs: 0, run: listVerb,
		exitStatus: "0 when the images could be listed, 1 when the tree cannot be read, 2 on bad arguments.",
	}, {
		name: "inspect", synopsis: "[OPTIONS] inspect [--json[=MODE]] NAME",
		summary: "Show every decision for one image and the files it gets",
		about: "Shows each entry found for image NAME, its state, reason, profile and units, " +
			"the files an attached image gets, and what the last run (boot or reload) decided.",
		options: append([]string{"json"}, hostOptions...), minArgs: 1, maxArgs: 1, run: inspectVerb,
		exitStatus: "0 when NAME is attached, 1 when it is not (or unknown), 2 on errors and bad arguments.",
	}, {
		name: "dissect", synopsis: "dissect [--json[=MODE]] PATH",
		summary: "Show what the image reader sees in one image file or directory",
		about: "Reads the image at PATH without mounting it and shows its partitions, os-release and unit files. " +
			"The JSON has the keys of systemd-dissect --json=short, plus our own.",
		options: []string{"json"}, minArgs: 1, maxArgs: 1, run: dissectVerb,
		exitStatus: "0 when the image was read, 1 when it cannot be, 2 on bad arguments.",
	}, {
		name: "reconcile", synopsis: "[OPTIONS] reconcile [--dry-run]",
		summary: "Make running services match the generated units (after a reload)",
		about: "After systemctl daemon-reload: stops the units of images that are gone or masked, restarts " +
			"running units whose image or drop-ins changed, and starts units newly wanted by an active target, " +
			"as portablectl's reattach --now does; one line per unit.",
		// It acts on the running system: --root is refused at run time
		// (a message, exit 2), as its owner decided.
		options: []string{"dry-run", "root"}, maxArgs: 0, run: reconcileVerb,
		exitStatus: "0 when every action succeeded, 1 otherwise, 2 on bad arguments.",
	}, {
		name: "--dry-run", mode: true, synopsis: "[OPTIONS] --dry-run [NAME...]",
		summary: "Print the files that would be written (only NAMEs')",
		about: "Plans as the generator does and prints each file it would write, or only those of the images named. " +
			"An image named like a verb is given after --.",
		options: append([]string{"dry-run"}, hostOptions...), maxArgs: -1, run: dryRunVerb,
		exitStatus: "0 when every NAME is known and attached, 1 otherwise, 2 on bad arguments.",
	}, {
		name: "generator", mode: true, synopsis: "[OPTIONS] NORMAL [EARLY LATE]",
		summary: "Write the units into NORMAL (as systemd runs it)",
		about: "Generator mode: systemd runs the program with three absolute output directories at boot and at " +
			"every daemon-reload; one directory is accepted too. Units are written into NORMAL.",
		options: hostOptions, minArgs: 1, maxArgs: 3, run: generatorVerb,
		exitStatus: "0 unless the output cannot be written: a skipped image never fails the boot.",
	}}
}

func lookupVerb(name string) *verb {
	for i := range verbs {
		if verbs[i].name == name {
			return &verbs[i]
		}
	}
	return nil
}

// jsonMode is --json's value: "" when not asked for.
type jsonMode string

// invocation is one parsed command line.
type invocation struct {
	verb     *verb
	operands []string
	set      map[string]bool // options given, by name
	help     bool
	version  bool

	root           string
	systemdVersion int
	json           jsonMode
	dryRun         bool

	stdout, stderr io.Writer
	// journalSocket is journald's socket, for the generator's lines in a
	// container (journal.go); tests point it elsewhere.
	journalSocket string
}

// usageError is a bad command line: exit status 2 and a message, never a
// usage dump.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// parse reads a command line in systemd's manner: options before or after
// the verb, --NAME=VALUE or --NAME VALUE, -h, and -- ending the options
// (after it no word is taken for a verb).
func parse(args []string) (*invocation, error) {
	inv := &invocation{root: "/", set: map[string]bool{}, journalSocket: journalSocket}
	var words []string // operands before --, the first may be a verb
	var after []string // operands after --
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			after = args[i+1:]
			i = len(args)
		case a == "-h":
			inv.help = true
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			o := lookupOption(name)
			if o == nil {
				return nil, usagef("unknown option --%s", name)
			}
			if o.arg == "" && hasValue {
				return nil, usagef("--%s takes no value", name)
			}
			if o.arg != "" && !hasValue && !o.optionalArg {
				if i+1 >= len(args) {
					return nil, usagef("--%s needs a value (%s)", name, o.arg)
				}
				i++
				value = args[i]
			}
			if err := inv.setOption(o, value, hasValue); err != nil {
				return nil, err
			}
		case strings.HasPrefix(a, "-") && a != "-":
			return nil, usagef("unknown option %s", a)
		default:
			words = append(words, a)
		}
	}
	if len(words) > 0 {
		if v := lookupVerb(words[0]); v != nil && !v.mode {
			inv.verb, words = v, words[1:]
		}
	}
	inv.operands = append(words, after...)
	if inv.help || inv.version {
		if inv.verb == nil && inv.dryRun {
			inv.verb = lookupVerb("--dry-run")
		}
		return inv, nil
	}
	if err := inv.chooseMode(); err != nil {
		return nil, err
	}
	for name := range inv.set {
		if !inv.verb.accepts(name) {
			return nil, usagef("%s does not take --%s", inv.verb.title(), name)
		}
	}
	n := len(inv.operands)
	switch v := inv.verb; {
	case n < v.minArgs:
		return nil, usagef("%s needs %s", v.title(), operandWords(v))
	case v.maxArgs >= 0 && n > v.maxArgs:
		return nil, usagef("%s: unexpected argument %q", v.title(), inv.operands[v.maxArgs])
	}
	return inv, nil
}

// chooseMode settles what a command line without a verb word is:
// --dry-run, generator mode, or a mistake.
func (inv *invocation) chooseMode() error {
	if inv.verb != nil {
		return nil
	}
	switch {
	case inv.dryRun:
		inv.verb = lookupVerb("--dry-run")
		for _, n := range inv.operands {
			if strings.ContainsRune(n, '/') {
				return usagef("--dry-run: %q is not an image name", n)
			}
		}
	case len(inv.operands) == 0:
		return usagef("no verb given (list, inspect, dissect, reconcile, --dry-run) and no output directories; see --help")
	case strings.HasPrefix(inv.operands[0], "/"):
		inv.verb = lookupVerb("generator")
		for _, d := range inv.operands {
			if !filepath.IsAbs(d) {
				return usagef("generator mode takes absolute directories, not %q", d)
			}
		}
		if len(inv.operands) == 2 {
			return usagef("generator mode takes one or three output directories, not two")
		}
	default:
		return usagef("unknown verb %q; see --help", inv.operands[0])
	}
	return nil
}

func (inv *invocation) setOption(o *option, value string, hasValue bool) error {
	switch o.name {
	case "help":
		inv.help = true
		return nil
	case "version":
		inv.version = true
		return nil
	case "root":
		if value == "" {
			return usagef("--root needs a directory")
		}
		inv.root = value
	case "systemd-version":
		n, err := strconv.Atoi(value)
		if err != nil || n <= 0 {
			return usagef("--systemd-version=%s: not a systemd version number", value)
		}
		inv.systemdVersion = n
	case "json":
		switch {
		case !hasValue || value == "pretty":
			inv.json = "pretty"
		case value == "short":
			inv.json = "short"
		case value == "off":
			inv.json = ""
		default:
			return usagef("--json=%s: expected pretty, short or off", value)
		}
	case "dry-run":
		inv.dryRun = true
	default:
		return errors.New("option without handler: " + o.name)
	}
	inv.set[o.name] = true
	return nil
}

func (v *verb) accepts(option string) bool {
	for _, o := range v.options {
		if o == option {
			return true
		}
	}
	return false
}

// title is how messages name the verb.
func (v *verb) title() string {
	if v.name == "generator" {
		return "generator mode"
	}
	return v.name
}

// operandWords is the operands part of the synopsis, for "needs" messages.
func operandWords(v *verb) string {
	var ws []string
	for _, w := range strings.Fields(v.synopsis) {
		if w != "[OPTIONS]" && w != v.name && !strings.HasPrefix(w, "[--") {
			ws = append(ws, w)
		}
	}
	return strings.Join(ws, " ")
}
