// Command portable-generator is a systemd generator that attaches portable
// service images by their presence in the portable search directories.
//
//	portable-generator [--root=DIR] [--systemd-version=N] NORMAL [EARLY LATE]
//	portable-generator [--root=DIR] [--systemd-version=N] --dry-run [NAME...]
//	portable-generator [--root=DIR] list [--json]
//	portable-generator [--root=DIR] inspect [--json] NAME
//	portable-generator dissect [--json] PATH
//	portable-generator reconcile [--dry-run]
//	portable-generator --version
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/portable-generator/portable-generator/generator"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("portable-generator", flag.ContinueOnError)
	fl.SetOutput(stderr)
	root := fl.String("root", "/", "read everything from the tree under `DIR` as if it were /")
	sdVersion := fl.Int("systemd-version", 0, "render for systemd version `N` instead of the installed one")
	dryRun := fl.Bool("dry-run", false, "print the files that would be written (only those of the NAMEs given)")
	showVersion := fl.Bool("version", false, "print the version and exit")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "portable-generator %s\n", version)
		return 0
	}
	log := generator.NewLogger()
	log.Stderr = stderr
	cfg := generator.Config{Root: *root, SystemdVersion: *sdVersion}
	pos := fl.Args()
	switch {
	case len(pos) > 0 && pos[0] == "reconcile":
		return reconcileCmd(cfg.Root, *dryRun, pos[1:], stdout, stderr)
	case *dryRun:
		return dryRunCmd(cfg, pos, stdout, log)
	case isGeneratorInvocation(pos):
		return generate(cfg, pos[0], log)
	case len(pos) == 0:
		fmt.Fprintln(stderr, "portable-generator: expected output directories or a verb (list, inspect, dissect); see --help")
		return 2
	}
	switch pos[0] {
	case "list":
		return listCmd(cfg, pos[1:], stdout, stderr)
	case "inspect":
		return inspectCmd(cfg, pos[1:], stdout, stderr)
	case "dissect":
		return dissectCmd(pos[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "portable-generator: unknown verb %q\n", pos[0])
	return 2
}

// isGeneratorInvocation: systemd passes three absolute directories; one is
// accepted for tests, as systemd's own generators accept it.
func isGeneratorInvocation(pos []string) bool {
	if len(pos) != 1 && len(pos) != 3 {
		return false
	}
	for _, p := range pos {
		if !filepath.IsAbs(p) {
			return false
		}
	}
	return true
}

func generate(cfg generator.Config, normal string, log *generator.Logger) int {
	if why := generator.Disabled(cfg.Root, os.Getenv("SYSTEMD_IN_INITRD") == "1"); why != "" {
		log.Logf(generator.LevelDebug, "doing nothing: %s", why)
		return 0
	}
	out, _, err := generator.Generate(cfg)
	if err != nil {
		log.Logf(generator.LevelErr, "cannot read %s: %v", cfg.Root, err)
		return 0 // nothing to attach; never fail the boot over it
	}
	generator.LogOutput(log, out)
	if err := generator.Write(normal, out.Files); err != nil {
		log.Logf(generator.LevelErr, "cannot write to %s: %v", normal, err)
		return 1
	}
	return 0
}

func dryRunCmd(cfg generator.Config, names []string, stdout io.Writer, log *generator.Logger) int {
	out, _, err := generator.Generate(cfg)
	if err != nil {
		log.Logf(generator.LevelErr, "cannot read %s: %v", cfg.Root, err)
		return 1
	}
	generator.LogOutput(log, out)
	generator.WriteDryRun(stdout, generator.FilesOf(out.Files, names))
	return 0
}

func jsonFlag(name string, args []string, stderr io.Writer) (*flag.FlagSet, *bool, bool) {
	fl := flag.NewFlagSet(name, flag.ContinueOnError)
	fl.SetOutput(stderr)
	js := fl.Bool("json", false, "print JSON")
	return fl, js, fl.Parse(args) == nil
}

func listCmd(cfg generator.Config, args []string, stdout, stderr io.Writer) int {
	fl, js, ok := jsonFlag("list", args, stderr)
	if !ok || fl.NArg() != 0 {
		return 2
	}
	out, _, err := generator.Generate(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "portable-generator: %v\n", err)
		return 1
	}
	for _, w := range out.Warnings {
		fmt.Fprintf(stderr, "portable-generator: %s\n", w)
	}
	if *js {
		return printJSON(stdout, nonNil(out.Reports))
	}
	generator.WriteList(stdout, out.Reports)
	return 0
}

func inspectCmd(cfg generator.Config, args []string, stdout, stderr io.Writer) int {
	fl, js, ok := jsonFlag("inspect", args, stderr)
	if !ok || fl.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: portable-generator inspect [--json] NAME")
		return 2
	}
	name := fl.Arg(0)
	out, host, err := generator.Generate(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "portable-generator: %v\n", err)
		return 1
	}
	reports := generator.ReportsOf(out.Reports, name)
	attached := len(reports) > 0 && reports[0].State == generator.StateAttached
	if *js {
		printJSON(stdout, map[string]any{
			"name": name, "attached": attached, "entries": nonNil(reports),
			"systemdVersion": host.SystemdVersion, "architecture": host.Architecture,
			"files": fileNames(generator.FilesOf(out.Files, []string{name})),
		})
	} else {
		if len(reports) == 0 {
			fmt.Fprintf(stdout, "%s: no image of that name in %s\n", name, strings.Join(generator.SearchDirs, " "))
		}
		for _, r := range reports {
			fmt.Fprintf(stdout, "%s: %s\n", r.Path, r.State)
			if r.Reason != "" {
				fmt.Fprintf(stdout, "    reason:  %s\n", generator.OneLine(r.Reason))
			}
			if r.State == generator.StateAttached || r.State == generator.StateSkipped {
				fmt.Fprintf(stdout, "    profile: %s\n", r.Profile)
			}
			for _, u := range r.Units {
				fmt.Fprintf(stdout, "    unit:    %s\n", u)
			}
			for _, n := range r.Notices {
				fmt.Fprintf(stdout, "    notice:  %s\n", generator.OneLine(n))
			}
		}
		if attached {
			fmt.Fprintf(stdout, "files (systemd %d, %s):\n", host.SystemdVersion, host.Architecture)
			for _, f := range fileNames(generator.FilesOf(out.Files, []string{name})) {
				fmt.Fprintf(stdout, "    %s\n", f)
			}
		}
	}
	if !attached {
		return 1
	}
	return 0
}

func fileNames(files []generator.File) []string {
	out := []string{}
	for _, f := range files {
		if f.Link != "" {
			out = append(out, f.Path+" -> "+f.Link)
		} else {
			out = append(out, f.Path)
		}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func printJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return 1
	}
	return 0
}
