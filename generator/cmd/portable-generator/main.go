// Command portable-generator is a systemd generator that attaches portable
// service images by their presence in the portable search directories,
// and the commands that show what it decides:
//
//	portable-generator [OPTIONS] NORMAL [EARLY LATE]
//	portable-generator [OPTIONS] list [--json]
//	portable-generator [OPTIONS] inspect [--json] NAME
//	portable-generator [OPTIONS] --dry-run [NAME...]
//	portable-generator dissect [--json] PATH
//	portable-generator [OPTIONS] reconcile [--dry-run]
//	portable-generator --help | VERB --help | --version
//
// The verbs and options are defined once, in the tables of cli.go; the man
// pages and the shell completions are tested against them.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/portable-generator/portable-generator/generator"
	"github.com/portable-generator/portable-generator/internal/text"
)

func main() {
	generator.TuneCollector()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses shared by the verbs; inspect gives 1 its own meaning
// (not attached).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func run(args []string, stdout, stderr io.Writer) int {
	inv, err := parse(args)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "%s: %s\n", program, ue.msg)
			return exitUsage
		}
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return exitFailure
	}
	inv.stdout, inv.stderr = stdout, stderr
	switch {
	case inv.version:
		fmt.Fprintf(stdout, "%s %s\n", program, buildVersion())
		return exitOK
	case inv.help && inv.verb != nil:
		writeVerbHelp(stdout, inv.verb)
		return exitOK
	case inv.help:
		writeHelp(stdout)
		return exitOK
	}
	return inv.verb.run(inv)
}

// config is the generator's configuration from the options.
func (inv *invocation) config() generator.Config {
	return generator.Config{Root: inv.root, SystemdVersion: inv.systemdVersion}
}

// generate plans as the generator would, for the verbs that show it. Run
// by another user than root, what that user may not read (the search
// directories are root's) shows as errors the generator would not meet:
// say so once.
func (inv *invocation) generate() (generator.Output, *generator.Inventory, error) {
	if os.Geteuid() != 0 {
		inv.errorf("not running as root: what this user may not read shows as errors the generator, which runs as root, does not meet")
	}
	return generator.Generate(inv.config())
}

// logger logs to the invocation's stderr (and to the kernel log when
// systemd runs us).
func (inv *invocation) logger() *generator.Logger {
	log := generator.NewLogger()
	log.Stderr = inv.stderr
	return log
}

// errorf prints a message naming the program, on one line: what it
// quotes (names, paths, reasons) may come from an image.
func (inv *invocation) errorf(format string, args ...any) {
	fmt.Fprintf(inv.stderr, "%s: %s\n", program, text.Escape(fmt.Sprintf(format, args...)))
}
